package agent

import (
	"bytes"
	"encoding/base64"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"evidock"
)

// TestFileSums checks fileSums against DigestOf and the CRC32C of each
// part, at sizes around the part size and the read chunk.
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
		var wantCRCs []string
		for off := 0; off < size || off == 0; off += part {
			sum := crc32.Checksum(body[off:min(off+part, size)], castagnoli)
			wantCRCs = append(wantCRCs, base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)}))
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		d, crcs, n, err := fileSums(f, part)
		if err != nil || d != want || n != int64(size) || !slices.Equal(crcs, wantCRCs) {
			t.Errorf("size %d: fileSums = %s, %v, %d, %v; want %s, %v, %d", size, d, crcs, n, err, want, wantCRCs, size)
		}
		if d, n, err := HashFile(f); err != nil || d != want || n != int64(size) {
			t.Errorf("size %d: HashFile = %s, %d, %v; want %s, %d", size, d, n, err, want, size)
		}
		f.Close()
	}
}
