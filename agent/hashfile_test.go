package agent

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"

	"evidock"
)

// TestFileSums checks fileSums against DigestOf and the CRC32C and SHA-256
// of each part, at sizes around the part size and the read chunk.
func TestFileSums(t *testing.T) {
	const part = copyChunk + copyChunk/2 // parts end inside chunks
	dir := t.TempDir()
	for _, size := range []int{0, 1, copyChunk, part - 1, part, part + 1, 3*part + 17} {
		body := bytes.Repeat([]byte("recorder footage "), size/17+1)[:size]
		path := filepath.Join(dir, "clip.mp4")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		want, _, _ := evidock.DigestOf(bytes.NewReader(body))
		var wantParts []partSums
		for off := 0; off < size || off == 0; off += part {
			p := body[off:min(off+part, size)]
			crc, sha := crc32.Checksum(p, castagnoli), sha256.Sum256(p)
			wantParts = append(wantParts, partSums{
				crc32c: base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)}),
				sha256: hex.EncodeToString(sha[:]),
			})
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		d, parts, n, err := fileSums(f, part)
		if err != nil || d != want || n != int64(size) || !slices.Equal(parts, wantParts) {
			t.Errorf("size %d: fileSums = %s, %v, %d, %v; want %s, %v, %d", size, d, parts, n, err, want, wantParts, size)
		}
		if d, n, err := HashFile(f); err != nil || d != want || n != int64(size) {
			t.Errorf("size %d: HashFile = %s, %d, %v; want %s, %d", size, d, n, err, want, size)
		}
		f.Close()
	}
}

// failingReaderAt gives body's bytes up to failAt, then fails.
type failingReaderAt struct {
	body   []byte
	failAt int64
}

var errFlakyRead = errors.New("flaky read")

func (r failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.body)) {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), int64(len(r.body)))
	if end > r.failAt {
		n := copy(p, r.body[off:max(off, r.failAt)])
		return n, errFlakyRead
	}
	n := copy(p, r.body[off:end])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestFileSumsReadError checks that a read error is returned with the
// bytes read before it counted, and that the reading goroutine has ended
// when fileSums returns: synctest fails the test if a goroutine of its
// bubble is left blocked.
func TestFileSumsReadError(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 5*copyChunk/16)
	for _, failAt := range []int64{0, 1, copyChunk, 2*copyChunk + 5, int64(len(body)) - 1} {
		synctest.Test(t, func(t *testing.T) {
			d, parts, n, err := fileSums(failingReaderAt{body, failAt}, copyChunk)
			if !errors.Is(err, errFlakyRead) || n != failAt || d != (evidock.Digest{}) || parts != nil {
				t.Errorf("fail at %d: fileSums = %s, %v, %d, %v; want the zero digest, no parts, %d, %v", failAt, d, parts, n, err, failAt, errFlakyRead)
			}
		})
	}
	// And the whole body, which ends with io.EOF, for comparison.
	synctest.Test(t, func(t *testing.T) {
		want, _, _ := evidock.DigestOf(bytes.NewReader(body))
		d, _, n, err := fileSums(failingReaderAt{body, int64(len(body)) + 1}, 0)
		if err != nil || d != want || n != int64(len(body)) {
			t.Errorf("whole body: fileSums = %s, %d, %v; want %s, %d", d, n, err, want, len(body))
		}
	})
}

// TestReadAheadPanic checks that a panic while hashing ends the reading
// goroutine too: the reader must not be left blocked on its buffers.
func TestReadAheadPanic(t *testing.T) {
	body := make([]byte, 8*copyChunk)
	synctest.Test(t, func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("readAhead did not pass on the panic")
			}
		}()
		readAhead(failingReaderAt{body, int64(len(body)) + 1}, readAheadBuffers, func([]byte) { panic("hash") })
	})
}

// TestReadAheadReturnsBuffers checks that readAhead puts its buffers back
// in evidock.ReadBuffers, on the error path too: hashing many files must
// not cost fresh megabytes each. Hence the margin: a GC may empty the pool
// now and then, and under the race detector sync.Pool drops a quarter of
// what it is given, on purpose.
func TestReadAheadReturnsBuffers(t *testing.T) {
	body := make([]byte, 3*copyChunk)
	const calls = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range calls {
		r := failingReaderAt{body, int64(len(body)) + 1}
		if i%2 == 1 {
			r.failAt = copyChunk + 1
		}
		readAhead(r, readAheadBuffers, func([]byte) {})
	}
	runtime.ReadMemStats(&after)
	if got, leaky := after.TotalAlloc-before.TotalAlloc, uint64(calls*readAheadBuffers*copyChunk); got > leaky/2 {
		t.Errorf("%d calls allocated %d MiB; %d MiB if no buffer went back to the pool", calls, got>>20, leaky>>20)
	}
}
