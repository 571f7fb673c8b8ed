// Package cli holds what evidock's commands share: strict YAML config
// loading, logger set-up and exit codes, so that every binary behaves alike.
package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
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

// ExitCode returns the exit code for err.
func ExitCode(err error) int {
	var u *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &u):
		return ExitUsage
	}
	return ExitFailure
}

// LoadYAML decodes the YAML file at path into v, refusing keys that v does
// not have, so that a misspelt setting is an error instead of a silent
// default. Errors name the file and are *UsageError.
func LoadYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return &UsageError{fmt.Errorf("config: %w", err)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && err != io.EOF {
		return &UsageError{fmt.Errorf("config %s: %w", path, err)}
	}
	return nil
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
