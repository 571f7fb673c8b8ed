package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"evidock/agent"
	"evidock/agent/dockscreen"
	"evidock/agent/sqlite"
	"evidock/internal/cli"
)

const statusUsage = `usage: evidock-agent status --config FILE [--watch] [--lang zh-CN|en]
       evidock-agent status --config FILE --all
       evidock-agent status --config FILE --wait [--min N] [--timeout D]

Without --all or --wait, status shows what the dock screen shows, read live
from the running agent (dock_screen.listen in the config): per docked
recorder its serial, officer, progress, files, speed, time left, whether
it is safe to unplug and why and, while copying, when it will be; then the
files that need attention, each note in the chosen language with the
agent's English detail below it. --watch redraws it every second until
Ctrl-C. If the agent is not running, status says so and prints the state
database as --all does.

--all prints every recording the agent has ever seen, from its state
database, each note in the chosen language with the English in brackets.
--wait waits until no recording is pending, then prints the same: exit 0
when all are done, 1 when some failed, 3 on timeout.

The language is --lang, else Chinese when LC_ALL, LC_MESSAGES or LANG names
it (zh_CN.UTF-8), else English.

flags:`

// runStatus is the status command; see statusUsage. It writes the view to
// stdout and notes (the agent is not running) to stderr.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, statusUsage)
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "the agent's config file")
	all := fs.Bool("all", false, "print every recording in the state database")
	wait := fs.Bool("wait", false, "wait until no recording is pending, then print them all")
	atLeast := fs.Int("min", 0, "with --wait: also wait until at least this many recordings are known")
	timeout := fs.Duration("timeout", 30*time.Minute, "with --wait: give up after this long")
	watch := fs.Bool("watch", false, "redraw the live view every second until interrupted")
	langFlag := fs.String("lang", "", "zh-CN or en (default: from LC_ALL, LC_MESSAGES, LANG; else en)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &cli.UsageError{Err: err}
	}
	switch {
	case *configPath == "":
		return cli.Usagef("status: --config is required")
	case *watch && (*all || *wait):
		return cli.Usagef("status: --watch redraws the live view; it does not go with --all or --wait")
	case fs.NArg() > 0:
		return cli.Usagef("status: unexpected argument %q", fs.Arg(0))
	}
	lang := dockscreen.EnvLang()
	if *langFlag != "" {
		l, err := dockscreen.ParseLang(*langFlag)
		if err != nil {
			return cli.Usagef("status: --lang: %v", err)
		}
		lang = l
	}
	// Status needs no secrets, so an officer's terminal can run it: only
	// the state database and the dock screen's address are read.
	c := DefaultConfig()
	if err := cli.LoadYAML(*configPath, &c); err != nil {
		return err
	}
	if *all || *wait {
		return statusFromDB(ctx, c, *configPath, *wait, *atLeast, *timeout, lang, stdout)
	}
	if *watch {
		return watchLive(ctx, c, lang, stdout)
	}
	url := c.DockScreen.URL()
	if url == "" {
		fmt.Fprintln(stderr, "evidock-agent: the dock screen is off (dock_screen.listen is empty), so there is no live view; showing the state database")
		return statusFromDB(ctx, c, *configPath, false, 0, 0, lang, stdout)
	}
	st, err := dockscreen.NewClient(url).Status(ctx)
	var se *dockscreen.StatusError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("the agent is running but cannot say its status: %w", err)
	case err != nil:
		fmt.Fprintf(stderr, "evidock-agent: the agent is not running (nothing answers at %s); showing the state database\n", url)
		return statusFromDB(ctx, c, *configPath, false, 0, 0, lang, stdout)
	}
	return dockscreen.WriteText(stdout, dockscreen.NewView(st, lang))
}

// watchLive redraws the live view every second until ctx is done, and
// returns nil then. On a terminal each view replaces the last; otherwise
// views follow each other, a blank line apart, for a log.
func watchLive(ctx context.Context, c Config, lang dockscreen.Lang, stdout io.Writer) error {
	url := c.DockScreen.URL()
	if url == "" {
		return cli.Usagef("status --watch: the dock screen is off (dock_screen.listen is empty): set it so that the agent serves its live status")
	}
	client := dockscreen.NewClient(url)
	term := isTerminal(stdout)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var frame bytes.Buffer
		if term {
			frame.WriteString("\x1b[H\x1b[2J") // home, clear screen
		}
		st, err := client.Status(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			fmt.Fprintf(&frame, "%s  the agent does not answer at %s: %v; trying again every second\n", time.Now().Format(time.TimeOnly), url, err)
		default:
			dockscreen.WriteText(&frame, dockscreen.NewView(st, lang))
		}
		if !term {
			frame.WriteString("\n")
		}
		if _, err := stdout.Write(frame.Bytes()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// statusFromDB prints every recording in the agent's state database and,
// with wait, first waits until none is pending: it returns nil when every
// ingestable recording is done, an error when some failed, and a
// *timeoutError on timeout. Notes are said in lang.
func statusFromDB(ctx context.Context, c Config, configPath string, wait bool, atLeast int, timeout time.Duration, lang dockscreen.Lang, stdout io.Writer) error {
	if c.StatePath == "" {
		return cli.Usagef("config %s: state_path is empty", configPath)
	}
	db, err := sqlite.Open(ctx, c.StatePath)
	if err != nil {
		return err
	}
	defer db.Close()

	deadline := time.Now().Add(timeout)
	for {
		recs, err := db.FindRecordings(ctx, agent.RecordingFilter{})
		if err != nil {
			return err
		}
		pending, failed := 0, 0
		for _, r := range recs {
			switch {
			case r.State.Pending():
				pending++
			case r.State == agent.StateFailed:
				failed++
			}
		}
		if !wait || (pending == 0 && len(recs) >= atLeast) {
			printStatus(stdout, recs, lang)
			if wait && failed > 0 {
				return fmt.Errorf("%d recording(s) failed", failed)
			}
			return nil
		}
		if time.Now().After(deadline) {
			printStatus(stdout, recs, lang)
			return &timeoutError{fmt.Errorf("timed out after %v: %d recording(s) still pending", timeout, pending)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

type timeoutError struct{ error }

func (e *timeoutError) Unwrap() error { return e.error }

// printStatus writes one line per recording; its note, last, is said in
// lang with the agent's English detail after it in brackets.
func printStatus(w io.Writer, recs []*agent.Recording, lang dockscreen.Lang) {
	t := dockscreen.StringsFor(lang)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSIZE\tSTATE\tBLAKE3\tNOTE")
	for _, r := range recs {
		digest := ""
		if !r.Digest.IsZero() {
			digest = r.Digest.String()[:16] + "…"
		}
		note, detail := t.Note(r.ErrorCode, r.Error)
		if detail != "" {
			note += " [" + detail + "]"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.RelPath, r.Size, r.State, digest, note)
	}
	tw.Flush()
}

// isTerminal reports whether w is a terminal that understands ANSI escapes
// (on Windows, a console in which they could be turned on).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	return enableANSI(f)
}

// exitCode extends cli.ExitCode with the timeout code.
func exitCode(err error) int {
	var t *timeoutError
	if errors.As(err, &t) {
		return cli.ExitTimeout
	}
	return cli.ExitCode(err)
}
