package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"evidock"
	"evidock/firmware-bridge/device"
	"evidock/firmware-bridge/sim"
)

// SimDeviceCommand is `evidock-bridge sim-device`: a simulated recorder on
// a new pseudo-terminal, serving a volume that `sim` made.
type SimDeviceCommand struct {
	Stdout, Stderr io.Writer

	Config device.Config // set by ParseFlags
	// Ready, if not nil, gets the terminal's path once the device serves.
	Ready func(path string)
}

// simDeviceFlags are the raw flag values.
type simDeviceFlags struct {
	conn                                connFlags // only for the password
	volume, officerName, unit, unitName string
	drift, stallAfter, important, total string
	passwordMode                        string
	garble, drop                        float64
	slow, battery, maxPayload           int
	offset                              time.Duration
	seed                                uint64
	loop, recording, noMSC, verbose     bool
}

func (c *SimDeviceCommand) flagSet(f *simDeviceFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("sim-device", flag.ContinueOnError)
	fs.StringVar(&f.volume, "volume", "", "`directory` of a volume made by 'evidock-bridge sim': the recorder's storage (required)")
	fs.StringVar(&f.conn.passwordFile, "password-file", "", "`file` holding the password the recorder demands (default: $"+EnvPassword+")")
	fs.StringVar(&f.officerName, "officer-name", "", "officer's name in the recorder info, e.g. 张三")
	fs.StringVar(&f.unit, "unit", "", "unit number in the recorder info")
	fs.StringVar(&f.unitName, "unit-name", "", "unit name in the recorder info")
	fs.StringVar(&f.important, "important", "", "recordings marked important, by sequence number or name, e.g. 2,5")
	fs.IntVar(&f.battery, "battery", 80, "battery level in percent, -1 for unknown")
	fs.StringVar(&f.total, "storage-total", "64GB", "storage size; never less than what the volume holds")
	fs.BoolVar(&f.loop, "loop", false, "loop recording on")
	fs.BoolVar(&f.recording, "recording", false, "a recording is in progress: the newest one")
	fs.BoolVar(&f.noMSC, "no-msc", false, "a recorder without USB mass storage mode")
	fs.IntVar(&f.maxPayload, "max-payload", device.DefaultMaxPayload, "largest frame payload the recorder sends or accepts, 512 to 65535")
	fs.StringVar(&f.drift, "clock-drift", "0", "how fast the clock runs, e.g. 5s/day, -300ms/hour or 30ppm")
	fs.DurationVar(&f.offset, "clock-offset", 0, "how far the clock is off at start, e.g. -90s")
	fs.StringVar(&f.passwordMode, "password-mode", "reject", "how a wrong password is treated: reject, lockout (3 wrong: locked for a minute) or silent (no answer)")
	fs.Float64Var(&f.garble, "garble-rate", 0, "chance that a byte on the line, either way, has a bit flipped, e.g. 0.0001")
	fs.Float64Var(&f.drop, "drop-rate", 0, "chance that a byte on the line, either way, is lost")
	fs.IntVar(&f.slow, "slow", 0, "send at most this many `bytes/s` (0: as fast as the terminal goes)")
	fs.StringVar(&f.stallAfter, "stall-after", "", "stop answering for good after sending this many bytes, e.g. 5MB")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the random faults")
	fs.BoolVar(&f.verbose, "verbose", false, "log every request on stderr (passwords are never logged)")
	return fs
}

// ParseFlags parses and checks the flags and loads the volume's serial and
// officer. It returns a *UsageError naming the flag and the fix.
func (c *SimDeviceCommand) ParseFlags(ctx context.Context, args []string) error {
	var f simDeviceFlags
	if err := parseFlags("sim-device", c.flagSet(&f), args); err != nil {
		return err
	}
	bad := func(format string, args ...any) error { return usageErrorf("sim-device", format, args...) }
	if f.volume == "" {
		return bad("--volume is required: a volume made by 'evidock-bridge sim --into DIR ...'")
	}
	info, err := device.LoadVolume(f.volume)
	if err != nil {
		return bad("--volume: %v", err)
	}
	info.OfficerName, info.UnitNo, info.UnitName = f.officerName, f.unit, f.unitName
	if err := info.Validate(); err != nil {
		return bad("%v", err)
	}
	pw, err := loadPassword(f.conn.passwordFile, os.Getenv)
	if err != nil {
		return usageFor("sim-device", err)
	}
	ppm, err := device.ParseDrift(f.drift)
	if err != nil {
		return bad("--clock-drift: %v", err)
	}
	mode, err := device.ParsePasswordMode(f.passwordMode)
	if err != nil {
		return bad("--password-mode: %v", err)
	}
	total, err := sim.ParseSize(f.total)
	if err != nil {
		return bad("--storage-total: %s", evidock.ErrorMessage(err))
	}
	faults := device.Faults{Seed: f.seed, GarbleRate: f.garble, DropRate: f.drop, BytesPerSecond: f.slow}
	if f.stallAfter != "" {
		if faults.StallAfter, err = sim.ParseSize(f.stallAfter); err != nil {
			return bad("--stall-after: %s", evidock.ErrorMessage(err))
		}
	}
	if err := faults.Validate(); err != nil {
		return bad("%v", err)
	}
	if f.battery < -1 || f.battery > 100 {
		return bad("--battery %d: want 0 to 100, or -1 for unknown", f.battery)
	}
	important, err := importantNames(f.volume, f.important)
	if err != nil {
		return bad("--important: %v", err)
	}
	c.Config = device.Config{
		Dir: f.volume, Info: info, Password: pw,
		MaxPayload: f.maxPayload, NoMassStorage: f.noMSC,
		Clock:   device.NewClock(f.offset, ppm, nil),
		Battery: f.battery, StorageTotal: total, Loop: f.loop, Recording: f.recording,
		Important: important, PasswordMode: mode, Faults: faults,
	}
	if f.verbose {
		c.Config.Log = slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		c.Config.Log = slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if _, err := device.New(c.Config); err != nil {
		return bad("%v", err)
	}
	return nil
}

// importantNames resolves a list of sequence numbers and names to the names
// of footage in the volume.
func importantNames(volume, list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	bySeq := map[int][]string{}
	names := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(volume, "DCIM"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names[d.Name()] = true
		if rn, err := evidock.ParseRecordingName(d.Name()); err == nil {
			bySeq[rn.Seq] = append(bySeq[rn.Seq], d.Name())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if seq, err := strconv.Atoi(item); err == nil {
			if len(bySeq[seq]) == 0 {
				return nil, fmt.Errorf("no recording with sequence number %d", seq)
			}
			out = append(out, bySeq[seq]...)
			continue
		}
		if !names[item] {
			return nil, fmt.Errorf("no recording named %q", item)
		}
		out = append(out, item)
	}
	return out, nil
}

// Run opens a pseudo-terminal, prints its path, and serves the recorder on
// it until ctx is done (Ctrl-C) or a client switches it to mass storage.
func (c *SimDeviceCommand) Run(ctx context.Context) error {
	dev, err := device.New(c.Config)
	if err != nil {
		return fmt.Errorf("sim-device: %w", err)
	}
	p, err := device.OpenPTY()
	if err != nil {
		return fmt.Errorf("sim-device: %w", err)
	}
	defer p.Close()
	fmt.Fprintf(c.Stdout, "simulated recorder %s (officer %s) serving %s on %s\n",
		c.Config.Info.DeviceSerial, c.Config.Info.OfficerNo, c.Config.Dir, p.Path)
	fmt.Fprintf(c.Stdout, "try: evidock-bridge info --port %s   (Ctrl-C to stop)\n", p.Path)
	if c.Ready != nil {
		c.Ready(p.Path)
	}
	err = dev.Serve(ctx, p.Master)
	switch {
	case errors.Is(err, device.ErrMassStorage):
		p.Drain(2 * time.Second) // let the client read the answer before the port goes
		_, err = fmt.Fprintf(c.Stdout, "switched to USB mass storage: the volume is %s\n", c.Config.Dir)
		return err
	case ctx.Err() != nil:
		fmt.Fprintln(c.Stdout, "stopped")
		return nil
	case err != nil:
		return fmt.Errorf("sim-device: %w", err)
	}
	return nil
}

// Usage writes the help of sim-device.
func (c *SimDeviceCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge sim-device --volume DIR --password-file FILE [flags]

Runs a simulated recorder on a new pseudo-terminal (Linux) and prints the
terminal's path: give it to the other commands as --port. The recorder's
storage is a volume made by 'evidock-bridge sim'; its serial and officer come
from the volume. Fault flags make the line and the firmware misbehave.
Runs until Ctrl-C, or until a client switches it to mass storage.

Flags:
`)
	printFlags(w, c.flagSet(&simDeviceFlags{}))
	fmt.Fprint(w, `
Example:
  evidock-bridge sim --into /tmp/DSJ0001 --serial DSJ0001 --officer 100234 --sizes 20MB,5MB
  echo 123456 > /tmp/pw
  evidock-bridge sim-device --volume /tmp/DSJ0001 --password-file /tmp/pw \
      --clock-offset -90s --clock-drift 5s/day --important 2 --garble-rate 0.00001
`)
}
