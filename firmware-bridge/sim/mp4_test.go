package sim

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abema/go-mp4"

	"evidock"
)

var testStart = time.Date(2026, 11, 25, 9, 30, 0, 0, evidock.ChinaTime)

// mustMP4 returns the bytes WriteMP4 writes for the arguments.
func mustMP4(tb testing.TB, size int64, created time.Time, dur time.Duration, seed uint64) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteMP4(&buf, size, created, dur, seed); err != nil {
		tb.Fatalf("WriteMP4(%d): %v", size, err)
	}
	return buf.Bytes()
}

// boxPaths walks the whole box structure of r with go-mp4 and returns each
// box as "path offset+size".
func boxPaths(tb testing.TB, r io.ReadSeeker) []string {
	tb.Helper()
	var got []string
	_, err := mp4.ReadBoxStructure(r, func(h *mp4.ReadHandle) (any, error) {
		var p []string
		for _, t := range h.Path {
			p = append(p, t.String())
		}
		got = append(got, strings.Join(p, "/")+" "+strconv.FormatUint(h.BoxInfo.Offset, 10)+"+"+strconv.FormatUint(h.BoxInfo.Size, 10))
		if h.BoxInfo.IsSupportedType() && h.BoxInfo.Type != mp4.BoxTypeMdat() {
			if _, _, err := h.ReadPayload(); err != nil {
				return nil, err
			}
			if _, err := h.BoxInfo.SeekToPayload(r); err != nil {
				return nil, err
			}
			_, err := h.Expand()
			return nil, err
		}
		return nil, nil
	})
	if err != nil {
		tb.Fatalf("ReadBoxStructure: %v", err)
	}
	return got
}

func TestWriteMP4(t *testing.T) {
	const v0 = ftypSize + 8 + mvhdV0Size + mdatHeaderSize // 156
	tests := []struct {
		size    int64
		created time.Time
		dur     time.Duration
		moov    int64 // size of the moov box
	}{
		{v0, testStart, 0, 8 + mvhdV0Size},
		{v0 + 1, testStart, time.Second, 8 + mvhdV0Size},
		{1000, testStart, 3*time.Minute + 20*time.Second + 250*time.Millisecond, 8 + mvhdV0Size},
		{3*chunkSize + 17, testStart, 10 * time.Hour, 8 + mvhdV0Size},
		// After 2040 the 32-bit fields of a version-0 mvhd run out.
		{MinMP4Size, time.Date(2050, 1, 2, 3, 4, 5, 0, time.UTC), time.Minute, 8 + mvhdV1Size},
		{5000, time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC), 0, 8 + mvhdV0Size},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatInt(tt.size, 10)+"@"+tt.created.Format(time.RFC3339), func(t *testing.T) {
			b := mustMP4(t, tt.size, tt.created, tt.dur, 42)
			if int64(len(b)) != tt.size {
				t.Fatalf("wrote %d bytes, want %d", len(b), tt.size)
			}
			created, dur, err := ReadMP4Info(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("ReadMP4Info: %v", err)
			}
			if !created.Equal(tt.created.Truncate(time.Second)) || dur != tt.dur {
				t.Errorf("ReadMP4Info = %s, %s; want %s, %s", created, dur, tt.created, tt.dur)
			}
			mdatOff := ftypSize + tt.moov
			want := []string{
				"ftyp 0+" + strconv.Itoa(ftypSize),
				"moov " + strconv.Itoa(ftypSize) + "+" + strconv.FormatInt(tt.moov, 10),
				"moov/mvhd " + strconv.Itoa(ftypSize+8) + "+" + strconv.FormatInt(tt.moov-8, 10),
				"mdat " + strconv.FormatInt(mdatOff, 10) + "+" + strconv.FormatInt(tt.size-mdatOff, 10),
			}
			if got := boxPaths(t, bytes.NewReader(b)); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("boxes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A mdat over 4 GiB needs the 64-bit largesize. Writing 4 GiB of bytes is
// too slow for a unit test, so the header goes into a sparse file.
func TestWriteMP4LargeSize(t *testing.T) {
	const size = 5 << 30
	hdr, err := mp4Header(size, testStart, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "big.mp4")
	if err := os.WriteFile(name, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(name, size); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mdatOff := int64(ftypSize + 8 + mvhdV0Size)
	want := "mdat " + strconv.FormatInt(mdatOff, 10) + "+" + strconv.FormatInt(size-mdatOff, 10)
	if got := boxPaths(t, f); got[len(got)-1] != want {
		t.Errorf("last box %q, want %q", got[len(got)-1], want)
	}
	if len(hdr) != int(mdatOff)+mp4.LargeHeaderSize {
		t.Errorf("header is %d bytes, want %d with a 16-byte mdat header", len(hdr), int(mdatOff)+mp4.LargeHeaderSize)
	}
	if _, dur, err := ReadMP4Info(f); err != nil || dur != time.Hour {
		t.Errorf("ReadMP4Info = %s, %v; want 1h", dur, err)
	}
}

func TestWriteMP4Seeds(t *testing.T) {
	a := mustMP4(t, 4096, testStart, time.Minute, 1)
	b := mustMP4(t, 4096, testStart, time.Minute, 2)
	a2 := mustMP4(t, 4096, testStart, time.Minute, 1)
	if !bytes.Equal(a, a2) {
		t.Error("same seed gave different bytes")
	}
	hdr := ftypSize + 8 + mvhdV0Size + mdatHeaderSize
	if bytes.Equal(a[hdr:hdr+64], b[hdr:hdr+64]) {
		t.Error("seeds 1 and 2 gave the same mdat bytes")
	}
}

func TestWriteMP4Invalid(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		created time.Time
		dur     time.Duration
		want    string
	}{
		{"one byte short", 155, testStart, 0, "minimum is 156"},
		{"one byte short after 2040", MinMP4Size - 1, time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC), 0, "minimum is " + strconv.Itoa(MinMP4Size)},
		{"zero", 0, testStart, 0, "minimum is 156"},
		{"negative", -5, testStart, 0, "minimum is 156"},
		{"before 1904", 1000, time.Date(1903, 12, 31, 0, 0, 0, 0, time.UTC), 0, "before the MP4 epoch"},
		{"negative duration", 1000, testStart, -time.Second, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteMP4(&buf, tt.size, tt.created, tt.dur, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) || evidock.ErrorCode(err) != evidock.EINVALID {
				t.Fatalf("err = %v, want EINVALID containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestWriteMP4WriterError(t *testing.T) {
	boom := errors.New("disk full")
	err := WriteMP4(&failAfter{n: 2 * chunkSize, err: boom}, 5*chunkSize, testStart, time.Minute, 1)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want wrapped %v", err, boom)
	}
}

type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, f.err
	}
	return len(p), nil
}

func TestReadMP4InfoMissing(t *testing.T) {
	valid := mustMP4(t, 400, testStart, time.Minute, 1)
	noMoov := append(append([]byte{}, valid[:ftypSize]...), 0, 0, 0, 8, 'm', 'd', 'a', 't')
	for name, b := range map[string][]byte{
		"ftyp and mdat only": noMoov,
		"empty":              nil,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := ReadMP4Info(bytes.NewReader(b))
			if !errors.Is(err, ErrNoMvhd) || !strings.Contains(err.Error(), "no moov/mvhd box") {
				t.Fatalf("err = %v, want ErrNoMvhd", err)
			}
		})
	}
	_, _, err := ReadMP4Info(bytes.NewReader(valid[:ftypSize+20])) // cut inside mvhd
	if err == nil {
		t.Fatal("truncated mvhd: no error")
	}
}

func FuzzReadMP4Info(f *testing.F) {
	valid := mustMP4(f, 300, testStart, time.Minute, 1)
	f.Add(valid)
	f.Add(valid[:ftypSize+30])
	f.Add(mustMP4(f, MinMP4Size, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		created, dur, err := ReadMP4Info(bytes.NewReader(b))
		if err == nil && (dur < 0 || created.Before(mp4Epoch)) {
			t.Errorf("ReadMP4Info = %s, %s without error", created, dur)
		}
	})
}

func BenchmarkWriteMP4(b *testing.B) {
	const size = 200e6
	b.SetBytes(size)
	for b.Loop() {
		if err := WriteMP4(io.Discard, size, testStart, 200*time.Second, 7); err != nil {
			b.Fatal(err)
		}
	}
}
