package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/firmware-bridge/sim"
)

// run runs evidock-bridge with args as main does and returns its exit code,
// stdout and stderr.
func run(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut}
	ctx := context.Background()
	err := m.ParseFlags(ctx, args)
	if err == nil {
		err = m.Run(ctx)
	}
	return m.Exit(err), out.String(), errOut.String()
}

func TestSim(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "DSJ0001")
	code, out, errOut := run(t, "sim", "--into", dir, "--serial", "dsj0001", "--officer", "100234",
		"--start", "2026-11-25T09:00:00+08:00", "--sizes", "2MB,300kB,1MiB", "--gap", "1m", "--seed", "9")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime)
	want := []struct {
		name string
		size int64
		dur  time.Duration
	}{
		// 1 s per MB; each starts a minute after the previous one ends.
		{"DSJ0001_100234_20261125090000_0001.MP4", 2_000_000, 2 * time.Second},
		{"DSJ0001_100234_20261125090102_0002.MP4", 300_000, time.Second},
		{"DSJ0001_100234_20261125090203_0003.MP4", 1 << 20, time.Second},
	}
	ents, err := os.ReadDir(filepath.Join(dir, "DCIM", "100MEDIA"))
	if err != nil || len(ents) != len(want) {
		t.Fatalf("DCIM/100MEDIA: %d entries, %v; want %d", len(ents), err, len(want))
	}
	for i, w := range want {
		if ents[i].Name() != w.name {
			t.Errorf("file %d is %s, want %s", i, ents[i].Name(), w.name)
			continue
		}
		name := filepath.Join(dir, "DCIM", "100MEDIA", w.name)
		fi, err := os.Stat(name)
		if err != nil || fi.Size() != w.size {
			t.Errorf("%s: size %v, %v; want %d", w.name, fi.Size(), err, w.size)
		}
		rn, err := evidock.ParseRecordingName(w.name)
		if err != nil {
			t.Fatal(err)
		}
		if end := rn.StartedAt.Add(w.dur); !fi.ModTime().Equal(end) {
			t.Errorf("%s: mtime %s, want %s", w.name, fi.ModTime(), end)
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		created, dur, err := sim.ReadMP4Info(f)
		f.Close()
		if err != nil || !created.Equal(rn.StartedAt) || dur != w.dur {
			t.Errorf("%s: ReadMP4Info = %s, %s, %v; want %s, %s", w.name, created, dur, err, rn.StartedAt, w.dur)
		}
		if !strings.Contains(out, "DCIM/100MEDIA/"+w.name) {
			t.Errorf("output does not list %s:\n%s", w.name, out)
		}
		if i == 0 && !rn.StartedAt.Equal(start) {
			t.Errorf("first recording starts %s, want %s", rn.StartedAt, start)
		}
	}
	if !strings.Contains(out, "created "+dir+": 3 recordings") {
		t.Errorf("no summary in output:\n%s", out)
	}

	// The same volume again: refused, and the first one left as it was.
	code, _, errOut = run(t, "sim", "--into", dir, "--serial", "DSJ0001", "--officer", "100234", "--sizes", "1MB")
	if code != ExitFailure || !strings.Contains(errOut, "already exists") {
		t.Errorf("second sim into %s: exit %d, stderr %q; want 1 and already exists", dir, code, errOut)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 1 {
		t.Errorf("parent holds %d entries after the refused run, want 1", len(ents))
	}
}

func TestSimDefaultStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := NewSimCommand(&bytes.Buffer{})
	c.Now = func() time.Time { return now }
	if err := c.ParseFlags(context.Background(), []string{"--into", dir, "--serial", "DSJ0001", "--officer", "100234",
		"--sizes", "10MB,10MB", "--durations", "1m,2m"}); err != nil {
		t.Fatal(err)
	}
	recs := c.Volume.Recordings
	end := recs[len(recs)-1].EndedAt()
	if end.After(now) || now.Sub(end) > 2*time.Minute {
		t.Errorf("last recording ends %s, want about a minute before %s", end, now)
	}
	if got := recs[1].StartedAt.Sub(recs[0].EndedAt()); got != DefaultGap {
		t.Errorf("gap %s, want default %s", got, DefaultGap)
	}
}

func TestUsage(t *testing.T) {
	into := filepath.Join(t.TempDir(), "v")
	ok := []string{"sim", "--into", into, "--serial", "DSJ0001", "--officer", "100234", "--sizes", "1MB"}
	with := func(extra ...string) []string { return append(append([]string{}, ok...), extra...) }
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring expected on stdout
		stderr string // substring expected on stderr
	}{
		{"help", []string{"help"}, ExitOK, "Commands:\n  ports", ""},
		{"-h", []string{"-h"}, ExitOK, "  sim-device  run a simulated recorder", ""},
		{"help sim", []string{"help", "sim"}, ExitOK, "-duration-per-mb", ""},
		{"sim -h", []string{"sim", "-h"}, ExitOK, "Usage: evidock-bridge sim", ""},
		{"no command", nil, ExitUsage, "", "no command given (want one of: ports, info, set-info, sync-time, msdc, list, pull, sim, sim-device)"},
		{"unknown", []string{"frobnicate"}, ExitUsage, "", `unknown command "frobnicate" (available: ports,`},
		{"help unknown", []string{"help", "x"}, ExitUsage, "", `unknown command "x"`},
		{"bad flag", with("--bogus"), ExitUsage, "", "flag provided but not defined: -bogus"},
		{"extra arg", with("x"), ExitUsage, "", `unexpected argument "x"`},
		{"no into", []string{"sim", "--serial", "DSJ0001"}, ExitUsage, "", "--into is required"},
		{"serial", with("--serial", "AB1"), ExitUsage, "", `--serial "AB1": must be 7 letters or digits`},
		{"serial symbol", with("--serial", "DSJ-001"), ExitUsage, "", `--serial "DSJ-001"`},
		{"officer", with("--officer", "12345a"), ExitUsage, "", `--officer "12345a": must be 6 digits`},
		{"no sizes", with("--sizes", ""), ExitUsage, "", "--sizes is required"},
		{"bad size", with("--sizes", "1MB,5XB"), ExitUsage, "", `item 2 "5XB": unknown unit "XB"`},
		{"tiny size", with("--sizes", "1MB,100"), ExitUsage, "", "--sizes item 2 is 100 bytes"},
		{"start", with("--start", "yesterday"), ExitUsage, "", `--start "yesterday": want a time like`},
		{"gap", with("--gap", "-1s"), ExitUsage, "", "--gap -1s: must not be negative"},
		{"per mb", with("--duration-per-mb", "0s"), ExitUsage, "", "--duration-per-mb 0s: must be positive"},
		{"durations count", with("--durations", "1m,2m"), ExitUsage, "", "--durations: 2 durations for 1 sizes"},
		{"durations item", with("--durations", "soon"), ExitUsage, "", `--durations item 1 "soon"`},
		{"first seq", with("--first-seq", "999999", "--sizes", "1MB,1MB"), ExitUsage, "", "--first-seq 999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout ~ %q, stderr ~ %q", code, tt.code, out, errOut, tt.stdout, tt.stderr)
			}
			if _, err := os.Lstat(into); err == nil {
				t.Errorf("%s was created", into)
			}
		})
	}
}
