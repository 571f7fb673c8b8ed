package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"evidock"
	"evidock/firmware-bridge/protocol"
)

// StorageWarnPercent is the storage use at which info warns that loop
// recording will soon overwrite footage that was never docked.
const StorageWarnPercent = 90

// InfoCommand is `evidock-bridge info`: identity, recorder info, clock and
// status of a recorder.
type InfoCommand struct {
	Stdout io.Writer
	conn   connFlags
}

func (c *InfoCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	c.conn.register(fs, false)
	return fs
}

// ParseFlags parses the flags; --port is required.
func (c *InfoCommand) ParseFlags(ctx context.Context, args []string) error {
	if err := parseFlags("info", c.flagSet(), args); err != nil {
		return err
	}
	return usageFor("info", c.conn.check(false))
}

// Run prints what the recorder says about itself. It returns the first
// error from the link or the device, wrapped.
func (c *InfoCommand) Run(ctx context.Context) error {
	client, id, err := c.conn.dial(ctx)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	defer client.Close()
	info, err := client.Info(ctx)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	offset, _, err := client.ClockOffset(ctx)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}
	st, err := client.Status(ctx)
	if err != nil {
		return fmt.Errorf("info: %w", err)
	}

	tw := tabwriter.NewWriter(c.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "recorder\t%s\t%s %s, firmware %s, protocol %d.%d\n", id.DeviceSerial, id.Manufacturer, id.Model, id.Firmware, id.Major, id.Minor)
	fmt.Fprintf(tw, "officer\t%s\t%s\n", orNone(info.OfficerNo), info.OfficerName)
	fmt.Fprintf(tw, "unit\t%s\t%s\n", orNone(info.UnitNo), info.UnitName)
	fmt.Fprintf(tw, "clock\t%s\t%s\n", time.Now().Add(offset).In(evidock.ChinaTime).Format("2006-01-02 15:04:05"), describeOffset(offset))
	battery := "unknown"
	if st.Battery >= 0 {
		battery = fmt.Sprintf("%d%%", st.Battery)
	}
	if st.Flags&protocol.StatusCharging != 0 {
		battery += ", charging"
	}
	fmt.Fprintf(tw, "battery\t%s\n", battery)
	fmt.Fprintf(tw, "video\t%dx%d at %d fps\n", st.Width, st.Height, st.FPS)
	loop := "off"
	if st.Loop() {
		loop = "on"
	}
	fmt.Fprintf(tw, "storage\t%s of %s used (%d%%), %d recordings, loop recording %s\n",
		formatSize(st.StorageUsed), formatSize(st.StorageTotal), percent(st.StorageUsed, st.StorageTotal), st.Recordings, loop)
	if st.Recording() {
		fmt.Fprintf(tw, "recording\tin progress\n")
	}
	var caps string
	if id.Capabilities&protocol.CapMassStorage != 0 {
		caps += " mass-storage"
	}
	if id.Capabilities&protocol.CapDownload != 0 {
		caps += " download"
	}
	fmt.Fprintf(tw, "can\t%s\n", orNone(caps[min(1, len(caps)):]))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("info: %w", err)
	}
	if p := percent(st.StorageUsed, st.StorageTotal); p >= StorageWarnPercent {
		what := "recording stops when it is full"
		if st.Loop() {
			what = "loop recording will overwrite the oldest footage, docked or not"
		}
		fmt.Fprintf(c.Stdout, "warning: storage is %d%% full and %s: pull the footage now\n", p, what)
	}
	return nil
}

// Usage writes the help of info.
func (c *InfoCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge info --port PORT [flags]

Shows who a recorder is (manufacturer, model, serial), whose it is (officer
and unit, GA/T 947 recorder info), how far its clock is off, and its battery,
resolution and storage. Warns when storage is 90% full.

Flags:
`)
	printFlags(w, c.flagSet())
}

// SetInfoCommand is `evidock-bridge set-info`: binds a recorder to an
// officer and unit.
type SetInfoCommand struct {
	Stdout io.Writer
	conn   connFlags
	// Set by ParseFlags: the fields to change, nil for those to keep.
	officer, officerName, unitNo, unitName *string
}

func (c *SetInfoCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("set-info", flag.ContinueOnError)
	c.conn.register(fs, true)
	opt := func(p **string, name, usage string) {
		fs.Func(name, usage, func(s string) error { *p = &s; return nil })
	}
	opt(&c.officer, "officer", "officer number, 6 digits, e.g. 100234")
	opt(&c.officerName, "officer-name", "officer's name, up to 16 Chinese characters, e.g. 张三")
	opt(&c.unitNo, "unit", "unit number, up to 12 letters or digits")
	opt(&c.unitName, "unit-name", "unit name, up to 16 Chinese characters")
	return fs
}

// ParseFlags parses the flags: --port, a password, and at least one field.
func (c *SetInfoCommand) ParseFlags(ctx context.Context, args []string) error {
	if err := parseFlags("set-info", c.flagSet(), args); err != nil {
		return err
	}
	if c.officer == nil && c.officerName == nil && c.unitNo == nil && c.unitName == nil {
		return usageErrorf("set-info", "nothing to set: give --officer, --officer-name, --unit or --unit-name")
	}
	// Check the fields now, so that a bad one is a usage error before the
	// recorder is touched.
	if err := c.apply(&protocol.Info{}).Validate(); err != nil {
		return usageErrorf("set-info", "%v", flagName(err))
	}
	return usageFor("set-info", c.conn.check(true))
}

// apply sets the given fields of info and returns it.
func (c *SetInfoCommand) apply(info *protocol.Info) *protocol.Info {
	for _, f := range []struct {
		v   *string
		dst *string
	}{{c.officer, &info.OfficerNo}, {c.officerName, &info.OfficerName}, {c.unitNo, &info.UnitNo}, {c.unitName, &info.UnitName}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return info
}

// flagName rewords a field error with the flag that set the field.
func flagName(err error) string {
	fe, ok := err.(*protocol.FieldError)
	if !ok {
		return err.Error()
	}
	name := map[string]string{"officer_no": "--officer", "officer_name": "--officer-name", "unit_no": "--unit", "unit_name": "--unit-name"}[fe.Field]
	if name == "" {
		name = fe.Field
	}
	return fmt.Sprintf("%s %q: %s", name, fe.Value, fe.Reason)
}

// Run reads the recorder info, changes the given fields and writes it back.
// It returns an error matching protocol.ErrBadPassword for a wrong
// password, and the link's or device's error otherwise, wrapped.
func (c *SetInfoCommand) Run(ctx context.Context) error {
	client, id, err := c.conn.dial(ctx)
	if err != nil {
		return fmt.Errorf("set-info: %w", err)
	}
	defer client.Close()
	info, err := client.Info(ctx)
	if err != nil {
		return fmt.Errorf("set-info: %w", err)
	}
	stored, err := client.SetInfo(ctx, c.conn.password, *c.apply(&info))
	if err != nil {
		return fmt.Errorf("set-info %s: %w", id.DeviceSerial, err)
	}
	_, err = fmt.Fprintf(c.Stdout, "%s now belongs to officer %s %s, unit %s %s\n",
		id.DeviceSerial, orNone(stored.OfficerNo), stored.OfficerName, orNone(stored.UnitNo), stored.UnitName)
	return err
}

// Usage writes the help of set-info.
func (c *SetInfoCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge set-info --port PORT --password-file FILE [--officer NO] [--officer-name NAME] [--unit NO] [--unit-name NAME]

Writes the GA/T 947 recorder info: the fields given change, the others stay.
Names are sent in GBK, at most 32 bytes (16 Chinese characters). The
password comes from --password-file or $EVIDOCK_RECORDER_PASSWORD and is
never printed.

Flags:
`)
	printFlags(w, c.flagSet())
}

// SyncTimeCommand is `evidock-bridge sync-time`: sets the recorder clock to
// this PC's.
type SyncTimeCommand struct {
	Stdout io.Writer
	conn   connFlags
}

func (c *SyncTimeCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("sync-time", flag.ContinueOnError)
	c.conn.register(fs, true)
	return fs
}

// ParseFlags parses the flags: --port and a password.
func (c *SyncTimeCommand) ParseFlags(ctx context.Context, args []string) error {
	if err := parseFlags("sync-time", c.flagSet(), args); err != nil {
		return err
	}
	return usageFor("sync-time", c.conn.check(true))
}

// Run sets the clock and prints the offset before and after.
func (c *SyncTimeCommand) Run(ctx context.Context) error {
	client, id, err := c.conn.dial(ctx)
	if err != nil {
		return fmt.Errorf("sync-time: %w", err)
	}
	defer client.Close()
	before, after, err := client.SyncTime(ctx, c.conn.password)
	if err != nil {
		return fmt.Errorf("sync-time %s: %w", id.DeviceSerial, err)
	}
	_, err = fmt.Fprintf(c.Stdout, "%s clock: before %s; after %s\n", id.DeviceSerial, describeOffset(before), describeOffset(after))
	return err
}

// Usage writes the help of sync-time.
func (c *SyncTimeCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge sync-time --port PORT --password-file FILE

Sets the recorder clock to this PC's clock (keep the PC on NTP) and prints
how far off it was before and is after. Recording names carry the recorder's
time, so a clock that is off puts footage at the wrong time.

Flags:
`)
	printFlags(w, c.flagSet())
}

// MSCCommand is `evidock-bridge msdc`: switches the recorder to USB mass
// storage.
type MSCCommand struct {
	Stdout io.Writer
	conn   connFlags
}

func (c *MSCCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("msdc", flag.ContinueOnError)
	c.conn.register(fs, true)
	return fs
}

// ParseFlags parses the flags: --port and a password.
func (c *MSCCommand) ParseFlags(ctx context.Context, args []string) error {
	if err := parseFlags("msdc", c.flagSet(), args); err != nil {
		return err
	}
	return usageFor("msdc", c.conn.check(true))
}

// Run switches the recorder to mass storage.
func (c *MSCCommand) Run(ctx context.Context) error {
	client, id, err := c.conn.dial(ctx)
	if err != nil {
		return fmt.Errorf("msdc: %w", err)
	}
	defer client.Close()
	if id.Capabilities&protocol.CapMassStorage == 0 {
		return fmt.Errorf("msdc: %s has no mass storage mode: use 'evidock-bridge pull' to download its recordings", id.DeviceSerial)
	}
	if err := client.EnterMassStorage(ctx, c.conn.password); err != nil {
		return fmt.Errorf("msdc %s: %w", id.DeviceSerial, err)
	}
	_, err = fmt.Fprintf(c.Stdout, "%s switched to USB mass storage: it leaves this port and shows up as a disk\n", id.DeviceSerial)
	return err
}

// Usage writes the help of msdc.
func (c *MSCCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge msdc --port PORT --password-file FILE

Switches the recorder to USB mass storage (MSDC), so that the agent ingests
its footage from the disk it shows up as.

Flags:
`)
	printFlags(w, c.flagSet())
}

// ListCommand is `evidock-bridge list`: the recordings on a recorder.
type ListCommand struct {
	Stdout io.Writer
	conn   connFlags
}

func (c *ListCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	c.conn.register(fs, false)
	return fs
}

// ParseFlags parses the flags; --port is required.
func (c *ListCommand) ParseFlags(ctx context.Context, args []string) error {
	if err := parseFlags("list", c.flagSet(), args); err != nil {
		return err
	}
	return usageFor("list", c.conn.check(false))
}

// Run prints one line per recording, oldest first.
func (c *ListCommand) Run(ctx context.Context) error {
	client, id, err := c.conn.dial(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	defer client.Close()
	list, err := client.List(ctx)
	if err != nil {
		return fmt.Errorf("list %s: %w", id.DeviceSerial, err)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tBYTES\tSTARTED\tDURATION\tMARK")
	var total int64
	for _, e := range list {
		total += e.Size
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", e.Name, e.Size, e.StartedAt.In(evidock.ChinaTime).Format("2006-01-02 15:04:05"), e.Duration, marks(e))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	_, err = fmt.Fprintf(c.Stdout, "%s: %d recordings, %s\n", id.DeviceSerial, len(list), formatSize(total))
	return err
}

// marks returns the MARK column: important, and still recording.
func marks(e protocol.Entry) string {
	var s string
	if e.Important() {
		s += "important "
	}
	if e.InProgress() {
		s += "recording "
	}
	if s == "" {
		return "-"
	}
	return s[:len(s)-1]
}

// Usage writes the help of list.
func (c *ListCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge list --port PORT

Lists the recordings on the recorder, oldest first, with size, start time by
the recorder's clock and duration. MARK says "important" for recordings the
officer marked with the key, "recording" for one still being made.

Flags:
`)
	printFlags(w, c.flagSet())
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// describeOffset says how far the recorder clock is from this PC's.
func describeOffset(d time.Duration) string {
	switch {
	case d.Abs() < time.Second:
		return fmt.Sprintf("in step (%s)", d.Round(time.Millisecond))
	case d > 0:
		return fmt.Sprintf("%s ahead of this PC", d.Round(100*time.Millisecond))
	default:
		return fmt.Sprintf("%s behind this PC", (-d).Round(100*time.Millisecond))
	}
}

// formatSize returns n in decimal units, as recorder makers count.
func formatSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

func percent(part, whole int64) int {
	if whole <= 0 {
		return 0
	}
	return int(float64(part) * 100 / float64(whole))
}
