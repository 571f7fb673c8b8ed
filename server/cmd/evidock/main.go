// Command evidock is the operator CLI: archivists and supervisors use it to
// look up registered footage on the case server.
//
// Run 'evidock help' for the commands and exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"evidock"
	"evidock/internal/cli"
	evhttp "evidock/server/http"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], NewMain())
	stop()
	os.Exit(code)
}

// run parses args into m, runs it, closes it and returns the exit code.
func run(ctx context.Context, args []string, m *Main) int {
	err := m.ParseFlags(args)
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return cli.Exit(m.Stderr, "evidock", err)
}

// Main is one run of the CLI.
type Main struct {
	Stdout, Stderr io.Writer

	// Command is "clips", "clip", "recorders", "verify-log", "status",
	// "alarms", "cases", "case", "export" or "verify-export".
	Command string
	Config  Config
	// Filter selects the clips 'evidock clips' lists; Filter.Limit 0 lists
	// all of them.
	Filter evidock.ClipFilter
	// Digest is the clip 'evidock clip' shows.
	Digest evidock.Digest
	// Officer, if not empty, keeps the recorders 'evidock recorders' lists
	// to those bound to that officer.
	Officer string
	// JSON prints the server's JSON instead of a table.
	JSON bool
	// AllAlarms makes 'evidock alarms' list acknowledged alarms too.
	AllAlarms bool
	// VerifyLog holds the settings of 'evidock verify-log'.
	VerifyLog VerifyLogFlags
	// Cases holds the settings of 'evidock cases' and 'evidock case'.
	Cases CaseFlags
	// Export holds the settings of 'evidock export' and 'evidock
	// verify-export'.
	Export ExportFlags

	client *evhttp.Client
}

// NewMain returns a Main writing to the process's standard output and error,
// with its defaults from the environment.
func NewMain() *Main { return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Config: DefaultConfig()} }

// ParseFlags reads the command line and the token file. It returns a
// *cli.UsageError for anything the user must fix, and flag.ErrHelp after
// printing the usage when asked for it.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		return cli.Usagef("no command given: use clips, clip, recorders, verify-log, status, alarms, cases, case, export or verify-export")
	}
	fs := flag.NewFlagSet("evidock", flag.ContinueOnError)
	fs.StringVar(&m.Config.Server, "server", m.Config.Server, "")
	fs.StringVar(&m.Config.TokenFile, "token-file", m.Config.TokenFile, "")
	fs.StringVar(&m.Config.CAFile, "ca-file", m.Config.CAFile, "")
	fs.BoolVar(&m.JSON, "json", false, "")
	var from, to string
	switch m.Command = args[0]; m.Command {
	case "clips":
		fs.StringVar(&m.Filter.OfficerNo, "officer", "", "")
		fs.StringVar(&m.Filter.DeviceSerial, "recorder", "", "")
		fs.StringVar(&from, "from", "", "")
		fs.StringVar(&to, "to", "", "")
		fs.IntVar(&m.Filter.Limit, "limit", 0, "")
	case "clip":
	case "recorders":
		fs.StringVar(&m.Officer, "officer", "", "")
	case "verify-log":
		fs.StringVar(&m.VerifyLog.KeyFile, "key", "", "")
		fs.StringVar(&m.VerifyLog.ClipsFile, "clips", "", "")
		fs.StringVar(&m.VerifyLog.StateFile, "state", "", "")
	case "status":
	case "alarms":
		fs.BoolVar(&m.AllAlarms, "all", false, "")
	case "cases":
		fs.StringVar(&m.Cases.Filter.UnitCode, "unit", "", "")
		fs.StringVar((*string)(&m.Cases.Filter.Kind), "kind", "", "")
		fs.StringVar((*string)(&m.Cases.Filter.Stage), "stage", "", "")
		fs.StringVar(&m.Cases.Filter.OfficerNo, "officer", "", "")
		fs.StringVar(&from, "from", "", "")
		fs.StringVar(&to, "to", "", "")
		fs.IntVar(&m.Cases.Filter.Limit, "limit", 0, "")
	case "case":
		fs.DurationVar(&m.Cases.Margin, "margin", -1, "")
	case "export":
		fs.StringVar(&m.Export.Case, "case", "", "")
		fs.StringVar(&m.Export.ClipsFile, "clips", "", "")
		fs.StringVar(&m.Export.Reason, "reason", "", "")
		fs.StringVar(&m.Export.Output, "o", "", "")
		fs.StringVar(&m.Export.KeyFile, "key", "", "")
		fs.StringVar(&m.Export.Login, "login", os.Getenv(EnvLogin), "")
		fs.StringVar(&m.Export.PasswordFile, "password-file", os.Getenv(EnvPasswordFile), "")
	case "verify-export":
		fs.StringVar(&m.Export.KeyFile, "key", "", "")
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return flag.ErrHelp
	default:
		return cli.Usagef("unknown command %q: use clips, clip, recorders, verify-log, status, alarms, cases, case, export or verify-export", m.Command)
	}
	rest, err := cli.Parse(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(m.Stdout, usage)
	}
	if err != nil {
		return err
	}

	switch m.Command {
	case "clips":
		if len(rest) > 0 {
			return cli.Usagef("clips: unexpected argument %q; filter with --officer, --recorder, --from and --to", rest[0])
		}
		if m.Filter.From, err = parseBound("--from", from, false); err != nil {
			return err
		}
		if m.Filter.To, err = parseBound("--to", to, true); err != nil {
			return err
		}
		if m.Filter.Limit < 0 {
			return cli.Usagef("--limit must be 0 (all) or more, got %d", m.Filter.Limit)
		}
	case "clip":
		if len(rest) != 1 {
			return cli.Usagef("clip: give exactly one BLAKE3 digest (64 hex digits)")
		}
		if m.Digest, err = evidock.ParseDigest(rest[0]); err != nil {
			return cli.Usagef("clip: %s", evidock.ErrorMessage(err))
		}
	case "recorders":
		if len(rest) > 0 {
			return cli.Usagef("recorders: unexpected argument %q; filter with --officer", rest[0])
		}
	case "verify-log":
		if len(rest) > 0 {
			return cli.Usagef("verify-log: unexpected argument %q; list clips in a file given with --clips", rest[0])
		}
		if err := m.VerifyLog.parse(); err != nil {
			return err
		}
	case "cases":
		if err := m.Cases.parseList(rest, from, to); err != nil {
			return err
		}
	case "case":
		if len(rest) != 1 {
			return cli.Usagef("case: give exactly one case number, e.g. evidock case 常人社监罚〔2024〕12号")
		}
		m.Cases.Number = rest[0]
		if m.Cases.Margin > evidock.MaxSuggestMargin {
			return cli.Usagef("--margin must be at most %s, got %s", evidock.MaxSuggestMargin, m.Cases.Margin)
		}
	case "status", "alarms":
		if len(rest) > 0 {
			return cli.Usagef("%s: unexpected argument %q", m.Command, rest[0])
		}
	case "export":
		if err := m.Export.parseExport(rest); err != nil {
			return err
		}
		// A person exports, with their login: no station token.
		if err := m.Config.ValidateServer(); err != nil {
			return cli.Usage(err)
		}
		if m.client, err = m.Config.client(""); err != nil {
			return cli.Usage(err)
		}
		return nil
	case "verify-export":
		// Offline: the file and the key, no server.
		return m.Export.parseVerify(rest)
	}

	if err := m.Config.Validate(); err != nil {
		return cli.Usage(err)
	}
	token, err := m.Config.ReadToken()
	if err != nil {
		return cli.Usage(err)
	}
	if m.client, err = m.Config.client(token); err != nil {
		return cli.Usage(err)
	}
	return nil
}

// parseBound parses a --from or --to value; empty means no bound.
func parseBound(flagName, v string, upper bool) (t time.Time, err error) {
	if v == "" {
		return t, nil
	}
	if t, err = evhttp.ParseTimeBound(v, upper); err != nil {
		return t, cli.Usagef("%s: %s", flagName, evidock.ErrorMessage(err))
	}
	return t, nil
}

// Run runs the parsed command. It returns a *cli.UsageError when the server
// refuses the request as malformed, and other errors when it cannot be done.
func (m *Main) Run(ctx context.Context) error {
	var err error
	switch m.Command {
	case "clips":
		err = m.listClips(ctx)
	case "clip":
		err = m.showClip(ctx)
	case "recorders":
		err = m.listRecorders(ctx)
	case "verify-log":
		err = m.verifyLog(ctx)
	case "status":
		err = m.showStatus(ctx)
	case "alarms":
		err = m.listAlarms(ctx)
	case "cases":
		err = m.listCases(ctx)
	case "case":
		err = m.showCase(ctx)
	case "export":
		err = m.export(ctx)
	case "verify-export":
		err = m.verifyExport(ctx)
	default:
		return cli.Usagef("no command given")
	}
	if evidock.ErrorCode(err) == evidock.EINVALID {
		// The server refused what the user typed.
		return cli.Usage(err)
	}
	return err
}

// Close releases the client's idle connections; it never fails.
func (m *Main) Close() error {
	if m.client != nil {
		m.client.HTTPClient.CloseIdleConnections()
	}
	return nil
}
