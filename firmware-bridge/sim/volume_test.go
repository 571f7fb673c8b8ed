package sim

import (
	"context"
	"crypto/sha256"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
)

// testVolume returns a volume with footage of every kind a recorder writes.
func testVolume() Volume {
	return Volume{
		DeviceSerial: "DSJ0001",
		OfficerNo:    "100234",
		Recordings: []Recording{
			{Seq: 1, StartedAt: testStart, Duration: 3 * time.Minute, Size: 300_000},
			{Seq: 2, StartedAt: testStart.Add(5 * time.Minute), Duration: 90 * time.Second, Size: 2*chunkSize + 5},
			{Seq: 3, StartedAt: testStart.Add(7 * time.Minute), Size: 20_000, Ext: "JPG"},
			{Seq: 4, StartedAt: testStart.Add(8 * time.Minute), Duration: time.Minute, Size: 30_000, Ext: "WAV"},
			{Seq: 123456, StartedAt: testStart.Add(time.Hour).In(time.UTC), Duration: time.Second, Size: MinMP4Size, Ext: "MOV"},
		},
	}
}

// mustCreate creates v at dir and returns the files written.
func mustCreate(tb testing.TB, v Volume, dir string) []File {
	tb.Helper()
	files, err := v.Create(context.Background(), dir)
	if err != nil {
		tb.Fatalf("Create(%s): %v", dir, err)
	}
	return files
}

// assertNoPartial fails if a partial directory was left in parent.
func assertNoPartial(tb testing.TB, parent string) {
	tb.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".partial-") {
			tb.Errorf("partial directory %s left behind", e.Name())
		}
	}
}

func TestFileNamesParse(t *testing.T) {
	v := testVolume()
	for _, r := range v.Recordings {
		name := v.FileName(r)
		if name != strings.ToUpper(name) {
			t.Errorf("%s is not upper case", name)
		}
		got, err := evidock.ParseRecordingName(name)
		if err != nil {
			t.Errorf("ParseRecordingName(%s): %v", name, err)
			continue
		}
		if got.DeviceSerial != v.DeviceSerial || got.OfficerNo != v.OfficerNo || got.Seq != r.Seq ||
			!got.StartedAt.Equal(r.StartedAt) || got.Ext != r.ext() {
			t.Errorf("%s parses to %+v; want %s %s %s seq %d %s", name, got, v.DeviceSerial, v.OfficerNo, r.StartedAt, r.Seq, r.ext())
		}
	}
	if got, want := v.FileName(v.Recordings[0]), "DSJ0001_100234_20261125093000_0001.MP4"; got != want {
		t.Errorf("FileName = %s, want %s", got, want)
	}
	// A start time in another zone is named by the recorder's clock.
	if got, want := v.FileName(v.Recordings[4]), "DSJ0001_100234_20261125103000_123456.MOV"; got != want {
		t.Errorf("FileName = %s, want %s", got, want)
	}
}

func TestCreate(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "DSJ0001")
	v := testVolume()
	files := mustCreate(t, v, dir)
	assertNoPartial(t, parent)

	if len(files) != len(v.Recordings) {
		t.Fatalf("Create returned %d files, want %d", len(files), len(v.Recordings))
	}
	sums := map[[32]byte]string{}
	for i, f := range files {
		r := v.Recordings[i]
		if want := path.Join("DCIM/100MEDIA", v.FileName(r)); f.Path != want {
			t.Errorf("file %d path %s, want %s", i, f.Path, want)
		}
		name := filepath.Join(dir, filepath.FromSlash(f.Path))
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != r.Size {
			t.Errorf("%s: size %d, want %d", f.Path, fi.Size(), r.Size)
		}
		if !fi.ModTime().Equal(r.EndedAt()) {
			t.Errorf("%s: mtime %s, want the recording's end %s", f.Path, fi.ModTime(), r.EndedAt())
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if other, dup := sums[sum]; dup {
			t.Errorf("%s has the same bytes as %s", f.Path, other)
		}
		sums[sum] = f.Path
		if !isMP4(r.ext()) {
			continue
		}
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		created, dur, err := ReadMP4Info(fh)
		fh.Close()
		if err != nil || !created.Equal(r.StartedAt) || dur != r.Duration {
			t.Errorf("%s: ReadMP4Info = %s, %s, %v; want %s, %s", f.Path, created, dur, err, r.StartedAt, r.Duration)
		}
	}

	ents, err := os.ReadDir(filepath.Join(dir, "DCIM", "100MEDIA"))
	if err != nil || len(ents) != len(v.Recordings) {
		t.Errorf("DCIM/100MEDIA holds %d entries (%v), want only the %d recordings", len(ents), err, len(v.Recordings))
	}
	info, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(InfoFile)))
	if err != nil || !strings.Contains(string(info), "SERIAL=DSJ0001") {
		t.Errorf("%s = %q, %v", InfoFile, info, err)
	}
}

// The same recordings on another volume seed must give other bytes, and the
// same seed the same bytes, so demos can be repeated exactly.
func TestCreateSeed(t *testing.T) {
	parent := t.TempDir()
	v := testVolume()
	v.Recordings = v.Recordings[:1]
	read := func(dir string) string {
		b, err := os.ReadFile(filepath.Join(dir, "DCIM", "100MEDIA", v.FileName(v.Recordings[0])))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mustCreate(t, v, filepath.Join(parent, "a"))
	mustCreate(t, v, filepath.Join(parent, "b"))
	v.Seed = 1
	mustCreate(t, v, filepath.Join(parent, "c"))
	if read(filepath.Join(parent, "a")) != read(filepath.Join(parent, "b")) {
		t.Error("same volume gave different bytes")
	}
	if read(filepath.Join(parent, "a")) == read(filepath.Join(parent, "c")) {
		t.Error("different Seed gave the same bytes")
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "vol")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := testVolume().Create(context.Background(), dir)
	if evidock.ErrorCode(err) != evidock.ECONFLICT || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v, want ECONFLICT already exists", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("existing directory was written into: %d entries", len(ents))
	}
	assertNoPartial(t, parent)
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	bad := testVolume()
	bad.Recordings[1].Size = 10 // too small for an MP4
	tests := []struct {
		name string
		ctx  context.Context
		v    Volume
		code string
	}{
		{"cancelled while writing", cancelled, testVolume(), evidock.EINTERNAL},
		{"invalid volume", context.Background(), bad, evidock.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "vol")
			_, err := tt.v.Create(tt.ctx, dir)
			if err == nil || evidock.ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
			if _, err := os.Lstat(dir); !os.IsNotExist(err) {
				t.Errorf("%s exists after a failed Create", dir)
			}
			assertNoPartial(t, parent)
		})
	}

	_, err := testVolume().Create(context.Background(), filepath.Join(t.TempDir(), "no", "such", "vol"))
	if evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Errorf("missing parent: err = %v, want ENOTFOUND", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Volume)
		want   string
	}{
		{"short serial", func(v *Volume) { v.DeviceSerial = "AB1" }, `device serial "AB1"`},
		{"lower-case serial", func(v *Volume) { v.DeviceSerial = "dsj0001" }, "upper-case"},
		{"officer with letter", func(v *Volume) { v.OfficerNo = "10023A" }, `officer number "10023A"`},
		{"seq too big", func(v *Volume) { v.Recordings[0].Seq = 1_000_000 }, "sequence number"},
		{"no start", func(v *Volume) { v.Recordings[0].StartedAt = time.Time{} }, "start time is not set"},
		{"negative duration", func(v *Volume) { v.Recordings[0].Duration = -1 }, "negative"},
		{"mp4 too small", func(v *Volume) { v.Recordings[0].Size = 100 }, "minimum is 156"},
		{"not footage", func(v *Volume) { v.Recordings[0].Ext = "TXT" }, "not footage"},
		{"lower-case ext", func(v *Volume) { v.Recordings[0].Ext = "mp4" }, "extension"},
		{"same name", func(v *Volume) { v.Recordings[1] = v.Recordings[0] }, "already taken by recording 1"},
	}
	if err := testVolume().Validate(); err != nil {
		t.Fatalf("testVolume: %v", err)
	}
	if err := (Volume{DeviceSerial: "DSJ0001", OfficerNo: "100234"}).Validate(); err != nil {
		t.Errorf("empty volume: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVolume()
			tt.change(&v)
			err := v.Validate()
			if err == nil || evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

func TestConsecutive(t *testing.T) {
	start := testStart.Add(400 * time.Millisecond) // names keep whole seconds
	recs, err := Consecutive(start, 2*time.Minute, 7,
		[]int64{1000, 2000, 3000},
		[]time.Duration{200 * time.Second, 1500 * time.Millisecond, time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := []Recording{
		{Seq: 7, StartedAt: testStart, Duration: 200 * time.Second, Size: 1000},
		{Seq: 8, StartedAt: testStart.Add(200*time.Second + 2*time.Minute), Duration: 1500 * time.Millisecond, Size: 2000},
		// 1.5 s recording: the next one may not start before it ends.
		{Seq: 9, StartedAt: testStart.Add(200*time.Second + 2*time.Minute + 2*time.Second + 2*time.Minute), Duration: time.Minute, Size: 3000},
	}
	for i := range want {
		if g, w := recs[i], want[i]; g.Seq != w.Seq || !g.StartedAt.Equal(w.StartedAt) || g.Duration != w.Duration || g.Size != w.Size {
			t.Errorf("recording %d = %+v, want %+v", i, g, w)
		}
	}
	if _, err := Consecutive(start, 0, 1, []int64{1, 2}, []time.Duration{1}); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Errorf("length mismatch: err = %v, want EINVALID", err)
	}
	if _, err := Consecutive(start, -time.Second, 1, nil, nil); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Errorf("negative gap: err = %v, want EINVALID", err)
	}
}

func TestRecordingSeedsDiffer(t *testing.T) {
	v := testVolume()
	r := v.Recordings[0]
	other := v
	other.DeviceSerial = "DSJ0002"
	later := r
	later.StartedAt = r.StartedAt.Add(time.Second)
	next := r
	next.Seq++
	seeds := map[uint64]string{}
	for name, s := range map[string]uint64{
		"base":         v.recordingSeed(r),
		"other serial": other.recordingSeed(r),
		"later start":  v.recordingSeed(later),
		"next seq":     v.recordingSeed(next),
	} {
		if prev, dup := seeds[s]; dup {
			t.Errorf("%s and %s share seed %d", name, prev, s)
		}
		seeds[s] = name
	}
}
