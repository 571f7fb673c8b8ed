package agent_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"evidock/agent"
	"evidock/agent/sqlite"
)

// TestNotesCarryCodes docks a recorder whose files go wrong in the ways a
// copy can (a bad name, an empty file, a read that fails mid-copy, a file
// gone before it was opened) and checks that each one's note reaches the
// state store and the dock status with its code beside the English. The
// state store is the real one; the recorder's faults are faked, as a real
// unplug cannot be timed inside a test.
func TestNotesCarryCodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mounts := filepath.Join(dir, "mnt")
	vol := filepath.Join(mounts, "DSJ0003")
	media := filepath.Join(vol, "DCIM")
	if err := os.MkdirAll(media, 0o755); err != nil {
		t.Fatal(err)
	}
	const (
		badName  = "DSJ0003_100234_2026112508_0099.MP4"
		empty    = "DSJ0003_100234_20261125170000_0100.MP4"
		readFail = "DSJ0003_100234_20261125080000_0001.MP4"
		gone     = "DSJ0003_100234_20261125090000_0002.MP4"
	)
	for name, size := range map[string]int{badName: 10, empty: 0, readFail: 3 << 20, gone: 1000} {
		if err := os.WriteFile(filepath.Join(media, name), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := &agent.Agent{
		StationID: "dock-01", MountRoot: mounts, StagingDir: filepath.Join(dir, "staging"), State: db,
		Settle: 10 * time.Millisecond, StagingReserve: 1,
		OpenVolume: func(d string) fs.FS { return failingFS{FS: os.DirFS(d), name: readFail, after: 1 << 20} },
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	// Scan first, then lose one file before it is copied.
	if err := a.ScanVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(media, gone)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- a.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	want := map[string]struct {
		state agent.State
		code  agent.NoteCode
	}{
		badName:  {agent.StateRejected, agent.NoteBadName},
		empty:    {agent.StateRejected, agent.NoteEmptyFile},
		readFail: {agent.StateFailed, agent.NoteRecorderRead},
		gone:     {agent.StateFailed, agent.NoteRecorderUnplugged},
	}
	var st *agent.DockStatus
	for {
		st, err = a.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		settled := len(st.Recorders) == 1 && len(st.Recorders[0].Recordings) == len(want)
		for _, r := range st.Recorders[0:min(1, len(st.Recorders))] {
			for _, f := range r.Recordings {
				settled = settled && !f.State.Pending()
			}
		}
		if settled {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not settled: %+v", st)
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, f := range st.Recorders[0].Recordings {
		w := want[f.FileName]
		if f.State != w.state || f.NoteCode != w.code || f.Note == "" {
			t.Errorf("%s: %s %q %q, want %s with code %q and an English note", f.FileName, f.State, f.NoteCode, f.Note, w.state, w.code)
		}
	}
	// The store keeps the code, so that a restarted agent says it too.
	recs, err := db.FindRecordings(ctx, agent.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.ErrorCode != want[r.FileName].code {
			t.Errorf("stored %s: code %q, want %q", r.FileName, r.ErrorCode, want[r.FileName].code)
		}
	}
}

// failingFS is a recorder volume whose file name fails to read after some
// bytes, as a recorder pulled out mid-copy does.
type failingFS struct {
	fs.FS
	name  string
	after int64
}

func (u failingFS) Open(name string) (fs.File, error) {
	f, err := u.FS.Open(name)
	if err != nil || filepath.Base(name) != u.name {
		return f, err
	}
	return &failingFile{File: f, left: u.after}, nil
}

type failingFile struct {
	fs.File
	left int64
}

func (f *failingFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, &fs.PathError{Op: "read", Path: "recorder", Err: errors.New("input/output error")}
	}
	p = p[:min(int64(len(p)), f.left)]
	n, err := f.File.Read(p)
	f.left -= int64(n)
	return n, err
}
