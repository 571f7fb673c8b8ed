//go:build unix

package agent

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evidock"
)

// TestReadMappedWindows checks HashFile, which reads through readMapped,
// against DigestOf at lengths around the mapping window.
func TestReadMappedWindows(t *testing.T) {
	body := make([]byte, mapWindow+17)
	rand.NewChaCha8([32]byte{7}).Read(body)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	for _, size := range []int{mapWindow - 1, mapWindow, mapWindow + 17} {
		if err := os.WriteFile(path, body[:size], 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := evidock.DigestOf(bytes.NewReader(body[:size]))
		var chunks int
		n, mapped, err := readMapped(f, func([]byte) { chunks++ })
		if !mapped || err != nil || n != int64(size) || chunks != (size+evidock.ReadBufferSize-1)/evidock.ReadBufferSize {
			t.Errorf("size %d: readMapped = %d, %v, %v in %d chunks; want %d, true, nil", size, n, mapped, err, chunks, size)
		}
		if d, n, err := HashFile(f); err != nil || d != want || n != int64(size) {
			t.Errorf("size %d: HashFile = %s, %d, %v; want %s, %d", size, d, n, err, want, size)
		}
		f.Close()
	}
}

// TestReadMappedFault truncates a file while it is hashed from its
// mapping, as an unplugged recorder or a failing disk would take its pages
// away: the hasher's next read of a lost page faults (inside the BLAKE3
// kernel, which hashes straight from the mapping), and readMapped must
// turn that into an error instead of a crash. The larger file has its
// pages mapped ahead by the prefaulter, which must stop without harm.
func TestReadMappedFault(t *testing.T) {
	for _, size := range []int{8 << 20, mapWindow + 8<<20} {
		path := filepath.Join(t.TempDir(), "clip.mp4")
		if err := os.WriteFile(path, bytes.Repeat([]byte("footage!"), size/8), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h := evidock.NewHasher()
		n, mapped, err := readMapped(f, func(b []byte) {
			h.Write(b)
			if err := os.Truncate(path, evidock.ReadBufferSize+evidock.ReadBufferSize/2); err != nil {
				t.Fatal(err)
			}
		})
		if !mapped || err == nil || !strings.Contains(err.Error(), "could not be read") || n != evidock.ReadBufferSize {
			t.Fatalf("size %d: readMapped of a file truncated under it = %d, %v, %v; want %d, true and a page that could not be read", size, n, mapped, err, evidock.ReadBufferSize)
		}
		t.Log(err)
		f.Close()
	}
}

// TestReadMappedPanic checks that a panic of fn's own is not taken for a
// read error: it goes on up.
func TestReadMappedPanic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(path, []byte("footage"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != "hash" {
			t.Errorf("recovered %v; want fn's own panic", r)
		}
	}()
	readMapped(f, func([]byte) { panic("hash") })
}
