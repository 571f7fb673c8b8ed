package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/firmware-bridge/device"
	"evidock/firmware-bridge/serial"
	"evidock/firmware-bridge/sim"
)

const testPassword = "s3cret-密码"

// MustPasswordFile writes pw to a file, with a line end as editors leave it.
func MustPasswordFile(tb testing.TB, pw string) string {
	tb.Helper()
	name := filepath.Join(tb.TempDir(), "pw")
	if err := os.WriteFile(name, []byte(pw+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return name
}

// MustSimVolume creates a recorder volume with the given recording sizes.
func MustSimVolume(tb testing.TB, sizes ...int64) string {
	tb.Helper()
	durs := make([]time.Duration, len(sizes))
	for i := range durs {
		durs[i] = time.Minute
	}
	recs, err := sim.Consecutive(time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime), time.Minute, 1, sizes, durs)
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(tb.TempDir(), "DSJ0001")
	if _, err := (sim.Volume{DeviceSerial: "DSJ0001", OfficerNo: "100234", Recordings: recs}).Create(context.Background(), dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// startDevice serves a simulated recorder on a new pty and returns the
// terminal's path; edit changes the config first. It skips loudly without
// ptys, and fails under CI=true.
func startDevice(tb testing.TB, dir string, edit func(*device.Config)) (string, *device.Device) {
	tb.Helper()
	info, err := device.LoadVolume(dir)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := device.Config{Dir: dir, Info: info, Password: testPassword, Battery: 64}
	if edit != nil {
		edit(&cfg)
	}
	dev, err := device.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := device.OpenPTY()
	if errors.Is(err, device.ErrNoPTY) {
		msg := fmt.Sprintf("NO PSEUDO-TERMINAL: %v: the CLI tests against a simulated recorder did not run", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	} else if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { dev.Serve(ctx, p.Master); close(done) }()
	tb.Cleanup(func() { cancel(); <-done; p.Close() })
	return p.Path, dev
}

// quick are flags that make a dead or stalled recorder fail fast; the high
// baud rate keeps waits short, as the pty is fast.
var quick = []string{"--baud", "4000000", "--timeout", "200ms", "--retries", "1"}

func withQuick(args ...string) []string { return append(args, quick...) }

func TestInfoCommand(t *testing.T) {
	dir := MustSimVolume(t, 1_000_000, 500_000)
	port, _ := startDevice(t, dir, func(c *device.Config) {
		c.Info.OfficerName, c.Info.UnitNo, c.Info.UnitName = "张三", "320100000000", "南京市劳动保障监察支队"
		c.Clock = device.NewClock(-90*time.Second, 0, nil)
		c.StorageTotal = 1_600_000 // 94% full
		c.Loop = true
	})
	code, out, errOut := run(t, withQuick("info", "--port", port)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`officer\s+100234\s+张三\n`).MatchString(out) {
		t.Errorf("no officer line:\n%s", out)
	}
	for _, want := range []string{"recorder  DSJ0001", "EVIDOCK DSJ-SIM", "320100000000", "南京市劳动保障监察支队",
		"1m30s behind this PC", "battery   64%", "1920x1080 at 30 fps", "1.5 MB of 1.6 MB used (93%), 2 recordings, loop recording on",
		"warning: storage is 93% full and loop recording will overwrite the oldest footage"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSetInfoCommand(t *testing.T) {
	dir := MustSimVolume(t, 300_000)
	port, dev := startDevice(t, dir, nil)
	pwFile := MustPasswordFile(t, testPassword)

	code, out, errOut := run(t, withQuick("set-info", "--port", port, "--password-file", pwFile,
		"--officer", "100871", "--officer-name", "欧阳娜娜", "--unit", "320100000001", "--unit-name", "南京市劳动保障监察支队")...)
	if code != ExitOK || !strings.Contains(out, "DSJ0001 now belongs to officer 100871 欧阳娜娜, unit 320100000001 南京市劳动保障监察支队") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	want := dev.Info()
	if want.OfficerNo != "100871" || want.OfficerName != "欧阳娜娜" || want.DeviceSerial != "DSJ0001" {
		t.Errorf("device info %+v", want)
	}

	// Only the name changes; the password comes from the environment.
	t.Setenv(EnvPassword, testPassword)
	if code, _, errOut := run(t, withQuick("set-info", "--port", port, "--officer-name", "李四")...); code != ExitOK {
		t.Fatalf("set-info with $%s: exit %d: %s", EnvPassword, code, errOut)
	}
	want.OfficerName = "李四"
	if got := dev.Info(); got != want {
		t.Errorf("after a name change: %+v, want %+v", got, want)
	}

	// A wrong password: failure, nothing changed, and the password not shown.
	wrong := "wrong-pw-XYZ"
	code, out, errOut = run(t, withQuick("set-info", "--port", port, "--password-file", MustPasswordFile(t, wrong), "--officer", "999999")...)
	if code != ExitFailure || !strings.Contains(errOut, "wrong recorder password") {
		t.Errorf("wrong password: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out+errOut, wrong) || strings.Contains(out+errOut, testPassword) {
		t.Error("a password was printed")
	}
	if got := dev.Info(); got != want {
		t.Errorf("a wrong password changed the info to %+v", got)
	}
}

func TestUsageOfRecorderCommands(t *testing.T) {
	pwFile := MustPasswordFile(t, testPassword)
	t.Setenv(EnvPassword, "")
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"info without port", []string{"info"}, "--port is required"},
		{"info extra arg", []string{"info", "--port", "x", "y"}, `unexpected argument "y"`},
		{"set-info nothing", []string{"set-info", "--port", "x", "--password-file", pwFile}, "nothing to set"},
		{"set-info officer", []string{"set-info", "--port", "x", "--password-file", pwFile, "--officer", "12345"}, `--officer "12345": must be 6 digits`},
		{"set-info long name", []string{"set-info", "--port", "x", "--password-file", pwFile, "--officer-name", strings.Repeat("张", 17)}, "--officer-name"},
		{"set-info emoji", []string{"set-info", "--port", "x", "--password-file", pwFile, "--unit-name", "😀"}, "GBK cannot encode"},
		{"no password", []string{"sync-time", "--port", "x"}, "no recorder password: give --password-file FILE or set " + EnvPassword},
		{"password file missing", []string{"msdc", "--port", "x", "--password-file", "/nonexistent/pw"}, "--password-file: open /nonexistent/pw"},
		{"empty password", []string{"msdc", "--port", "x", "--password-file", MustPasswordFile(t, "")}, "one line of 1 to 32 bytes"},
		{"pull without out", []string{"pull", "--port", "x"}, "--out is required"},
		{"pull bad name", []string{"pull", "--port", "x", "--out", "d", "--name", "../x"}, "--name: name"},
		{"bad timeout", []string{"list", "--port", "x", "--timeout", "0s"}, "--timeout 0s: must be positive"},
		{"ports bad id", []string{"ports", "--usb-ids", "1a86"}, "--usb-ids: USB ID"},
		{"sim-device no volume", []string{"sim-device"}, "--volume is required"},
		{"sim-device drift", []string{"sim-device", "--volume", MustSimVolume(t, 300_000), "--password-file", pwFile, "--clock-drift", "fast"}, "--clock-drift"},
		{"sim-device garble", []string{"sim-device", "--volume", MustSimVolume(t, 300_000), "--password-file", pwFile, "--garble-rate", "2"}, "garble rate 2"},
		{"sim-device important", []string{"sim-device", "--volume", MustSimVolume(t, 300_000), "--password-file", pwFile, "--important", "7"}, "no recording with sequence number 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, tt.args...)
			if code != ExitUsage || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, want 2; stderr %q, want ~ %q", code, errOut, tt.stderr)
			}
		})
	}
}

func TestSyncTimeCommand(t *testing.T) {
	dir := MustSimVolume(t, 300_000)
	port, _ := startDevice(t, dir, func(c *device.Config) { c.Clock = device.NewClock(-90*time.Second, 0, nil) })
	code, out, errOut := run(t, withQuick("sync-time", "--port", port, "--password-file", MustPasswordFile(t, testPassword))...)
	if code != ExitOK || !regexp.MustCompile(`DSJ0001 clock: before 1m30s behind this PC; after in step \(`).MatchString(out) {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestMSDCCommand(t *testing.T) {
	dir := MustSimVolume(t, 300_000)
	port, _ := startDevice(t, dir, nil)
	code, out, errOut := run(t, withQuick("msdc", "--port", port, "--password-file", MustPasswordFile(t, testPassword))...)
	if code != ExitOK || !strings.Contains(out, "DSJ0001 switched to USB mass storage") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	port, _ = startDevice(t, dir, func(c *device.Config) { c.NoMassStorage = true })
	code, _, errOut = run(t, withQuick("msdc", "--port", port, "--password-file", MustPasswordFile(t, testPassword))...)
	if code != ExitFailure || !strings.Contains(errOut, "has no mass storage mode: use 'evidock-bridge pull'") {
		t.Errorf("recorder without msc: exit %d, stderr %s", code, errOut)
	}
}

func TestListCommand(t *testing.T) {
	dir := MustSimVolume(t, 300_000, 400_000, 500_000)
	port, _ := startDevice(t, dir, func(c *device.Config) {
		c.Important = []string{"DSJ0001_100234_20261125090200_0002.MP4"}
		c.Recording = true
	})
	code, out, errOut := run(t, withQuick("list", "--port", port)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, re := range []string{
		`DSJ0001_100234_20261125090000_0001\.MP4\s+300000\s+2026-11-25 09:00:00\s+1m0s\s+-\n`,
		`DSJ0001_100234_20261125090200_0002\.MP4\s+400000\s+2026-11-25 09:02:00\s+1m0s\s+important\n`,
		`_0003\.MP4\s+500000\s+.*\s+recording\n`,
		`DSJ0001: 3 recordings, 1\.2 MB`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
}

func digestFile(tb testing.TB, name string) evidock.Digest {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	d, _, err := evidock.DigestOf(f)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestPullCommand(t *testing.T) {
	dir := MustSimVolume(t, 3_000_000, 700_000, 200_000)
	media := filepath.Join(dir, "DCIM", "100MEDIA")
	names := []string{"DSJ0001_100234_20261125090000_0001.MP4", "DSJ0001_100234_20261125090200_0002.MP4", "DSJ0001_100234_20261125090400_0003.MP4"}
	out := filepath.Join(t.TempDir(), "pulled")

	// The recorder stops answering in the middle of the first recording.
	port, _ := startDevice(t, dir, func(c *device.Config) { c.Faults.StallAfter = 1_200_000 })
	code, stdout, errOut := run(t, withQuick("pull", "--port", port, "--out", out)...)
	if code != ExitFailure || !strings.Contains(errOut, "no answer in 2 attempts") || !strings.Contains(errOut, "run again with --resume") {
		t.Fatalf("stalled pull: exit %d\nstdout: %s\nstderr: %s", code, stdout, errOut)
	}
	partial := filepath.Join(out, "."+names[0]+".partial")
	fi, err := os.Stat(partial)
	if err != nil || fi.Size() == 0 || fi.Size() >= 1_200_000 {
		t.Fatalf("partial file: %v, %v", fi, err)
	}

	// Plugged in again: --resume goes on from the partial file.
	port, _ = startDevice(t, dir, nil)
	code, stdout, errOut = run(t, withQuick("pull", "--port", port, "--out", out, "--resume")...)
	if code != ExitOK {
		t.Fatalf("resumed pull: exit %d\nstdout: %s\nstderr: %s", code, stdout, errOut)
	}
	if want := fmt.Sprintf("resuming at %d of 3000000 bytes", fi.Size()); !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	for _, n := range names {
		src, dst := filepath.Join(media, n), filepath.Join(out, n)
		want := digestFile(t, src)
		if got := digestFile(t, dst); got != want {
			t.Errorf("%s: BLAKE3 %s, want %s", n, got, want)
		}
		if !strings.Contains(stdout, dst) || !strings.Contains(stdout, "blake3 "+want.String()) {
			t.Errorf("stdout lacks %s and its digest:\n%s", n, stdout)
		}
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial file left: %v", err)
	}
	if !strings.Contains(stdout, "pulled 3 of 3 recordings (3.9 MB) from DSJ0001") {
		t.Errorf("no summary:\n%s", stdout)
	}

	// Again: nothing to do. One by name: already there.
	code, stdout, errOut = run(t, withQuick("pull", "--port", port, "--out", out)...)
	if code != ExitOK || !strings.Contains(stdout, "pulled 0 of 3") || strings.Count(errOut, "already pulled") != 3 {
		t.Errorf("second pull: exit %d\nstdout: %s\nstderr: %s", code, stdout, errOut)
	}
	code, _, errOut = run(t, withQuick("pull", "--port", port, "--out", out, "--name", "DSJ0001_100234_20261125090000_0404.MP4")...)
	if code != ExitFailure || !strings.Contains(errOut, "no finished recording named") {
		t.Errorf("pull of a missing name: exit %d, stderr %s", code, errOut)
	}
}

func TestDeadPort(t *testing.T) {
	dir := MustSimVolume(t, 300_000)
	port, _ := startDevice(t, dir, func(c *device.Config) { c.Faults.StallAfter = 1 })
	began := time.Now()
	code, _, errOut := run(t, withQuick("info", "--port", port)...)
	if code != ExitFailure || !strings.Contains(errOut, "IDENTIFY") || !strings.Contains(errOut, "check that the recorder is on") {
		t.Errorf("silent recorder: exit %d, stderr %s", code, errOut)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("took %s to give up", took)
	}
	code, _, errOut = run(t, "info", "--port", filepath.Join(t.TempDir(), "ttyNONE"))
	if code != ExitFailure || !strings.Contains(errOut, "ttyNONE") {
		t.Errorf("missing port: exit %d, stderr %s", code, errOut)
	}
}

func TestPortsCommand(t *testing.T) {
	var out bytes.Buffer
	c := &PortsCommand{Stdout: &out, List: func(ids []serial.USBID) ([]serial.PortInfo, error) {
		return []serial.PortInfo{
			{Name: "/dev/ttyACM0", USB: true, ID: serial.USBID{VID: 0x2e3c, PID: 0x5740}, SerialNumber: "DSJ0001", Product: "执法记录仪", Recorder: true},
			{Name: "/dev/ttyS0"},
			{Name: "/dev/ttyUSB0", USB: true, ID: serial.USBID{VID: 0x1a86, PID: 0x7523}, Bridge: "WCH CH340"},
		}, nil
	}}
	if err := c.ParseFlags(context.Background(), []string{"--usb-ids", "2e3c:5740"}); err != nil {
		t.Fatal(err)
	}
	if len(c.ids) != 1 || c.ids[0] != (serial.USBID{VID: 0x2e3c, PID: 0x5740}) {
		t.Errorf("ids %v", c.ids)
	}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`/dev/ttyACM0\s+2e3c:5740\s+DSJ0001\s+执法记录仪\s+recorder\n`, `/dev/ttyS0\s+-\s+-\s+-\s+-\n`, `/dev/ttyUSB0\s+1a86:7523.*maybe a recorder`} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output does not match %s:\n%s", re, out.String())
		}
	}
	// The real list, whatever this machine has.
	if code, _, errOut := run(t, "ports"); code != ExitOK {
		t.Errorf("ports: exit %d: %s", code, errOut)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestSimDeviceCommand runs sim-device as a user would, talks to it with
// the other commands, and switches it to mass storage, which ends it.
func TestSimDeviceCommand(t *testing.T) {
	if _, err := device.OpenPTY(); err != nil {
		startDevice(t, MustSimVolume(t, 300_000), nil) // skips or fails as the others do
	}
	dir := MustSimVolume(t, 300_000, 400_000)
	pwFile := MustPasswordFile(t, testPassword)
	var stdout, stderr syncBuffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.ParseFlags(ctx, []string{"sim-device", "--volume", dir, "--password-file", pwFile,
		"--officer-name", "张三", "--clock-offset", "-1h", "--clock-drift", "5s/day", "--important", "2", "--battery", "33"}); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	m.cmd.(*SimDeviceCommand).Ready = func(p string) { ready <- p }
	done := make(chan int, 1)
	go func() { done <- m.Exit(m.Run(ctx)) }()
	var port string
	select {
	case port = <-ready:
	case code := <-done:
		t.Fatalf("sim-device ended with %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "serving "+dir+" on "+port) {
		t.Errorf("sim-device did not print its port:\n%s", stdout.String())
	}

	code, out, errOut := run(t, withQuick("info", "--port", port)...)
	if code != ExitOK || !strings.Contains(out, "张三") || !strings.Contains(out, "1h0m0s behind") || !strings.Contains(out, "battery   33%") {
		t.Errorf("info: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, withQuick("list", "--port", port)...)
	if code != ExitOK || !regexp.MustCompile(`_0002\.MP4.*important`).MatchString(out) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, withQuick("msdc", "--port", port, "--password-file", pwFile)...); code != ExitOK {
		t.Errorf("msdc: exit %d: %s", code, errOut)
	}
	select {
	case code := <-done:
		if code != ExitOK || !strings.Contains(stdout.String(), "switched to USB mass storage: the volume is "+dir) {
			t.Errorf("sim-device after msdc: exit %d\n%s", code, stdout.String())
		}
	case <-time.After(5 * time.Second):
		t.Error("sim-device still running after msdc")
	}
	if strings.Contains(stdout.String()+stderr.String(), testPassword) {
		t.Error("sim-device printed the password")
	}
}
