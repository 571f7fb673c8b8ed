package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	err := m.ParseFlags(os.Args[1:])
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Main is one run of the benchmark.
type Main struct {
	Config Config
	bench  *Bench
}

// NewMain returns a Main with the default config.
func NewMain() *Main { return &Main{Config: DefaultConfig()} }

type usageError struct{ error }

// ParseFlags reads the command line into m.Config; it returns a usageError
// for a bad flag.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	c := &m.Config
	fs.Float64Var(&c.SizeGiB, "size-gib", c.SizeGiB, "GiB of clips for the ingest comparison (8 files)")
	fs.StringVar(&c.Out, "out", c.Out, "also write the Markdown report to this file")
	fs.StringVar(&c.Dir, "dir", c.Dir, "parent of the work directory (default $TMPDIR); use the disk staging would use")
	fs.BoolVar(&c.Quick, "quick", c.Quick, "small sizes, for a smoke test (< 30 s)")
	fs.IntVar(&c.Reps, "reps", c.Reps, "runs of each side, alternating A B, B A, ...; the best is reported")
	fs.IntVar(&c.Transfers, "transfers", c.Transfers, "uploads at once on both sides (agent MaxUploads, rclone --transfers)")
	fs.BoolVar(&c.DropCaches, "drop-caches", c.DropCaches, "drop the page cache before every timed run (needs root; slows everyone else on the machine)")
	fs.BoolVar(&c.Keep, "keep", c.Keep, "keep the work directory (test data, versitygw data, logs)")
	fs.StringVar(&c.Readme, "readme", c.Readme, "also put the table into this file, between <!-- bench:begin --> and <!-- bench:end -->")
	fs.StringVar(&c.Only, "only", c.Only, "run only these sections: hash,ingest,upload,idle,registrations,latency")
	fs.StringVar(&c.CPUProfile, "cpuprofile", c.CPUProfile, "write a CPU profile of this process (evidock's side and the in-process servers) to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if err := c.Finish(); err != nil {
		return usageError{err}
	}
	if c.Readme != "" {
		// Checked now rather than after minutes of measuring.
		if _, _, _, err := readReadme(c.Readme); err != nil {
			return usageError{err}
		}
	}
	return nil
}

// Run measures every section and prints the report.
func (m *Main) Run(ctx context.Context) error {
	b, err := NewBench(ctx, m.Config, os.Stderr)
	if err != nil {
		return err
	}
	m.bench = b
	if m.Config.CPUProfile != "" {
		f, err := os.Create(m.Config.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	report, runErr := b.Run(ctx)
	if report == "" {
		return runErr
	}
	fmt.Print(report)
	if c := m.Config; c.Out != "" {
		if err := os.MkdirAll(filepath.Dir(c.Out), 0o755); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		if err := os.WriteFile(c.Out, []byte(report), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	if runErr != nil {
		return fmt.Errorf("the report has errors (the README is left alone): %w", runErr)
	}
	if c := m.Config; c.Readme != "" {
		text := b.summary()
		if c.Out != "" {
			text += fmt.Sprintf("\nHow each figure was measured, and every run: `%s`, written by the same run.\n", c.Out)
		}
		if err := updateReadme(c.Readme, text); err != nil {
			return err
		}
	}
	return nil
}

// Close stops what Run started and removes the work directory.
func (m *Main) Close() error {
	if m.bench == nil {
		return nil
	}
	return m.bench.Close()
}
