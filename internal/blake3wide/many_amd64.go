package blake3wide

import "golang.org/x/sys/cpu"

//go:generate go run gen.go

// haveAVX512 says whether this CPU runs the kernel of many_amd64.s, which
// needs AVX-512 Foundation only (VPRORD, the shuffles, scatters).
var haveAVX512 = cpu.X86.HasAVX512F

// hashMany16AVX512 is hashMany16Generic on AVX-512: see gen.go.
//
//go:noescape
func hashMany16AVX512(in *byte, stride uintptr, nblocks uint64, key *[8]uint32, counters *[2][16]uint32, flags, flagsFirst, flagsLast uint32, out *[16][8]uint32)

func init() {
	if haveAVX512 {
		// From 4 parents on, a call was no slower than scalar
		// compressions (BenchmarkNarrowLevels; 2 to 16 differed within
		// the noise).
		hashMany16, narrowLevelKernelMin = hashMany16AVX512, 4
	}
}

// Accelerated reports whether the Hasher runs the AVX-512 kernel. Without
// it the Hasher is pure Go, several times slower than zeebo/blake3's AVX2
// and SSE4.1 assembly, which callers should use instead.
func Accelerated() bool { return haveAVX512 }
