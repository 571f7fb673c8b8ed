package e2e_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock/agent"
	"evidock/firmware-bridge/sim"
	"evidock/server/translog"
)

// TestOutages takes the object store and the case server down while a
// recorder is docked: recordings wait, staged, with the reason, and go
// through to cleared once each comes back; nothing fails or is cleared early.
func TestOutages(t *testing.T) {
	e := newEnv(t)
	e.s3.Stop()
	e.stopServer()
	e.start()
	files := e.dock("DSJ0005", shiftVolume("DSJ0005"))

	// With the store down, everything is staged and waits on upload.
	e.waitFor("every recording staged, waiting for the store", func(recs []*agent.Recording) bool {
		waiting := 0
		for _, r := range recs {
			if (r.State == agent.StateStaged || r.State == agent.StateUploading) && r.Error != "" {
				waiting++
			}
			if r.State == agent.StateFailed {
				t.Fatalf("%s failed during an outage: %s", r.FileName, r.Error)
			}
		}
		return len(recs) == len(files) && waiting >= 1
	})
	assertOnRecorder(t, e, "DSJ0005", files)
	if st, err := e.agent.Stats(context.Background()); err != nil || st.OldestUnregistered.IsZero() {
		t.Errorf("stats during the outage %+v, %v: want the oldest unregistered recording", st, err)
	}

	// Store back, server still down: stored, waiting on registration.
	e.s3.Restart(t)
	e.waitFor("every recording stored, waiting for the server", func(recs []*agent.Recording) bool {
		for _, r := range recs {
			if r.State != agent.StateStored {
				return false
			}
		}
		return len(recs) == len(files)
	})
	assertOnRecorder(t, e, "DSJ0005", files)

	e.restartServer()
	for _, r := range e.waitSettled(len(files)) {
		if r.State != agent.StateCleared {
			t.Errorf("%s: %s %q, want cleared", r.FileName, r.State, r.Error)
		}
	}
}

// TestSecondReadDiffers gives the agent a recorder whose second read of one
// file returns other bytes: that file is registered (the first read was
// verified all the way) but never cleared, and the reason says ALARM.
func TestSecondReadDiffers(t *testing.T) {
	e := newEnv(t)
	files := e.dock("DSJ0006", shiftVolume("DSJ0006"))
	flaky := files[2].Name
	var mu sync.Mutex
	opens := 0
	e.agent.OpenVolume = func(dir string) fs.FS {
		return flakyFS{FS: os.DirFS(dir), name: flaky, corrupt: func() bool {
			mu.Lock()
			defer mu.Unlock()
			opens++
			return opens > 1
		}}
	}
	e.start()
	for _, r := range e.waitSettled(len(files)) {
		want := agent.StateCleared
		if r.FileName == flaky {
			want = agent.StateKept
			if !strings.Contains(r.Error, "ALARM") || r.ClipID == 0 {
				t.Errorf("%s: kept with %q, clip %d; want an ALARM and a registration", r.FileName, r.Error, r.ClipID)
			}
		}
		if r.State != want {
			t.Errorf("%s: %s %q, want %s", r.FileName, r.State, r.Error, want)
		}
	}
	if _, err := os.Stat(filepath.Join(e.mountRoot, "DSJ0006", sim.MediaDir, flaky)); err != nil {
		t.Errorf("the flaky file must stay on the recorder: %v", err)
	}
	st, err := e.agent.Status(context.Background())
	if err != nil || len(st.Recorders) != 1 || st.Recorders[0].Phase != agent.PhaseAttention || !st.Recorders[0].SafeToUnplug {
		t.Errorf("dock status %+v, %v; want one recorder needing attention", st, err)
	}
}

// TestStagingDiskFull runs ingest on a tmpfs too small for the largest
// recording: it waits on its recorder with an alarm while the ones that fit
// go through, nothing fails or is half-written, and ingest goes on by
// itself once there is room. Needs root for mount.
func TestStagingDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("TestStagingDiskFull needs root to mount a size-limited tmpfs, and CI runs as root")
		}
		t.Skip("SKIPPING: TestStagingDiskFull needs root to mount a size-limited tmpfs")
	}
	e := newEnv(t)
	staging := e.agent.StagingDir
	must(t, os.MkdirAll(staging, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=10m", "tmpfs", staging).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", staging).Run() })
	e.agent.StagingReserve = 1 << 20
	e.start()
	files := e.dock("DSJ0007", shiftVolume("DSJ0007")) // the oldest is 13 MiB

	big := files[0].Name
	e.waitFor("the small recordings cleared, the large one waiting for room", func(recs []*agent.Recording) bool {
		cleared, waiting := 0, false
		for _, r := range recs {
			switch {
			case r.State == agent.StateFailed:
				t.Fatalf("%s failed on a full disk: %s", r.FileName, r.Error)
			case r.State == agent.StateCleared:
				cleared++
			case r.FileName == big && strings.Contains(r.Error, "staging disk nearly full"):
				waiting = true
			}
		}
		return cleared == len(files)-1 && waiting
	})
	if _, err := os.Stat(filepath.Join(e.mountRoot, "DSJ0007", files[0].Path)); err != nil {
		t.Fatalf("the waiting recording must stay on the recorder: %v", err)
	}
	if partial, _ := filepath.Glob(filepath.Join(staging, "*.partial")); len(partial) != 0 {
		t.Errorf("staging holds %v, want nothing half-written", partial)
	}
	st, err := e.agent.Status(context.Background())
	if err != nil || len(st.Alarms) != 1 || st.Alarms[0].Kind != agent.AlarmStagingFull {
		t.Errorf("dock status alarms %+v, %v; want staging_full", st.Alarms, err)
	}

	// The administrator makes room; ingest resumes by itself.
	if out, err := exec.Command("mount", "-o", "remount,size=64m", staging).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	for _, r := range e.waitSettled(len(files)) {
		if r.State != agent.StateCleared {
			t.Errorf("%s: %s %q, want cleared", r.FileName, r.State, r.Error)
		}
	}
	if st, _ := e.agent.Status(context.Background()); len(st.Alarms) != 0 {
		t.Errorf("alarms after room was made: %+v", st.Alarms)
	}
}

// waitFor polls the agent's state until ok says yes.
func (e *env) waitFor(what string, ok func([]*agent.Recording) bool) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		recs, err := e.state.FindRecordings(context.Background(), agent.RecordingFilter{})
		if err != nil {
			e.t.Fatal(err)
		}
		if ok(recs) {
			return
		}
		if time.Now().After(deadline) {
			for _, r := range recs {
				e.t.Logf("%s: %s %s", r.FileName, r.State, r.Error)
			}
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func assertOnRecorder(t *testing.T, e *env, volume string, files []docked) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(e.mountRoot, volume, f.Path)); err != nil {
			t.Errorf("%s left the recorder before it was safe: %v", f.Name, err)
		}
	}
}

// flakyFS returns other bytes for one file whenever corrupt says so, as a
// flaky USB link can; a real one cannot be made to misread on cue.
type flakyFS struct {
	fs.FS
	name    string
	corrupt func() bool
}

func (f flakyFS) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil || filepath.Base(name) != f.name || !f.corrupt() {
		return file, err
	}
	b, err := io.ReadAll(file)
	file.Close()
	if err != nil {
		return nil, err
	}
	b[len(b)/2] ^= 0x01
	return &memFile{Reader: bytes.NewReader(b)}, nil
}

type memFile struct{ *bytes.Reader }

func (m *memFile) Stat() (fs.FileInfo, error) { return nil, fs.ErrInvalid }
func (m *memFile) Close() error               { return nil }

// TestStagedCopiesPruned checks that staged copies (the dock's backup) are
// removed only once their recording is safe: past KeepStaged, or oldest
// first while the disk is below the low-water mark.
func TestStagedCopiesPruned(t *testing.T) {
	e := newEnv(t)
	e.agent.KeepStaged = time.Nanosecond
	e.agent.StagingLowWater = 1 << 50 // always "below": prune every safe copy
	e.stopServer()
	e.start()
	files := e.dock("DSJ0008", shiftVolume("DSJ0008"))
	e.waitFor("every recording stored, waiting for the server", func(recs []*agent.Recording) bool {
		n := 0
		for _, r := range recs {
			if r.State == agent.StateStored {
				n++
			}
		}
		return n == len(files)
	})
	e.stop()
	e.start() // the janitor runs at start
	time.Sleep(200 * time.Millisecond)
	recs, err := e.state.FindRecordings(context.Background(), agent.RecordingFilter{})
	must(t, err)
	for _, r := range recs {
		if _, err := os.Stat(r.StagedPath); r.StagedPath == "" || err != nil {
			t.Errorf("%s: staged copy of an unregistered recording removed (%q, %v)", r.FileName, r.StagedPath, err)
		}
	}

	e.restartServer()
	settled := e.waitSettled(len(files))
	e.stop()
	e.start()
	e.waitFor("staged copies of safe recordings removed", func(recs []*agent.Recording) bool {
		for _, r := range recs {
			if r.StagedPath != "" {
				return false
			}
		}
		return true
	})
	for _, r := range settled {
		if _, err := os.Stat(r.StagedPath); !os.IsNotExist(err) {
			t.Errorf("%s: staged copy %s still there (%v)", r.FileName, r.StagedPath, err)
		}
	}
}

// TestForeignReceiptNotTrusted gives the agent another log's key, as if the
// server (or someone in between) signed receipts with a key the station does
// not trust: no recording counts as registered and none is cleared.
func TestForeignReceiptNotTrusted(t *testing.T) {
	e := newEnv(t)
	_, other, err := translog.GenerateKey("someone.else/registry")
	must(t, err)
	e.agent.LogKey = other
	e.start()
	files := e.dock("DSJ0009", shiftVolume("DSJ0009"))
	for _, r := range e.waitSettled(len(files)) {
		if r.State != agent.StateFailed || !strings.Contains(r.Error, "receipt") {
			t.Errorf("%s: %s %q, want failed on the receipt", r.FileName, r.State, r.Error)
		}
	}
	assertOnRecorder(t, e, "DSJ0009", files)
}
