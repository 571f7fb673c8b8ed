//go:build amd64

package blake3wide

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zeebo/blake3"
)

// cvBytes is cv as the 32 bytes of a digest.
func cvBytes(cv [8]uint32) []byte {
	b := make([]byte, 32)
	storeCV(b, &cv)
	return b
}

// TestKernelChunkRoots hashes 16 one-chunk inputs as roots in one call: each
// lane's output is then that input's BLAKE3 digest.
func TestKernelChunkRoots(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	in := make([]byte, 16*1024)
	for i := range in {
		in[i] = byte(rng.Uint32())
	}
	var counters [2][16]uint32
	var out [16][8]uint32
	hashMany16AVX512(&in[0], 1024, 16, &iv, &counters, 0, flagChunkStart, flagChunkEnd|flagRoot, &out)
	for i := range 16 {
		want := blake3.Sum256(in[i*1024 : (i+1)*1024])
		if got := cvBytes(out[i]); string(got) != string(want[:]) {
			t.Errorf("lane %d: %x, want %x", i, got, want)
		}
	}
}

// TestKernelParents hashes 16 two-chunk inputs: their chunks in two calls
// (counters 0 and 1), then their roots as parents in a third.
func TestKernelParents(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	in := make([]byte, 16*2048)
	for i := range in {
		in[i] = byte(rng.Uint32())
	}
	var zero, one [2][16]uint32
	for i := range 16 {
		one[0][i] = 1
	}
	var left, right [16][8]uint32
	hashMany16AVX512(&in[0], 2048, 16, &iv, &zero, 0, flagChunkStart, flagChunkEnd, &left)
	hashMany16AVX512(&in[1024], 2048, 16, &iv, &one, 0, flagChunkStart, flagChunkEnd, &right)
	blocks := make([]byte, 0, 16*64)
	for i := range 16 {
		blocks = append(append(blocks, cvBytes(left[i])...), cvBytes(right[i])...)
	}
	var roots [16][8]uint32
	hashMany16AVX512(&blocks[0], 64, 1, &iv, &zero, flagParent|flagRoot, 0, 0, &roots)
	for i := range 16 {
		want := blake3.Sum256(in[i*2048 : (i+1)*2048])
		if got := cvBytes(roots[i]); string(got) != string(want[:]) {
			t.Errorf("lane %d: %x, want %x", i, got, want)
		}
	}
}

func BenchmarkKernelChunks(b *testing.B) {
	if !haveAVX512 {
		b.Skip("no AVX-512 on this CPU")
	}
	in := make([]byte, 16*1024)
	var counters [2][16]uint32
	var out [16][8]uint32
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		hashMany16AVX512(&in[0], 1024, 16, &iv, &counters, 0, flagChunkStart, flagChunkEnd, &out)
	}
}

// TestKernelMatchesGeneric compares the kernel with the Go reference on
// random blocks, strides, counters and flags.
func TestKernelMatchesGeneric(t *testing.T) {
	if !haveAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		stride := uintptr(64 * (1 + rng.IntN(20)))
		nblocks := uint64(rng.IntN(17))
		in := make([]byte, 16*int(stride)+int(nblocks)*64)
		for i := range in {
			in[i] = byte(rng.Uint32())
		}
		var key [8]uint32
		var counters [2][16]uint32
		for i := range key {
			key[i] = rng.Uint32()
		}
		for i := range 16 {
			counters[0][i], counters[1][i] = rng.Uint32(), rng.Uint32()
		}
		flags, first, last := rng.Uint32()&15, rng.Uint32()&15, rng.Uint32()&15
		var got, want [16][8]uint32
		hashMany16AVX512(&in[0], stride, nblocks, &key, &counters, flags, first, last, &got)
		hashMany16Generic(&in[0], stride, nblocks, &key, &counters, flags, first, last, &want)
		if got != want {
			t.Fatalf("stride %d, %d blocks, flags %d/%d/%d: kernel %x, want %x", stride, nblocks, flags, first, last, got, want)
		}
	}
}

// TestGenerated checks that many_amd64.s is what gen.go writes now.
func TestGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "many_amd64.s")
	if b, err := exec.Command("go", "run", "gen.go", "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("many_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("many_amd64.s differs from what gen.go writes: run go generate ./internal/blake3wide")
	}
}
