package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"evidock/internal/cli"
)

// Exit codes of evidock-bridge, those of every evidock command.
const (
	ExitOK      = cli.ExitOK
	ExitFailure = cli.ExitFailure // the command ran and failed
	ExitUsage   = cli.ExitUsage   // the command line was wrong; nothing was done
)

// Command is one subcommand of evidock-bridge.
type Command interface {
	// ParseFlags parses the arguments after the command name. It returns
	// flag.ErrHelp if help was asked for and a *UsageError if they are wrong.
	ParseFlags(ctx context.Context, args []string) error
	// Run does the work. It returns what went wrong, wrapped.
	Run(ctx context.Context) error
	// Usage writes the command's help text to w.
	Usage(w io.Writer)
}

// commandDef names a subcommand and says how to make it.
type commandDef struct {
	name, summary string
	new           func(m *Main) Command
}

// commands are the subcommands, in the order usage lists them.
var commands = []commandDef{
	{"ports", "list serial ports and mark recorders", func(m *Main) Command { return &PortsCommand{Stdout: m.Stdout} }},
	{"info", "identify a recorder: info, clock, battery, storage", func(m *Main) Command { return &InfoCommand{Stdout: m.Stdout} }},
	{"set-info", "bind a recorder to an officer and unit (password)", func(m *Main) Command { return &SetInfoCommand{Stdout: m.Stdout} }},
	{"sync-time", "set a recorder's clock to this PC's (password)", func(m *Main) Command { return &SyncTimeCommand{Stdout: m.Stdout} }},
	{"msdc", "switch a recorder to USB mass storage (password)", func(m *Main) Command { return &MSCCommand{Stdout: m.Stdout} }},
	{"list", "list the recordings on a recorder", func(m *Main) Command { return &ListCommand{Stdout: m.Stdout} }},
	{"pull", "download recordings over serial, verified, resumable", func(m *Main) Command { return &PullCommand{Stdout: m.Stdout, Stderr: m.Stderr} }},
	{"sim", "create a simulated recorder volume", func(m *Main) Command { return NewSimCommand(m.Stdout) }},
	{"sim-device", "run a simulated recorder on a pseudo-terminal", func(m *Main) Command {
		return &SimDeviceCommand{Stdout: m.Stdout, Stderr: m.Stderr}
	}},
}

// planned are subcommands that are designed but not written, so that asking
// for one says so instead of calling it unknown.
var planned []string

// UsageError is a wrong command line: exit code 2, and the user is pointed at
// the help text.
type UsageError struct {
	Command string // "" for the top level
	Err     error
}

// Error returns the reason, prefixed with the command.
func (e *UsageError) Error() string {
	if e.Command == "" {
		return e.Err.Error()
	}
	return e.Command + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf returns a *UsageError for command with a formatted reason.
func usageErrorf(command, format string, args ...any) *UsageError {
	return &UsageError{Command: command, Err: fmt.Errorf(format, args...)}
}

// Main is the evidock-bridge program: it picks a subcommand from the command
// line and runs it.
type Main struct {
	Stdout, Stderr io.Writer

	name string  // of the chosen command
	cmd  Command // nil when only help is to be printed
	help bool    // print help for cmd, or the top-level help if cmd is nil
}

// NewMain returns a Main that writes to the process's stdout and stderr.
func NewMain() *Main { return &Main{Stdout: os.Stdout, Stderr: os.Stderr} }

// ParseFlags chooses the subcommand named by args[0] and parses the rest of
// args for it. It returns a *UsageError if there is no command, the command is
// unknown, or its flags are wrong.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageErrorf("", "no command given (want one of: %s)", strings.Join(commandNames(), ", "))
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		m.help = true
		if len(rest) == 0 {
			return nil
		}
		name, rest = rest[0], nil
	}
	i := slices.IndexFunc(commands, func(c commandDef) bool { return c.name == name })
	switch {
	case i < 0 && slices.Contains(planned, name):
		return usageErrorf("", "command %q is planned but not implemented yet (available: %s)", name, strings.Join(commandNames(), ", "))
	case i < 0:
		return usageErrorf("", "unknown command %q (available: %s)", name, strings.Join(commandNames(), ", "))
	}
	m.name, m.cmd = name, commands[i].new(m)
	if m.help {
		return nil
	}
	err := m.cmd.ParseFlags(ctx, rest)
	if errors.Is(err, flag.ErrHelp) {
		m.help = true
		return nil
	}
	return err
}

// Run runs the chosen command, or prints the help asked for. It returns the
// command's error.
func (m *Main) Run(ctx context.Context) error {
	switch {
	case m.help && m.cmd == nil:
		m.Usage(m.Stdout)
		return nil
	case m.help:
		m.cmd.Usage(m.Stdout)
		return nil
	}
	return m.cmd.Run(ctx)
}

// Exit reports err on Stderr, with a pointer to the help for usage errors,
// and returns the exit code for it.
func (m *Main) Exit(err error) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(m.Stderr, "evidock-bridge: %v\n", err)
	var ue *UsageError
	var cu *cli.UsageError
	if !errors.As(err, &ue) && errors.As(err, &cu) {
		ue = &UsageError{Err: cu.Err}
	}
	if ue != nil {
		if ue.Command != "" {
			fmt.Fprintf(m.Stderr, "Run 'evidock-bridge %s -h' for its flags.\n", ue.Command)
		} else {
			fmt.Fprintln(m.Stderr, "Run 'evidock-bridge help' for usage.")
		}
		return ExitUsage
	}
	return ExitFailure
}

// Usage writes the top-level help text to w.
func (m *Main) Usage(w io.Writer) {
	fmt.Fprint(w, "evidock-bridge talks to body-worn recorders for the evidock agent.\n\n")
	fmt.Fprint(w, "Usage:\n  evidock-bridge <command> [flags]\n  evidock-bridge help [command]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s  %s\n", c.name, c.summary)
	}
	if len(planned) > 0 {
		fmt.Fprintf(w, "\nPlanned: %s.\n", strings.Join(planned, ", "))
	}
	fmt.Fprint(w, "\nPasswords come from --password-file or $"+EnvPassword+" and are never printed.\n")
	fmt.Fprint(w, "\nExit codes: 0 ok, 1 failure, 2 usage error.\n")
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}
