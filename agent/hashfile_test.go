package agent

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"

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
