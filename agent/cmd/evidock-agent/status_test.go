package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock/agent"
	"evidock/agent/dockscreen"
	"evidock/agent/sqlite"
	"evidock/internal/cli"
)

// fakeDock is a dockscreen.StatusSource with a fixed answer.
type fakeDock struct {
	st  *agent.DockStatus
	err error
}

func (f *fakeDock) Status(context.Context) (*agent.DockStatus, error) { return f.st, f.err }

// copyingDock is a dock with one recorder being copied and one done.
func copyingDock() *agent.DockStatus {
	return &agent.DockStatus{
		StationID: "dock-01",
		At:        time.Date(2024, 5, 1, 1, 30, 5, 0, time.UTC),
		Recorders: []agent.RecorderStatus{{
			DeviceSerial: "DSJ0001", OfficerNo: "100234", FilesDone: 2, FilesTotal: 5,
			BytesDone: 540, BytesTotal: 1000, BytesPerSec: 12_500_000, ETASeconds: 75,
			Phase: agent.PhaseCopying, ReasonCode: agent.ReasonCopying, Reason: "do not unplug: footage is being copied off the recorder",
			CopyBytesLeft: 230_000_000, CopyBytesPerSec: 1_000_000, CopyETASeconds: 230,
		}, {
			DeviceSerial: "DSJ0002", OfficerNo: "100235", FilesDone: 1, FilesTotal: 1, BytesDone: 10, BytesTotal: 10, ETASeconds: -1,
			Phase: agent.PhaseDone, SafeToUnplug: true, ReasonCode: agent.ReasonDone, Reason: "safe to unplug: all footage is stored, registered and cleared",
		}},
	}
}

// serveDock serves src's dock screen on loopback and returns its listen
// address.
func serveDock(t *testing.T, src dockscreen.StatusSource) string {
	t.Helper()
	srv := httptest.NewServer(dockscreen.New(src, dockscreen.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// statusConfig writes an agent config for status with the dock screen at
// listen and returns its path and the state database's.
func statusConfig(t *testing.T, listen string) (config, state string) {
	t.Helper()
	dir := t.TempDir()
	state = filepath.Join(dir, "agent.db")
	config = filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf("station_id: dock-01\nstate_path: %s\ndock_screen: {listen: %q}\n", state, listen)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, state
}

// seedState records one recording per state in the state database at path.
func seedState(t *testing.T, path string, states ...agent.State) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, s := range states {
		name := fmt.Sprintf("DSJ0001_100234_20240501%02d0000_%04d.mp4", 8+i, i+1)
		r := &agent.Recording{Volume: "/media/evidock/DSJ0001", RelPath: "DCIM/" + name, FileName: name, Size: int64(1000 + i),
			DeviceSerial: "DSJ0001", OfficerNo: "100234", State: agent.StateDiscovered}
		if _, err := db.AddRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.State = s
		if s == agent.StateFailed {
			r.ErrorCode, r.Error = agent.NoteRecorderRead, "copy: input/output error"
		}
		if s == agent.StateKept {
			r.ErrorCode, r.Error = "from_a_newer_agent", "kept for a reason this build does not know"
		}
		if err := db.UpdateRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

func status(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = runStatus(ctx, args, &o, &e)
	return o.String(), e.String(), err
}

func TestStatusLive(t *testing.T) {
	config, _ := statusConfig(t, serveDock(t, &fakeDock{st: copyingDock()}))
	out, _, err := status(context.Background(), "--config", config, "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Recorder dock · Station dock-01 · Updated 2024-05-01 09:30:05 (Beijing time)",
		"DSJ0001", "100234", "[██████████░░░░░░░░░░]  54%", "2 / 5", "12.5 MB/s", "01:15",
		"DO NOT UNPLUG: footage is being copied off the recorder; safe to unplug in ~4 min",
		"DSJ0002", "SAFE TO UNPLUG: all footage is stored, registered and cleared",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("status wrote escape sequences to a non-terminal:\n%q", out)
	}

	out, _, err = status(context.Background(), "--config", config, "--lang", "zh-CN")
	if err != nil || !strings.Contains(out, "请勿拔出：正在从记录仪复制视频，拔出会中断复制；可以拔出还需 ~4 分钟") || !strings.Contains(out, "可以拔出：") {
		t.Errorf("status --lang zh-CN: %v\n%s", err, out)
	}
}

func TestStatusLangFromEnvironment(t *testing.T) {
	config, _ := statusConfig(t, serveDock(t, &fakeDock{st: copyingDock()}))
	for _, tt := range []struct{ lang, want string }{{"zh_CN.UTF-8", "请勿拔出"}, {"en_US.UTF-8", "DO NOT UNPLUG"}, {"", "DO NOT UNPLUG"}} {
		t.Setenv("LC_ALL", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", tt.lang)
		out, _, err := status(context.Background(), "--config", config)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("LANG=%q: %v, want %q in\n%s", tt.lang, err, tt.want, out)
		}
	}
}

func TestStatusAgentNotRunning(t *testing.T) {
	config, state := statusConfig(t, closedAddr(t))
	seedState(t, state, agent.StateCleared, agent.StateCopying)
	out, errOut, err := status(context.Background(), "--config", config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "the agent is not running") {
		t.Errorf("stderr %q, want a note that the agent is not running", errOut)
	}
	if !strings.Contains(out, "FILE") || !strings.Contains(out, "cleared") || !strings.Contains(out, "copying") {
		t.Errorf("want the state database's table:\n%s", out)
	}

	config, state = statusConfig(t, "")
	seedState(t, state, agent.StateKept)
	out, errOut, err = status(context.Background(), "--config", config)
	if err != nil || !strings.Contains(errOut, "dock screen is off") || !strings.Contains(out, "kept") {
		t.Errorf("status with the dock screen off: %v\nstderr %s\nstdout %s", err, errOut, out)
	}
}

func TestStatusAgentCannotSay(t *testing.T) {
	config, _ := statusConfig(t, serveDock(t, &fakeDock{err: errors.New("state store: database is locked")}))
	_, _, err := status(context.Background(), "--config", config)
	if err == nil || !strings.Contains(err.Error(), "database is locked") || exitCode(err) != cli.ExitFailure {
		t.Errorf("status of an agent whose status fails: %v (exit %d)", err, exitCode(err))
	}
}

func TestStatusAll(t *testing.T) {
	// --all reads the database even when the agent answers.
	config, state := statusConfig(t, serveDock(t, &fakeDock{st: copyingDock()}))
	seedState(t, state, agent.StateCleared, agent.StateKept, agent.StateFailed)
	out, _, err := status(context.Background(), "--config", config, "--all")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "FILE") || strings.Contains(out, "UNPLUG") {
		t.Errorf("status --all:\n%s", out)
	}
	// Notes in the officer's language with the English detail; a code this
	// build does not know, in English.
	for lang, want := range map[string][]string{
		"en":    {"Reading the recorder failed; the copy is incomplete. Dock it again; if it happens again, call the administrator. [copy: input/output error]"},
		"zh-CN": {"读取记录仪出错，未复制完。请重新插入；如再出现，请联系管理员 [copy: input/output error]", "kept for a reason this build does not know\n"},
	} {
		out, _, err := status(context.Background(), "--config", config, "--all", "--lang", lang)
		for _, w := range want {
			if err != nil || !strings.Contains(out, w) {
				t.Errorf("status --all --lang %s: %v, want %q in\n%s", lang, err, w, out)
			}
		}
	}
}

// TestStatusWait pins what the demo and the end-to-end tests rely on:
// "status --wait --min N --timeout D" exits 0 once nothing is pending, 1
// when something failed, 3 on timeout.
func TestStatusWait(t *testing.T) {
	for name, tt := range map[string]struct {
		states []agent.State
		min    string
		exit   int
	}{
		"all done":      {[]agent.State{agent.StateCleared, agent.StateKept, agent.StateRejected}, "3", cli.ExitOK},
		"one failed":    {[]agent.State{agent.StateCleared, agent.StateFailed}, "2", cli.ExitFailure},
		"one pending":   {[]agent.State{agent.StateCleared, agent.StateStaged}, "2", cli.ExitTimeout},
		"too few known": {[]agent.State{agent.StateCleared}, "6", cli.ExitTimeout},
	} {
		config, state := statusConfig(t, closedAddr(t))
		seedState(t, state, tt.states...)
		out, _, err := status(context.Background(), "--config", config, "--wait", "--min", tt.min, "--timeout", "700ms")
		if got := exitCode(err); got != tt.exit {
			t.Errorf("%s: exit %d (%v), want %d", name, got, err, tt.exit)
		}
		if !strings.HasPrefix(out, "FILE") {
			t.Errorf("%s: output\n%s", name, out)
		}
	}

	// A recording that finishes while status waits ends the wait.
	config, state := statusConfig(t, closedAddr(t))
	seedState(t, state, agent.StateUploading)
	go func() {
		time.Sleep(300 * time.Millisecond)
		db, err := sqlite.Open(context.Background(), state)
		if err != nil {
			return
		}
		defer db.Close()
		recs, _ := db.FindRecordings(context.Background(), agent.RecordingFilter{})
		for _, r := range recs {
			r.State = agent.StateCleared
			db.UpdateRecording(context.Background(), r)
		}
	}()
	if _, _, err := status(context.Background(), "--config", config, "--wait", "--min", "1", "--timeout", "10s"); err != nil {
		t.Errorf("wait for a recording that finishes: %v", err)
	}
}

func TestStatusWatch(t *testing.T) {
	config, _ := statusConfig(t, serveDock(t, &fakeDock{st: copyingDock()}))
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	out, _, err := status(ctx, "--config", config, "--watch", "--lang", "en")
	if err != nil {
		t.Fatalf("status --watch ended with %v, want nil when interrupted", err)
	}
	if n := strings.Count(out, "DO NOT UNPLUG"); n < 2 {
		t.Errorf("status --watch drew %d views in 1.5s, want 2:\n%s", n, out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("status --watch cleared a non-terminal:\n%q", out)
	}

	config, _ = statusConfig(t, closedAddr(t))
	ctx, cancel = context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	out, _, err = status(ctx, "--config", config, "--watch")
	if err != nil || !strings.Contains(out, "does not answer") {
		t.Errorf("status --watch with no agent: %v\n%s", err, out)
	}
}

func TestStatusUsage(t *testing.T) {
	config, _ := statusConfig(t, closedAddr(t))
	for _, args := range [][]string{
		{},
		{"--config", config, "--watch", "--all"},
		{"--config", config, "--watch", "--wait"},
		{"--config", config, "--lang", "fr"},
		{"--config", config, "--bogus"},
		{"--config", config, "extra"},
		{"--config", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		if _, _, err := status(context.Background(), args...); exitCode(err) != cli.ExitUsage {
			t.Errorf("status %q: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	config, _ = statusConfig(t, "")
	if _, _, err := status(context.Background(), "--config", config, "--watch"); exitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "dock_screen.listen") {
		t.Errorf("status --watch with the dock screen off: %v", err)
	}
	if _, _, err := status(context.Background(), "-h"); exitCode(err) != cli.ExitOK {
		t.Errorf("status -h: %v", err)
	}
}
