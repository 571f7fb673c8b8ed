package blake3wide

import "golang.org/x/sys/cpu"

// haveAVX512 says whether this CPU runs the kernel of many_amd64.s, which
// needs AVX-512 Foundation only (VPRORD, gathers, scatters).
var haveAVX512 = cpu.X86.HasAVX512F

// hashMany16AVX512 is hashMany16Generic on AVX-512: see gen.go.
//
//go:noescape
func hashMany16AVX512(in *byte, stride uintptr, nblocks uint64, key *[8]uint32, counters *[2][16]uint32, flags, flagsFirst, flagsLast uint32, out *[16][8]uint32)
