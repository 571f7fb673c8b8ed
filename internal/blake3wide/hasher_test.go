package blake3wide

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/zeebo/blake3"
)

const maxTestLen = 20 << 20

// testData is deterministic pseudo-random input; every test hashes prefixes.
var testData = sync.OnceValue(func() []byte {
	b := make([]byte, maxTestLen)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
})

func reference(data []byte) []byte {
	d := blake3.Sum256(data)
	return d[:]
}

// boundaryLengths are the lengths around chunk, group, subtree and batch
// boundaries, where the tree logic changes.
func boundaryLengths() []int {
	var ls []int
	for k := 1; k <= 20; k++ {
		ls = append(ls, 1024*k-1, 1024*k, 1024*k+1)
	}
	ls = append(ls, 16<<10-1, 16<<10, 16<<10+1)
	for _, d := range []int{0, 1, 1023, 1024, 1025} {
		ls = append(ls, 256<<10-d, 256<<10+d)
	}
	ls = append(ls, 512<<10-1, 512<<10, 512<<10+1, 768<<10)
	ls = append(ls, 1<<20-1, 1<<20, 1<<20+1, 3<<20+17, maxTestLen)
	return ls
}

// pieceSizes rotate so that writes start and end at odd offsets and also
// come in whole mebibytes.
var pieceSizes = []int{1, 7, 1000, 65536, 1 << 20}

func writeInPieces(h *Hasher, data []byte) {
	for i := 0; len(data) > 0; i++ {
		n := min(pieceSizes[i%len(pieceSizes)], len(data))
		h.Write(data[:n])
		data = data[n:]
	}
}

// checkLength hashes data in one write, in rotating pieces and with a Sum
// taken midway, comparing each digest with zeebo/blake3.
func checkLength(t *testing.T, data []byte) {
	t.Helper()
	want := reference(data)
	if got := Sum256(data); !bytes.Equal(got[:], want) {
		t.Fatalf("len %d: Sum256 = %x, want %x", len(data), got, want)
	}
	h := New()
	h.Write(data)
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		t.Fatalf("len %d: one write = %x, want %x", len(data), got, want)
	}
	h = New()
	writeInPieces(h, data)
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		t.Fatalf("len %d: pieces = %x, want %x", len(data), got, want)
	}
	mid := len(data) / 2
	if len(data) > 3<<20 {
		mid = len(data)/2 + 12345 // odd split in a big input
	}
	h = New()
	writeInPieces(h, data[:mid])
	if got, wantMid := h.Sum(nil), reference(data[:mid]); !bytes.Equal(got, wantMid) {
		t.Fatalf("len %d: midway Sum at %d = %x, want %x", len(data), mid, got, wantMid)
	}
	h.Write(data[mid:])
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		t.Fatalf("len %d: Sum after midway Sum = %x, want %x", len(data), got, want)
	}
}

func TestEmpty(t *testing.T) {
	const want = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
	if got := hex.EncodeToString(New().Sum(nil)); got != want {
		t.Fatalf("BLAKE3(\"\") = %s, want %s", got, want)
	}
	if got := Sum256(nil); hex.EncodeToString(got[:]) != want {
		t.Fatalf("Sum256(nil) = %x, want %s", got, want)
	}
}

func TestSmallLengths(t *testing.T) {
	data := testData()
	for n := 0; n <= 2100; n++ {
		checkLength(t, data[:n])
	}
}

func TestBoundaryLengths(t *testing.T) {
	data := testData()
	for _, n := range boundaryLengths() {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			if testing.Short() && n > 4<<20 {
				t.Skip("large input")
			}
			checkLength(t, data[:n])
		})
	}
}

// TestSumMidwayRepeatedly takes a Sum after every write, so every kind of
// state (tail only, pending subtree, stack with tail) is finished.
func TestSumMidwayRepeatedly(t *testing.T) {
	data := testData()[:3<<20+17]
	h := New()
	off := 0
	for i := 0; off < len(data); i++ {
		n := min(pieceSizes[i%len(pieceSizes)]*3+1, len(data)-off)
		h.Write(data[off : off+n])
		off += n
		if got, want := h.Sum(nil), reference(data[:off]); !bytes.Equal(got, want) {
			t.Fatalf("after %d bytes: %x, want %x", off, got, want)
		}
	}
}

func TestReset(t *testing.T) {
	data := testData()[:600<<10+5]
	h := New()
	h.Write(data)
	h.Reset()
	if got, want := h.Sum(nil), reference(nil); !bytes.Equal(got, want) {
		t.Fatalf("after Reset: %x, want %x", got, want)
	}
	h.Write(data[:1000])
	h.Reset()
	h.Write(data)
	if got, want := h.Sum(nil), reference(data); !bytes.Equal(got, want) {
		t.Fatalf("reused after Reset: %x, want %x", got, want)
	}
}

func TestSumAppends(t *testing.T) {
	data := testData()[:5000]
	prefix := []byte("prefix")
	got := New().Sum(bytes.Clone(prefix))
	h := New()
	h.Write(data)
	got = h.Sum(got)
	want := append(append(bytes.Clone(prefix), reference(nil)...), reference(data)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("Sum appended %x, want %x", got, want)
	}
	if h.Size() != 32 || h.BlockSize() != 64 {
		t.Fatalf("Size %d BlockSize %d", h.Size(), h.BlockSize())
	}
}

// TestHashMany16Generic checks the reference kernel lane by lane against
// scalar compressions, in chunk mode with counters beyond 32 bits and in
// parent mode.
func TestHashMany16Generic(t *testing.T) {
	data := testData()[:16*chunkLen+64]
	key := [8]uint32{1, 2, 3, 4, 5, 6, 7, 8}
	var counters [2][16]uint32
	for i := range 16 {
		c := uint64(0xfffffff8) + uint64(i)
		counters[0][i], counters[1][i] = uint32(c), uint32(c>>32)
	}
	var out [16][8]uint32
	hashMany16Generic(&data[0], chunkLen, 16, &key, &counters, 0, flagChunkStart, flagChunkEnd, &out)
	for lane := range 16 {
		cv := key
		counter := uint64(0xfffffff8) + uint64(lane)
		for b := range 16 {
			var f uint32
			if b == 0 {
				f |= flagChunkStart
			}
			if b == 15 {
				f |= flagChunkEnd
			}
			m := loadBlock(data[lane*chunkLen+b*blockLen:])
			v := compress(&cv, &m, counter, blockLen, f)
			cv = [8]uint32(v[:8])
		}
		if out[lane] != cv {
			t.Fatalf("chunk lane %d: %08x, want %08x", lane, out[lane], cv)
		}
	}

	var zero [2][16]uint32
	hashMany16Generic(&data[3], 2*32, 1, &iv, &zero, flagParent, 0, 0, &out)
	for lane := range 16 {
		m := loadBlock(data[3+lane*64:])
		v := compress(&iv, &m, 0, blockLen, flagParent)
		if out[lane] != [8]uint32(v[:8]) {
			t.Fatalf("parent lane %d: %08x, want %08x", lane, out[lane], v[:8])
		}
	}
}

// TestKernelInUseMatchesGeneric compares the kernel in use (the assembly
// where available) with the generic one on odd strides and counters.
func TestKernelInUseMatchesGeneric(t *testing.T) {
	data := testData()[:16*3000+16*chunkLen]
	counters := laneCounters(1<<32 - 5)
	for _, nblocks := range []uint64{1, 2, 15, 16} {
		var got, want [16][8]uint32
		hashMany16(&data[1], 3000, nblocks, &iv, &counters, 0, flagChunkStart, flagChunkEnd, &got)
		hashMany16Generic(&data[1], 3000, nblocks, &iv, &counters, 0, flagChunkStart, flagChunkEnd, &want)
		if got != want {
			t.Fatalf("nblocks %d: kernel differs from generic", nblocks)
		}
	}
}

// TestScalarLevels hashes with the generic kernel and narrow parent levels
// through the kernel or scalar, so both reduction paths are checked whichever
// kernel is in use (the other tests check the kernel in use).
func TestScalarLevels(t *testing.T) {
	saved, savedMin := hashMany16, narrowLevelKernelMin
	defer func() { hashMany16, narrowLevelKernelMin = saved, savedMin }()
	data := testData()[:2<<20+3]
	want := reference(data)
	hashMany16 = hashMany16Generic
	for _, m := range []int{1, 2, 4, 16} {
		narrowLevelKernelMin = m
		if got := Sum256(data); !bytes.Equal(got[:], want) {
			t.Fatalf("narrowLevelKernelMin %d: %x, want %x", m, got, want)
		}
	}
}

func FuzzHasher(f *testing.F) {
	data := testData()
	f.Add([]byte{}, uint16(0))
	f.Add([]byte("abc"), uint16(1))
	f.Add(data[:1025], uint16(1024))
	f.Add(data[:17*chunkLen+3], uint16(16*chunkLen))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		want := reference(data)
		if got := Sum256(data); !bytes.Equal(got[:], want) {
			t.Fatalf("Sum256: %x, want %x", got, want)
		}
		at := int(split) % (len(data) + 1)
		h := New()
		h.Write(data[:at])
		if got, wantMid := h.Sum(nil), reference(data[:at]); !bytes.Equal(got, wantMid) {
			t.Fatalf("prefix %d: %x, want %x", at, got, wantMid)
		}
		h.Write(data[at:])
		if got := h.Sum(nil); !bytes.Equal(got, want) {
			t.Fatalf("split %d: %x, want %x", at, got, want)
		}
	})
}

const benchBytes = 64 << 20

func benchmarkWrites(b *testing.B, h interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
	Reset()
}) {
	buf := testData()[:1<<20]
	b.SetBytes(benchBytes)
	for b.Loop() {
		h.Reset()
		for range benchBytes / len(buf) {
			h.Write(buf)
		}
		h.Sum(nil)
	}
}

// BenchmarkHasher writes 1 MiB at a time, as the caller does.
func BenchmarkHasher(b *testing.B) { benchmarkWrites(b, New()) }

// BenchmarkZeebo is the same workload on github.com/zeebo/blake3.
func BenchmarkZeebo(b *testing.B) { benchmarkWrites(b, blake3.New()) }

// BenchmarkNarrowLevels measures from how many parents on a level a kernel
// call beats scalar compressions, with writes of one subtree (levels of 8,
// 4 and 2 parents) and of a 4-subtree batch (one level of 8).
func BenchmarkNarrowLevels(b *testing.B) {
	saved := narrowLevelKernelMin
	defer func() { narrowLevelKernelMin = saved }()
	for _, write := range []int{subtreeBytes, maxBatch * subtreeBytes} {
		for _, m := range []int{2, 4, 8, 16} {
			b.Run(fmt.Sprintf("write=%dK/kernelMin=%d", write>>10, m), func(b *testing.B) {
				narrowLevelKernelMin = m
				buf := testData()[:write]
				h := New()
				b.SetBytes(benchBytes)
				for b.Loop() {
					h.Reset()
					for range benchBytes / write {
						h.Write(buf)
					}
					h.Sum(nil)
				}
			})
		}
	}
}
