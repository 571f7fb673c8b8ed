package e2e_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zeebo/blake3"

	"evidock"
	"evidock/agent"
	"evidock/firmware-bridge/sim"
)

// TestWholePath docks a simulated recorder and follows every recording to
// versitygw and the registry, then checks each stored object and each
// registry entry against an independent hash of the original file.
func TestWholePath(t *testing.T) {
	e := newEnv(t)
	e.start()
	files := e.dock("DSJ0001", shiftVolume("DSJ0001"))
	recs := e.waitSettled(len(files))
	ctx := context.Background()
	// The agent says at start which BLAKE3 code it hashes with.
	e.waitLog("hashing recordings with BLAKE3", 1)
	if want := "implementation=\"" + evidock.HashImplementation() + "\""; !e.logs.contains(want) {
		t.Errorf("the start-up log does not name the BLAKE3 code: want %s", want)
	}

	byName := map[string]*agent.Recording{}
	for _, r := range recs {
		byName[r.FileName] = r
	}
	for _, f := range files {
		name, want, size := f.Name, f.BLAKE3, f.Size
		r := byName[name]
		if r == nil || r.State != agent.StateCleared {
			t.Fatalf("%s: recording %+v, want cleared", name, r)
		}
		if _, err := os.Stat(filepath.Join(e.mountRoot, "DSJ0001", f.Path)); !os.IsNotExist(err) {
			t.Errorf("%s: still on the recorder after clearing (%v)", name, err)
		}
		if string(r.Digest[:]) != want {
			t.Errorf("%s: agent digest %s differs from the original's", name, r.Digest)
		}

		// The object in versitygw holds exactly the original bytes.
		rc, err := e.store.OpenObject(ctx, evidock.ObjectKey(r.Digest))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h := blake3.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil || n != size || string(h.Sum(nil)) != want {
			t.Errorf("%s: stored object: %d bytes (want %d), digest match %v, err %v", name, n, size, string(h.Sum(nil)) == want, err)
		}
		info, err := e.store.StatObject(ctx, evidock.ObjectKey(r.Digest))
		if err != nil || info.Metadata[evidock.MetaBLAKE3] != r.Digest.String() || info.Metadata[evidock.MetaOfficerNo] != "100234" ||
			info.Metadata[evidock.MetaDeviceSerial] != "DSJ0001" || info.Metadata[evidock.MetaStationID] != "dock-01" {
			t.Errorf("%s: object metadata %v, %v", name, info.Metadata, err)
		}

		// Nobody can delete or overwrite it (Art. 17).
		if mode, _, err := e.store.ObjectRetention(ctx, evidock.ObjectKey(r.Digest)); err != nil || mode != "COMPLIANCE" {
			t.Errorf("%s: object retention %q, %v; want COMPLIANCE", name, mode, err)
		}

		// The registry agrees with both.
		clip, err := e.client.FindClipByDigest(ctx, r.Digest)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if clip.Size != size || clip.FileName != name || clip.ObjectKey != evidock.ObjectKey(r.Digest) ||
			clip.DeviceSerial != "DSJ0001" || clip.OfficerNo != "100234" || !clip.StartedAt.Equal(f.Recording.StartedAt) ||
			clip.Seq != f.Recording.Seq || clip.StationID != "dock-01" || clip.ID != r.ClipID || clip.RegisteredAt.IsZero() {
			t.Errorf("%s: registry entry %+v does not match recording %+v", name, clip, r)
		}
		// The staged copy is the dock's 1:1 backup.
		if staged, _ := fileBLAKE3(t, r.StagedPath); staged != want {
			t.Errorf("%s: staged copy differs from the original", name)
		}
	}
	if _, total, err := e.client.FindClips(ctx, evidock.ClipFilter{DeviceSerial: "DSJ0001"}); err != nil || total != len(files) {
		t.Errorf("registry lists %d clips for DSJ0001 (%v), want %d", total, err, len(files))
	}
	if ups, err := e.store.ListUploads(ctx, ""); err != nil || len(ups) != 0 {
		t.Errorf("multipart uploads left behind: %v, %v", ups, err)
	}
	st, err := e.agent.Status(ctx)
	if err != nil || len(st.Recorders) != 1 {
		t.Fatalf("dock status %+v, %v", st, err)
	}
	if rs := st.Recorders[0]; rs.DeviceSerial != "DSJ0001" || rs.OfficerNo != "100234" || rs.FilesDone != len(files) ||
		rs.FilesTotal != len(files) || rs.BytesDone != rs.BytesTotal || rs.Phase != agent.PhaseDone || !rs.SafeToUnplug {
		t.Errorf("dock status of the recorder: %+v", rs)
	}
	stats, err := e.agent.Stats(ctx)
	var total int64
	for _, f := range files {
		total += f.Size
	}
	if err != nil || stats.BytesCopied != total || stats.BytesUploaded != total || len(stats.ByState) != 0 || !stats.OldestUnregistered.IsZero() {
		t.Errorf("agent stats %+v, %v; want %d bytes copied and uploaded, nothing pending", stats, err, total)
	}
	if e.objects.uploads != 1 {
		t.Errorf("%d multipart uploads, want 1 (the one recording above 6 MiB)", e.objects.uploads)
	}
}

// TestDockTwice docks the same recorder again with the same footage on it:
// nothing is uploaded or registered a second time, and the recorder is
// cleared again.
// TestWholePathOverTLS docks a recorder while the object store and the
// case server are on https with certificates of a private CA, trusted
// through ca_file alone: every recording is stored, registered with a
// verified receipt and cleared.
func TestWholePathOverTLS(t *testing.T) {
	e := newEnvTLS(t)
	if !strings.HasPrefix(e.s3.Endpoint, "https://") || !strings.HasPrefix(e.serverURL, "https://") {
		t.Fatalf("store %s and server %s: want both on https", e.s3.Endpoint, e.serverURL)
	}
	e.start()
	files := e.dock("DSJ0012", shiftVolume("DSJ0012"))
	for _, r := range e.waitSettled(len(files)) {
		if r.State != agent.StateCleared || r.ClipID == 0 || r.Receipt == "" {
			t.Errorf("%s: %s %q, clip %d; want cleared with a receipt", r.FileName, r.State, r.Error, r.ClipID)
		}
	}
	if _, total, err := e.client.FindClips(context.Background(), evidock.ClipFilter{DeviceSerial: "DSJ0012"}); err != nil || total != len(files) {
		t.Errorf("registry lists %d clips (%v), want %d", total, err, len(files))
	}
}

func TestDockTwice(t *testing.T) {
	e := newEnv(t)
	e.start()
	v := shiftVolume("DSJ0002")
	files := e.dock("DSJ0002", v)
	e.waitSettled(len(files))
	writes := e.objects.writes()

	// Unplug, then dock the same recorder again (same files, same bytes).
	if err := os.Rename(filepath.Join(e.mountRoot, "DSJ0002"), filepath.Join(t.TempDir(), "unplugged")); err != nil {
		t.Fatal(err)
	}
	e.dock("DSJ0002-again", v)
	e.waitLog("recorder docked", 2)
	recs := e.waitSettled(len(files))

	if len(recs) != len(files) {
		t.Errorf("agent tracks %d recordings after docking twice, want %d", len(recs), len(files))
	}
	for _, r := range recs {
		if r.State != agent.StateCleared {
			t.Errorf("%s after second dock: %s %q, want cleared", r.FileName, r.State, r.Error)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(e.mountRoot, "DSJ0002-again", sim.MediaDir, "*")); len(left) != 0 {
		t.Errorf("left on the recorder after the second dock: %v", left)
	}
	if got := e.objects.writes(); got != writes {
		t.Errorf("second dock wrote %d more objects, want none", got-writes)
	}
	if _, total, err := e.client.FindClips(context.Background(), evidock.ClipFilter{DeviceSerial: "DSJ0002"}); err != nil || total != len(files) {
		t.Errorf("registry lists %d clips (%v), want %d", total, err, len(files))
	}
	// Even if a station did send a recording again, the registry keeps one.
	clip := recs[0].Clip()
	created, err := e.client.RegisterClip(context.Background(), clip)
	if err != nil || created || clip.ID != recs[0].ClipID {
		t.Errorf("re-registration: created %v, id %d (want %d), %v", created, clip.ID, recs[0].ClipID, err)
	}
}

// TestBadInput docks a recorder with a malformed name, an empty file, a file
// whose read fails half-way (unplugged) and a file gone before its copy:
// each gets a clear reason, nothing of them is registered, and the rest of
// the recorder is ingested.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	v := shiftVolume("DSJ0003")
	dir := filepath.Join(e.mountRoot, "DSJ0003")
	files := e.dock("DSJ0003", v)
	media := filepath.Join(dir, sim.MediaDir)
	must(t, os.WriteFile(filepath.Join(media, "DSJ0003_100234_2026112508_0099.MP4"), []byte("not a recording name"), 0o644))
	must(t, os.WriteFile(filepath.Join(media, "DSJ0003_100234_20261125170000_0100.MP4"), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "MISC", "NOTES.TXT"), []byte("device log"), 0o644))
	unplugged := files[0].Name // the multipart-sized one
	gone := files[1].Name
	e.agent.OpenVolume = func(d string) fs.FS { return unplugFS{FS: os.DirFS(d), name: unplugged, after: 2 << 20} }

	// Scan first, then lose one file before it is copied.
	if err := e.agent.ScanVolume(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	must(t, os.Remove(filepath.Join(media, gone)))
	e.start()
	recs := e.waitSettled(len(files) + 2)

	want := map[string]struct {
		state  agent.State
		reason string
	}{
		"DSJ0003_100234_2026112508_0099.MP4":     {agent.StateRejected, "14 digits"},
		"DSJ0003_100234_20261125170000_0100.MP4": {agent.StateRejected, "empty"},
		unplugged:                                {agent.StateFailed, "input/output error"},
		gone:                                     {agent.StateFailed, "unplugged?"},
	}
	registered := 0
	for _, r := range recs {
		w, bad := want[r.FileName]
		switch {
		case bad && (r.State != w.state || !strings.Contains(r.Error, w.reason)):
			t.Errorf("%s: %s %q, want %s with a reason containing %q", r.FileName, r.State, r.Error, w.state, w.reason)
		case !bad && r.State != agent.StateCleared:
			t.Errorf("%s: %s %q, want cleared", r.FileName, r.State, r.Error)
		case !bad:
			registered++
		}
	}
	if registered != len(files)-2 || len(recs) != len(files)+2 {
		t.Errorf("%d registered of %d recordings; want %d of %d", registered, len(recs), len(files)-2, len(files)+2)
	}
	if _, total, err := e.client.FindClips(context.Background(), evidock.ClipFilter{DeviceSerial: "DSJ0003"}); err != nil || total != registered {
		t.Errorf("registry lists %d clips (%v), want %d", total, err, registered)
	}
	// No partial copy is left in staging.
	staged, _ := filepath.Glob(filepath.Join(e.agent.StagingDir, "*.partial"))
	if len(staged) != 0 {
		t.Errorf("partial copies left in staging: %v", staged)
	}

	// Docked again with the recorder working, the failed one is ingested.
	e.stop()
	e.agent.OpenVolume = os.DirFS
	if err := e.agent.ScanVolume(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	e.start()
	for _, r := range e.waitSettled(len(files) + 2) {
		if r.FileName == unplugged && r.State != agent.StateCleared {
			t.Errorf("%s after re-dock: %s %q, want cleared", r.FileName, r.State, r.Error)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestScanRacesClear replays a race the crash harness found: a scan lists a
// file just before the clear stage deletes it, and then queues the cleared
// recording to be cleared again. The agent must settle, not retry forever.
func TestScanRacesClear(t *testing.T) {
	e := newEnv(t)
	e.start()
	files := e.dock("DSJ0010", shiftVolume("DSJ0010"))
	recs := e.waitSettled(len(files))
	r := recs[0]
	again := &agent.Recording{Volume: r.Volume, RelPath: r.RelPath, FileName: r.FileName, Size: r.Size,
		DeviceSerial: r.DeviceSerial, OfficerNo: r.OfficerNo, StartedAt: r.StartedAt, State: agent.StateDiscovered}
	queued, err := e.state.AddRecording(context.Background(), again)
	if err != nil || !queued {
		t.Fatalf("requeue of a cleared recording: %v, %v", queued, err)
	}
	e.stop()
	e.start() // wakes every stage
	for _, got := range e.waitSettled(len(files)) {
		if got.State != agent.StateCleared {
			t.Errorf("%s: %s %q, want cleared", got.FileName, got.State, got.Error)
		}
	}
}
