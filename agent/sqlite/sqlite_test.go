package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"evidock"
	"evidock/agent"
	"evidock/agent/sqlite"
)

func mustOpen(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func rec(name string, started time.Time) *agent.Recording {
	return &agent.Recording{Volume: "/media/a", RelPath: "DCIM/" + name, FileName: name, Size: 100,
		ModTime: started.Add(time.Minute), DeviceSerial: "DSJ0001", OfficerNo: "100234", StartedAt: started,
		Seq: 1, Kind: evidock.MediaVideo, State: agent.StateDiscovered}
}

func TestStateStore(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime)
	late, early := rec("B.MP4", t0.Add(time.Hour)), rec("A.MP4", t0)
	for _, r := range []*agent.Recording{late, early} {
		if added, err := db.AddRecording(ctx, r); err != nil || !added || r.ID == 0 {
			t.Fatalf("add %s: %v %v", r.FileName, added, err)
		}
	}
	// The same file again (a second dock) is not added.
	if added, err := db.AddRecording(ctx, rec("A.MP4", t0)); err != nil || added {
		t.Fatalf("re-add: %v %v", added, err)
	}
	// Oldest recording first: nearest deadline.
	next, err := db.NextRecording(ctx, agent.StateDiscovered)
	if err != nil || next.FileName != "A.MP4" {
		t.Fatalf("next = %+v, %v", next, err)
	}
	// Every mutable field survives a round trip.
	next.State = agent.StateUploading
	next.Digest, _ = evidock.ParseDigest("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")
	next.StagedPath, next.UploadID = "/staging/1_A.MP4", "upload-1"
	next.Parts = []evidock.Part{{Number: 1, Size: 5, ETag: `"e"`, Checksum: "c=="}}
	next.IngestedAt = time.Now()
	if err := db.UpdateRecording(ctx, next); err != nil {
		t.Fatal(err)
	}
	got, err := db.NextRecording(ctx, agent.StateUploading)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != next.Digest || got.UploadID != "upload-1" || len(got.Parts) != 1 || got.Parts[0] != next.Parts[0] ||
		!got.IngestedAt.Equal(next.IngestedAt) || !got.StartedAt.Equal(t0) || got.Kind != evidock.MediaVideo {
		t.Fatalf("round trip: got %+v, want %+v", got, next)
	}
	if _, err := db.NextRecording(ctx, agent.StateStored); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("next stored: %v, want not found", err)
	}

	// A failed recording is queued again when its recorder is docked again.
	got.State, got.Error = agent.StateFailed, "unplugged"
	must(t, db.UpdateRecording(ctx, got))
	again := rec("A.MP4", t0)
	again.Volume = "/media/b"
	if added, err := db.AddRecording(ctx, again); err != nil || !added {
		t.Fatalf("requeue failed: %v %v", added, err)
	}
	recs, err := db.FindRecordings(ctx, agent.RecordingFilter{Volume: "/media/b"})
	if err != nil || len(recs) != 1 || recs[0].State != agent.StateDiscovered || recs[0].Error != "" {
		t.Fatalf("after requeue: %+v, %v", recs, err)
	}
	if recs, _ := db.FindRecordings(ctx, agent.RecordingFilter{States: []agent.State{agent.StateDiscovered}}); len(recs) != 2 {
		t.Fatalf("discovered = %d, want 2", len(recs))
	}
	if err := db.UpdateRecording(ctx, &agent.Recording{ID: 999}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("update missing: %v", err)
	}
}

// TestStateSurvivesReopen checks that state is on disk, not in memory.
func TestStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agent.db")
	db, err := sqlite.Open(ctx, path)
	must(t, err)
	r := rec("A.MP4", time.Now())
	_, err = db.AddRecording(ctx, r)
	must(t, err)
	must(t, db.Close())
	db, err = sqlite.Open(ctx, path)
	must(t, err)
	defer db.Close()
	if got, err := db.NextRecording(ctx, agent.StateDiscovered); err != nil || got.ID != r.ID {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestErrorCode checks that a recording's note code is kept with its note:
// on insert (a rejected file), on update, and cleared with the note when a
// failed recording is queued again.
func TestErrorCode(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime)
	bad := rec("NOTES.TXT.MP4", t0)
	bad.State, bad.ErrorCode, bad.Error = agent.StateRejected, agent.NoteBadName, "bad name"
	must(t, func() error { _, err := db.AddRecording(ctx, bad); return err }())
	r := rec("A.MP4", t0)
	must(t, func() error { _, err := db.AddRecording(ctx, r); return err }())
	r.State, r.ErrorCode, r.Error = agent.StateFailed, agent.NoteRecorderRead, "copy: input/output error"
	must(t, db.UpdateRecording(ctx, r))

	byName := func() map[string]*agent.Recording {
		recs, err := db.FindRecordings(ctx, agent.RecordingFilter{})
		must(t, err)
		m := map[string]*agent.Recording{}
		for _, r := range recs {
			m[r.FileName] = r
		}
		return m
	}
	got := byName()
	if g := got["NOTES.TXT.MP4"]; g.ErrorCode != agent.NoteBadName || g.Error != "bad name" {
		t.Errorf("rejected: %q %q", g.ErrorCode, g.Error)
	}
	if g := got["A.MP4"]; g.ErrorCode != agent.NoteRecorderRead || g.Error != "copy: input/output error" {
		t.Errorf("failed: %q %q", g.ErrorCode, g.Error)
	}
	// Docked again: queued from the start, with neither note nor code.
	if added, err := db.AddRecording(ctx, rec("A.MP4", t0)); err != nil || !added {
		t.Fatalf("requeue: %v %v", added, err)
	}
	if g := byName()["A.MP4"]; g.State != agent.StateDiscovered || g.ErrorCode != "" || g.Error != "" {
		t.Errorf("requeued: %s %q %q", g.State, g.ErrorCode, g.Error)
	}
}
