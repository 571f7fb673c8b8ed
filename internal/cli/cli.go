// Package cli holds what evidock's commands share: strict YAML config
// loading, logger set-up and exit codes, so that every binary behaves alike.
package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Exit codes of every evidock command.
const (
	ExitOK      = 0 // done
	ExitFailure = 1 // the work failed; the message says why
	ExitUsage   = 2 // bad flags or config; nothing was done
	ExitTimeout = 3 // gave up waiting
)

// UsageError marks an error as the caller's mistake (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// Usage marks err, if not nil, as a usage or configuration error.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// ExitCode returns the exit code for err: ExitOK for nil and for a request
// for help, ExitUsage for a *UsageError, ExitFailure otherwise.
func ExitCode(err error) int {
	var u *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &u):
		return ExitUsage
	}
	return ExitFailure
}

// Exit reports err on w as "prog: message" and returns its exit code; a
// usage error gets a hint to the help.
func Exit(w io.Writer, prog string, err error) int {
	code := ExitCode(err)
	switch code {
	case ExitOK:
	case ExitUsage:
		fmt.Fprintf(w, "%s: %v\nRun '%s help' for usage.\n", prog, err, prog)
	default:
		fmt.Fprintf(w, "%s: %v\n", prog, err)
	}
	return code
}

// Parse parses args with fs, allowing flags after positional arguments
// ("evidock clip HASH --json"), and returns the positional arguments. A
// flag error is a *UsageError; -h and --help give flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard) // errors are reported once, by Exit
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, Usage(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// LoadYAML decodes the one YAML document in the file at path into v,
// refusing keys that v does not have, so that a misspelt setting is an error
// instead of a silent default. Errors are *UsageError, start with
// "config PATH:" and name the key at fault.
func LoadYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return &UsageError{fmt.Errorf("config: %w", err)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return Usagef("config %s: %s", path, yamlError(err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Usagef("config %s: holds more than one YAML document; keep only one", path)
	}
	return nil
}

var unknownField = regexp.MustCompile(`^(line \d+: )field (\S+) not found in type \S+$`)

// yamlError rewords the YAML decoder's messages for people editing a config.
func yamlError(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = unknownField.ReplaceAllString(m, `${1}unknown key "$2" (check its spelling and indentation against the sample in configs/)`)
	}
	return strings.Join(msgs, "; ")
}

// NewLogger returns a text logger on w at level ("debug", "info", "warn" or
// "error"), or a *UsageError naming the bad level.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, Usagef("log_level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Version is set at build time with -ldflags "-X evidock/internal/cli.Version=...".
var Version = "dev"
