package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"evidock/agent"
	"evidock/agent/sqlite"
	"evidock/internal/cli"
)

// runStatus prints every recording the agent knows and, with --wait, waits
// until none is pending: exit 0 when every ingestable recording is
// registered, 1 when some failed, 3 on timeout.
func runStatus(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	configPath := fs.String("config", "", "the agent's config file")
	wait := fs.Bool("wait", false, "wait until no recording is pending")
	atLeast := fs.Int("min", 0, "with --wait: also wait until at least this many recordings are known")
	timeout := fs.Duration("timeout", 30*time.Minute, "with --wait: give up after this long")
	if err := fs.Parse(args); err != nil {
		return &cli.UsageError{Err: err}
	}
	if *configPath == "" {
		return cli.Usagef("status: --config is required")
	}
	// Status needs only the state database: no secrets, so an officer's
	// terminal can run it.
	c := DefaultConfig()
	if err := cli.LoadYAML(*configPath, &c); err != nil {
		return err
	}
	if c.StatePath == "" {
		return cli.Usagef("config %s: state_path is empty", *configPath)
	}
	db, err := sqlite.Open(ctx, c.StatePath)
	if err != nil {
		return err
	}
	defer db.Close()

	deadline := time.Now().Add(*timeout)
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
		if !*wait || (pending == 0 && len(recs) >= *atLeast) {
			printStatus(os.Stdout, recs)
			if *wait && failed > 0 {
				return fmt.Errorf("%d recording(s) failed", failed)
			}
			return nil
		}
		if time.Now().After(deadline) {
			printStatus(os.Stdout, recs)
			return &timeoutError{fmt.Errorf("timed out after %v: %d recording(s) still pending", *timeout, pending)}
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

func printStatus(w io.Writer, recs []*agent.Recording) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSIZE\tSTATE\tBLAKE3\tNOTE")
	for _, r := range recs {
		digest := ""
		if !r.Digest.IsZero() {
			digest = r.Digest.String()[:16] + "…"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.RelPath, r.Size, r.State, digest, r.Error)
	}
	tw.Flush()
}

// exitCode extends cli.ExitCode with the timeout code.
func exitCode(err error) int {
	var t *timeoutError
	if errors.As(err, &t) {
		return cli.ExitTimeout
	}
	return cli.ExitCode(err)
}
