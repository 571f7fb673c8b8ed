package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"evidock"
	"evidock/agent"
	"evidock/agent/sqlite"
)

// TestIngestQueued docks a recorder of several files, runs the ingest stage
// alone (each file's fsync overlapping the next file's read) and checks
// that it returns once every recording is staged, each with the BLAKE3 of
// its bytes, each staged copy equal to the recorder's file, and no
// temporary copy left behind.
func TestIngestQueued(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vol := filepath.Join(dir, "mnt", "DSJ0004")
	media := filepath.Join(vol, "DCIM")
	if err := os.MkdirAll(media, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{4})
	want := map[string][]byte{}
	for i := range 6 {
		name := fmt.Sprintf("DSJ0004_100234_20261125%02d0000_%04d.MP4", 8+i, i+1)
		body := make([]byte, 3<<20+i*1000) // not whole chunks
		rng.Read(body)
		if err := os.WriteFile(filepath.Join(media, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = body
	}
	staging := filepath.Join(dir, "staging")
	a := &agent.Agent{
		StationID: "dock-01", MountRoot: filepath.Dir(vol), StagingDir: staging, State: db,
		StagingReserve: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if err := os.MkdirAll(staging, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := a.ScanVolume(ctx, vol); err != nil {
		t.Fatal(err)
	}
	if err := a.IngestQueued(ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := db.FindRecordings(ctx, agent.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("%d recordings, want %d", len(recs), len(want))
	}
	for _, r := range recs {
		body := want[r.FileName]
		d, _, _ := evidock.DigestOf(bytes.NewReader(body))
		if r.State != agent.StateStaged || r.Digest != d {
			t.Errorf("%s: %s with blake3 %s (%s); want staged with %s", r.FileName, r.State, r.Digest, r.Error, d)
			continue
		}
		if got, err := os.ReadFile(r.StagedPath); err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s: staged copy %s differs from the recorder's file (%v)", r.FileName, r.StagedPath, err)
		}
	}
	if partials, _ := filepath.Glob(filepath.Join(staging, "*.partial")); len(partials) > 0 {
		t.Errorf("temporary copies left: %v", partials)
	}
}
