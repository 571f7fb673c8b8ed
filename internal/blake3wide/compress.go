package blake3wide

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Domain-separation flags of the BLAKE3 specification.
const (
	flagChunkStart = 1
	flagChunkEnd   = 2
	flagParent     = 4
	flagRoot       = 8
)

const (
	blockLen = 64
	chunkLen = 1024
)

// iv is both the initial chaining value of every chunk and part of the state
// of every compression (unkeyed hashing uses it as the key).
var iv = [8]uint32{
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
	0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
}

// schedule[r] is the order in which round r reads the message words: the
// specification permutes the message between rounds, so reading through a
// precomputed index table avoids moving the words around.
var schedule = func() (s [7][16]uint8) {
	permutation := [16]uint8{2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8}
	for i := range s[0] {
		s[0][i] = uint8(i)
	}
	for r := 1; r < len(s); r++ {
		for i := range s[r] {
			s[r][i] = s[r-1][permutation[i]]
		}
	}
	return s
}()

// g is the quarter-round mixing function; it is small enough to be inlined.
func g(a, b, c, d, x, y uint32) (uint32, uint32, uint32, uint32) {
	a += b + x
	d = bits.RotateLeft32(d^a, -16)
	c += d
	b = bits.RotateLeft32(b^c, -12)
	a += b + y
	d = bits.RotateLeft32(d^a, -8)
	c += d
	b = bits.RotateLeft32(b^c, -7)
	return a, b, c, d
}

// compress is the BLAKE3 compression function of one block; the first 8
// words of the result are the next chaining value, all 16 are the extended
// output of a root node.
func compress(cv *[8]uint32, block *[16]uint32, counter uint64, length, flags uint32) [16]uint32 {
	v0, v1, v2, v3, v4, v5, v6, v7 := cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7]
	v8, v9, v10, v11 := iv[0], iv[1], iv[2], iv[3]
	v12, v13, v14, v15 := uint32(counter), uint32(counter>>32), length, flags
	m := block
	for r := range schedule {
		s := &schedule[r]
		v0, v4, v8, v12 = g(v0, v4, v8, v12, m[s[0]&15], m[s[1]&15])
		v1, v5, v9, v13 = g(v1, v5, v9, v13, m[s[2]&15], m[s[3]&15])
		v2, v6, v10, v14 = g(v2, v6, v10, v14, m[s[4]&15], m[s[5]&15])
		v3, v7, v11, v15 = g(v3, v7, v11, v15, m[s[6]&15], m[s[7]&15])
		v0, v5, v10, v15 = g(v0, v5, v10, v15, m[s[8]&15], m[s[9]&15])
		v1, v6, v11, v12 = g(v1, v6, v11, v12, m[s[10]&15], m[s[11]&15])
		v2, v7, v8, v13 = g(v2, v7, v8, v13, m[s[12]&15], m[s[13]&15])
		v3, v4, v9, v14 = g(v3, v4, v9, v14, m[s[14]&15], m[s[15]&15])
	}
	return [16]uint32{
		v0 ^ v8, v1 ^ v9, v2 ^ v10, v3 ^ v11, v4 ^ v12, v5 ^ v13, v6 ^ v14, v7 ^ v15,
		v8 ^ cv[0], v9 ^ cv[1], v10 ^ cv[2], v11 ^ cv[3], v12 ^ cv[4], v13 ^ cv[5], v14 ^ cv[6], v15 ^ cv[7],
	}
}

// loadBlock reads 64 bytes as 16 little-endian message words.
func loadBlock(b []byte) (m [16]uint32) {
	b = b[:blockLen]
	for i := range m {
		m[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return m
}

// storeCV writes a chaining value as the 32 little-endian bytes a parent
// block is made of.
func storeCV(dst []byte, cv *[8]uint32) {
	dst = dst[:32]
	for i, w := range cv {
		binary.LittleEndian.PutUint32(dst[4*i:], w)
	}
}

// loadCV is the inverse of storeCV.
func loadCV(src []byte) (cv [8]uint32) {
	src = src[:32]
	for i := range cv {
		cv[i] = binary.LittleEndian.Uint32(src[4*i:])
	}
	return cv
}

// hashMany16 is the 16-lane kernel in use: hashMany16Generic, or on amd64
// with AVX-512 the assembly (many_amd64.go swaps it in at init).
var hashMany16 = hashMany16Generic

// hashMany16Generic hashes, in each of 16 lanes, nblocks consecutive 64-byte
// blocks: lane i's blocks start at in+i*stride. Each lane starts from key as
// its chaining value; lane i's block counter is counters[0][i] (low 32 bits)
// and counters[1][i] (high 32 bits), the same for all its blocks; every block
// has flags, the first block also flagsFirst, the last also flagsLast; the
// block length is always 64. It writes lane i's final chaining value (the
// first 8 words of the last compression's output, i.e. v[j]^v[j+8]) to out[i].
func hashMany16Generic(in *byte, stride uintptr, nblocks uint64, key *[8]uint32, counters *[2][16]uint32, flags, flagsFirst, flagsLast uint32, out *[16][8]uint32) {
	for lane := range out {
		data := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(in), uintptr(lane)*stride)), nblocks*blockLen)
		counter := uint64(counters[0][lane]) | uint64(counters[1][lane])<<32
		cv := *key
		for b := uint64(0); b < nblocks; b++ {
			f := flags
			if b == 0 {
				f |= flagsFirst
			}
			if b == nblocks-1 {
				f |= flagsLast
			}
			m := loadBlock(data[b*blockLen:])
			o := compress(&cv, &m, counter, blockLen, f)
			cv = [8]uint32(o[:8])
		}
		out[lane] = cv
	}
}

// laneCounters gives the 16 lanes the consecutive chunk counters first,
// first+1, ..., split into the kernel's low and high words.
func laneCounters(first uint64) (c [2][16]uint32) {
	for i := range 16 {
		n := first + uint64(i)
		c[0][i], c[1][i] = uint32(n), uint32(n>>32)
	}
	return c
}
