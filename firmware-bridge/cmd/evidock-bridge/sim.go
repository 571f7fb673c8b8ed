package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"evidock"
	"evidock/firmware-bridge/sim"
)

// Defaults of the sim flags.
const (
	DefaultGap           = 2 * time.Minute
	DefaultDurationPerMB = time.Second // about 8 Mbit/s, a 1080p recorder
	DefaultFirstSeq      = 1
)

// SimCommand is `evidock-bridge sim`: it creates a simulated recorder volume.
type SimCommand struct {
	Stdout io.Writer
	Now    func() time.Time // places recordings when --start is not given

	// Set by ParseFlags.
	Into   string     // the volume directory to create
	Volume sim.Volume // what to write there
}

// NewSimCommand returns a SimCommand that reports to stdout.
func NewSimCommand(stdout io.Writer) *SimCommand {
	return &SimCommand{Stdout: stdout, Now: time.Now}
}

// simFlags are the raw flag values, checked and turned into a Volume by
// ParseFlags.
type simFlags struct {
	into, serial, officer, label string
	start, sizes, durations      string
	gap, perMB                   time.Duration
	seed                         uint64
	firstSeq                     int
}

func (c *SimCommand) flagSet(f *simFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by Main.Exit
	fs.Usage = func() {}
	fs.StringVar(&f.into, "into", "", "volume `directory` to create; must not exist, its parent must (required)")
	fs.StringVar(&f.serial, "serial", "", "device serial, 7 letters or digits, e.g. DSJ0001 (required)")
	fs.StringVar(&f.officer, "officer", "", "officer number, 6 digits, e.g. 100234 (required)")
	fs.StringVar(&f.sizes, "sizes", "", "file sizes, e.g. 200MB,30MB,5MiB (MB = 10^6 bytes, MiB = 2^20) (required)")
	fs.StringVar(&f.start, "start", "", "start of the first recording by the recorder's clock, e.g. 2026-11-25T09:00:00+08:00,\n"+
		"or without zone for China time (default: so that the last recording ended a minute ago)")
	fs.DurationVar(&f.gap, "gap", DefaultGap, "pause between one recording's end and the next one's start")
	fs.DurationVar(&f.perMB, "duration-per-mb", DefaultDurationPerMB, "recording length per 10^6 bytes, when --durations is not given")
	fs.StringVar(&f.durations, "durations", "", "recording lengths, one per size, e.g. 3m20s,30s,20s")
	fs.IntVar(&f.firstSeq, "first-seq", DefaultFirstSeq, "sequence number of the first recording")
	fs.Uint64Var(&f.seed, "seed", 0, "mixed into the content of every file; change it for other bytes from the same flags")
	fs.StringVar(&f.label, "label", "", "volume label written to "+sim.InfoFile+" (default: the serial)")
	return fs
}

// ParseFlags parses and checks the sim flags. It returns flag.ErrHelp for -h,
// and a *UsageError naming the flag and the fix for anything wrong.
func (c *SimCommand) ParseFlags(ctx context.Context, args []string) error {
	var f simFlags
	fs := c.flagSet(&f)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return &UsageError{Command: "sim", Err: err}
	}
	bad := func(format string, args ...any) error { return usageErrorf("sim", format, args...) }
	if fs.NArg() > 0 {
		return bad("unexpected argument %q: all settings are flags, e.g. --into DIR", fs.Arg(0))
	}

	if f.into == "" {
		return bad("--into is required: the volume directory to create, e.g. --into /media/evidock/DSJ0001")
	}
	serial := strings.ToUpper(f.serial)
	if len(serial) != evidock.DeviceSerialLen || strings.Trim(serial, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return bad("--serial %q: must be %d letters or digits, e.g. --serial DSJ0001", f.serial, evidock.DeviceSerialLen)
	}
	if len(f.officer) != evidock.OfficerNoLen || strings.Trim(f.officer, "0123456789") != "" {
		return bad("--officer %q: must be %d digits, e.g. --officer 100234", f.officer, evidock.OfficerNoLen)
	}
	if f.sizes == "" {
		return bad("--sizes is required: one size per recording, e.g. --sizes 200MB,30MB,5MB")
	}
	sizes, err := sim.ParseSizes(f.sizes)
	if err != nil {
		return bad("--sizes %q: %s", f.sizes, evidock.ErrorMessage(err))
	}
	for i, n := range sizes {
		if n < sim.MinMP4Size {
			return bad("--sizes item %d is %d bytes: an MP4 needs at least %d", i+1, n, sim.MinMP4Size)
		}
	}
	if f.gap < 0 {
		return bad("--gap %s: must not be negative, e.g. --gap 2m", f.gap)
	}
	if f.perMB <= 0 {
		return bad("--duration-per-mb %s: must be positive, e.g. --duration-per-mb 1s", f.perMB)
	}
	if last := f.firstSeq + len(sizes) - 1; f.firstSeq < 0 || last > 999999 {
		return bad("--first-seq %d: sequence numbers run from 0 to 999999, and %d recordings would end at %d", f.firstSeq, len(sizes), last)
	}

	durs := make([]time.Duration, len(sizes))
	if f.durations != "" {
		items := strings.Split(f.durations, ",")
		if len(items) != len(sizes) {
			return bad("--durations: %d durations for %d sizes: give one per size, or leave --durations out to derive them from the sizes", len(items), len(sizes))
		}
		for i, item := range items {
			d, err := time.ParseDuration(strings.TrimSpace(item))
			if err != nil || d < 0 {
				return bad("--durations item %d %q: want a non-negative duration like 3m20s", i+1, item)
			}
			durs[i] = d
		}
	} else {
		for i, n := range sizes {
			secs := float64(n) / 1e6 * f.perMB.Seconds()
			if secs > 100*365*24*3600 { // time.Duration ends at 292 years
				return bad("--duration-per-mb %s: recording %d of %d bytes would last over a century; give --durations instead", f.perMB, i+1, n)
			}
			// Whole seconds, as names and mvhd keep them; never zero, as a
			// recorder writes nothing for a recording that never ran.
			durs[i] = max(time.Duration(secs*float64(time.Second)).Round(time.Second), time.Second)
		}
	}

	start, err := c.parseStart(f.start, f.gap, durs)
	if err != nil {
		return bad("--start %q: %v", f.start, err)
	}
	recs, err := sim.Consecutive(start, f.gap, f.firstSeq, sizes, durs)
	if err != nil {
		return bad("%s", evidock.ErrorMessage(err))
	}
	c.Into = f.into
	c.Volume = sim.Volume{DeviceSerial: serial, OfficerNo: f.officer, Label: f.label, Seed: f.seed, Recordings: recs}
	if err := c.Volume.Validate(); err != nil {
		return bad("%s", evidock.ErrorMessage(err))
	}
	return nil
}

// parseStart returns the start of the first recording: s in RFC 3339, or
// without a zone in China time (recorder clocks keep it), or, when s is
// empty, such that the last recording ended a minute before now.
func (c *SimCommand) parseStart(s string, gap time.Duration, durs []time.Duration) (time.Time, error) {
	if s == "" {
		total := time.Minute + time.Duration(max(len(durs)-1, 0))*(gap+time.Second) // a second per gap for rounding
		for _, d := range durs {
			total += d
		}
		return c.Now().In(evidock.ChinaTime).Add(-total).Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(evidock.ChinaTime), nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, evidock.ChinaTime); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want a time like 2026-11-25T09:00:00+08:00, or 2026-11-25T09:00:00 for China time")
}

// Run creates the volume and reports each file and a summary on Stdout. It
// returns the error of sim.Volume.Create, wrapped; nothing is left at Into
// then.
func (c *SimCommand) Run(ctx context.Context) error {
	began := time.Now()
	files, err := c.Volume.Create(ctx, c.Into)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	took := time.Since(began)

	tw := tabwriter.NewWriter(c.Stdout, 0, 8, 2, ' ', tabwriter.AlignRight)
	var total int64
	for _, f := range files {
		r := f.Recording
		total += r.Size
		fmt.Fprintf(tw, "%s\t%d bytes\t%s\t%s\t\n", f.Path, r.Size, formatMB(r.Size), r.Duration)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("sim: report: %w", err)
	}
	noun := "recordings"
	if len(files) == 1 {
		noun = "recording"
	}
	_, err = fmt.Fprintf(c.Stdout, "created %s: %d %s of %s %s, %d bytes (%s), in %s\n",
		c.Into, len(files), noun, c.Volume.DeviceSerial, c.Volume.OfficerNo, total, formatMB(total), took.Round(time.Millisecond))
	if err != nil {
		return fmt.Errorf("sim: report: %w", err)
	}
	return nil
}

// Usage writes the help of sim to w.
func (c *SimCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge sim --into DIR --serial SERIAL --officer NO --sizes LIST [flags]

Creates a simulated recorder volume at DIR: footage named
<serial>_<officer>_<YYYYMMDDhhmmss>_<seq>.MP4 under DCIM/100MEDIA, each file's
mtime at its recording's end. The volume is built in a hidden sibling
directory and renamed into place, so that a watcher sees it appear at once.
Recordings follow each other: each starts --gap after the previous one ends.

Flags:
`)
	fs := c.flagSet(&simFlags{})
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Example:
  evidock-bridge sim --into /media/evidock/DSJ0001 --serial DSJ0001 --officer 100234 \
      --start 2026-11-25T09:00:00+08:00 --sizes 200MB,30MB,20MB,10MB,5MB,5MB
`)
}

// formatMB returns n in decimal megabytes, as the --sizes flag counts them.
func formatMB(n int64) string {
	return fmt.Sprintf("%.1f MB", math.Round(float64(n)/1e5)/10)
}
