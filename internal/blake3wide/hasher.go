// Package blake3wide is an unkeyed BLAKE3 hasher built for large inputs: it
// hashes whole subtrees of 256 chunks straight out of the caller's buffer,
// 16 chunks (or 16 parent nodes) at a time through a 16-lane kernel.
package blake3wide

import (
	"encoding/binary"
	"hash"
)

const (
	// A subtree of 256 chunks fills the kernel's 16 lanes down to its
	// 16-node level, and its first chunk counter is a multiple of 256, so it
	// can go onto the CV stack as one entry.
	subtreeLog    = 8
	subtreeChunks = 1 << subtreeLog
	subtreeBytes  = subtreeChunks * chunkLen

	// Hashing up to 4 subtrees together keeps all 16 lanes busy on more of
	// the upper parent levels.
	maxBatch = 4

	// 2^54 chunks of 1 KiB exhaust the 64-bit byte count.
	maxStackDepth = 54
)

// narrowLevelKernelMin is the smallest number of parents of one level worth
// a kernel call, which always computes 16 lanes: for the generic kernel
// that is 16, below which scalar compressions are cheaper; the assembly
// kernel lowers it (many_amd64.go).
var narrowLevelKernelMin = 16

// Hasher computes the unkeyed 32-byte BLAKE3 digest. The zero value is ready
// to use.
type Hasher struct {
	stack cvStack

	// The last complete subtree is hashed but not pushed: until more input
	// arrives it may be the root, which needs the ROOT flag. pendingBlock is
	// its top node's block, the CVs of its two halves side by side.
	pending      bool
	pendingBlock [16]uint32

	// buf holds the input after the pending subtree, less than a subtree.
	buf []byte

	scratch *kernelScratch
}

// kernelScratch holds what the kernel reads and writes through pointers. A
// call through a function variable makes its arguments escape, so keeping
// them in the (heap) Hasher avoids an allocation per call.
type kernelScratch struct {
	out      [16][8]uint32
	counters [2][16]uint32
	// cvs holds the CVs of a batch of subtrees as the little-endian bytes
	// the kernel reads parent blocks from.
	cvs [maxBatch * subtreeChunks * 32]byte
}

// zeroCounters are the block counters of parent nodes.
var zeroCounters [2][16]uint32

func (h *Hasher) kernelScratch() *kernelScratch {
	if h.scratch == nil {
		h.scratch = new(kernelScratch)
	}
	return h.scratch
}

var _ hash.Hash = (*Hasher)(nil)

// New returns a hasher for unkeyed BLAKE3 with 32-byte output.
func New() *Hasher { return &Hasher{} }

// Size is the digest length in bytes.
func (h *Hasher) Size() int { return 32 }

// BlockSize is the BLAKE3 block length.
func (h *Hasher) BlockSize() int { return blockLen }

// Reset forgets all input, keeping the allocated buffers.
func (h *Hasher) Reset() {
	h.stack = cvStack{}
	h.pending = false
	h.buf = h.buf[:0]
}

// Write adds p to the input; it never fails. Whole subtrees are hashed
// straight out of p, only a shorter tail is copied.
func (h *Hasher) Write(p []byte) (int, error) {
	n := len(p)
	if len(h.buf) > 0 {
		take := min(subtreeBytes-len(h.buf), len(p))
		h.buf = append(h.buf, p[:take]...)
		p = p[take:]
		if len(h.buf) == subtreeBytes {
			h.hashSubtrees(h.buf)
			h.buf = h.buf[:0]
		}
	}
	p = h.writeSubtrees(p)
	// The tail buffer grows as it fills, so that hashing a few bytes does
	// not allocate a whole subtree's worth.
	h.buf = append(h.buf, p...)
	return n, nil
}

// writeSubtrees hashes the whole subtrees at the start of p and returns the
// rest.
func (h *Hasher) writeSubtrees(p []byte) []byte {
	for len(p) >= subtreeBytes {
		m := min(len(p)/subtreeBytes, maxBatch)
		h.hashSubtrees(p[:m*subtreeBytes])
		p = p[m*subtreeBytes:]
	}
	return p
}

// hashSubtrees hashes data, a whole number of subtrees (at most maxBatch),
// pushes all but the last onto the stack and leaves the last pending.
func (h *Hasher) hashSubtrees(data []byte) {
	batch := len(data) / subtreeBytes
	if h.pending {
		h.stack.push(parentCV(&h.pendingBlock), subtreeLog)
		h.pending = false
	}
	sc := h.kernelScratch()
	cvs := sc.cvs[:]
	first := h.stack.chunks
	for g := range batch * subtreeChunks / 16 {
		sc.counters = laneCounters(first + uint64(16*g))
		hashMany16(&data[16*chunkLen*g], chunkLen, chunkLen/blockLen, &iv, &sc.counters, 0, flagChunkStart, flagChunkEnd, &sc.out)
		for i := range sc.out {
			storeCV(cvs[32*(16*g+i):], &sc.out[i])
		}
	}
	// Subtrees lie side by side, so each level of the batch is contiguous;
	// stop when every subtree is down to its top node's two children.
	for nodes := batch * subtreeChunks; nodes > 2*batch; nodes /= 2 {
		reduceLevel(cvs, nodes/2, narrowLevelKernelMin, &sc.out)
	}
	for s := range batch {
		block := loadBlock(cvs[64*s:])
		if s < batch-1 {
			h.stack.push(parentCV(&block), subtreeLog)
		} else {
			h.pendingBlock = block
			h.pending = true
		}
	}
}

// reduceLevel replaces the 2*parents CVs at the start of cvs by their
// parents' CVs, in place: parent i reads bytes [64i, 64i+64) and writes
// [32i, 32i+32), which no later parent reads. cvs must hold at least 1024
// bytes, as the kernel's unused lanes read up to there.
func reduceLevel(cvs []byte, parents, kernelMin int, out *[16][8]uint32) {
	if parents >= kernelMin {
		for g := 0; 16*g < parents; g++ {
			_ = cvs[1024*g+1023]
			hashMany16(&cvs[1024*g], 2*32, 1, &iv, &zeroCounters, flagParent, 0, 0, out)
			for i := 0; i < 16 && 16*g+i < parents; i++ {
				storeCV(cvs[32*(16*g+i):], &out[i])
			}
		}
		return
	}
	for i := range parents {
		block := loadBlock(cvs[64*i:])
		cv := parentCV(&block)
		storeCV(cvs[32*i:], &cv)
	}
}

// Sum appends the digest of the input so far to b; the state is unchanged,
// so writing may go on.
func (h *Hasher) Sum(b []byte) []byte {
	d := h.digest(h.buf)
	return append(b, d[:]...)
}

// digest finishes the hash with tail (the input after the pending subtree)
// on a copy of the stack.
func (h *Hasher) digest(tail []byte) [32]byte {
	stack := h.stack
	var last output
	switch {
	case len(tail) > 0:
		if h.pending {
			stack.push(parentCV(&h.pendingBlock), subtreeLog)
		}
		last = h.hashTail(&stack, tail)
	case h.pending:
		last = parentOutput(&h.pendingBlock)
	default:
		last = chunkOutput(nil, 0)
	}
	root := stack.rootOf(last)
	var d [32]byte
	for i, w := range root[:8] {
		binary.LittleEndian.PutUint32(d[4*i:], w)
	}
	return d
}

// hashTail pushes all chunks of tail (non-empty) but the last onto stack and
// returns the last, which may still become the root.
func (h *Hasher) hashTail(stack *cvStack, tail []byte) output {
	for len(tail) > 16*chunkLen {
		sc := h.kernelScratch()
		sc.counters = laneCounters(stack.chunks)
		hashMany16(&tail[0], chunkLen, chunkLen/blockLen, &iv, &sc.counters, 0, flagChunkStart, flagChunkEnd, &sc.out)
		for i := range sc.out {
			stack.push(sc.out[i], 0)
		}
		tail = tail[16*chunkLen:]
	}
	for len(tail) > chunkLen {
		o := chunkOutput(tail[:chunkLen], stack.chunks)
		stack.push(o.chainingValue(), 0)
		tail = tail[chunkLen:]
	}
	return chunkOutput(tail, stack.chunks)
}

// Sum256 returns the BLAKE3 digest of data without copying it.
func Sum256(data []byte) [32]byte {
	var h Hasher
	return h.digest(h.writeSubtrees(data))
}

// output is a node before its last compression, which needs the ROOT flag
// if the node turns out to be the root.
type output struct {
	cv      [8]uint32
	block   [16]uint32
	counter uint64
	length  uint32
	flags   uint32
}

func (o *output) chainingValue() [8]uint32 {
	v := compress(&o.cv, &o.block, o.counter, o.length, o.flags)
	return [8]uint32(v[:8])
}

// root compresses the node as the root; the counter of the first output
// block is 0.
func (o *output) root() [16]uint32 {
	return compress(&o.cv, &o.block, 0, o.length, o.flags|flagRoot)
}

// chunkOutput hashes all blocks of a chunk (0 to 1024 bytes) but the last.
func chunkOutput(data []byte, counter uint64) output {
	cv := iv
	var flags uint32 = flagChunkStart
	for len(data) > blockLen {
		m := loadBlock(data)
		v := compress(&cv, &m, counter, blockLen, flags)
		cv = [8]uint32(v[:8])
		flags = 0
		data = data[blockLen:]
	}
	var last [blockLen]byte
	copy(last[:], data)
	return output{cv: cv, block: loadBlock(last[:]), counter: counter, length: uint32(len(data)), flags: flags | flagChunkEnd}
}

// parentOutput is the parent node whose block is its two children's CVs.
func parentOutput(block *[16]uint32) output {
	return output{cv: iv, block: *block, length: blockLen, flags: flagParent}
}

func parentCV(block *[16]uint32) [8]uint32 {
	v := compress(&iv, block, 0, blockLen, flagParent)
	return [8]uint32(v[:8])
}

// cvStack holds the CVs of the completed subtrees left of the current
// position: one entry per set bit of the number of chunks pushed, largest
// (leftmost) first.
type cvStack struct {
	cvs    [maxStackDepth][8]uint32
	n      int
	chunks uint64
}

// push adds the CV of a subtree of 2^log2Chunks chunks whose first chunk
// counter is a multiple of its size, merging with every left neighbour it
// completes a pair with.
func (s *cvStack) push(cv [8]uint32, log2Chunks uint) {
	s.chunks += 1 << log2Chunks
	for total := s.chunks >> log2Chunks; total&1 == 0; total >>= 1 {
		s.n--
		var block [16]uint32
		copy(block[:8], s.cvs[s.n][:])
		copy(block[8:], cv[:])
		cv = parentCV(&block)
	}
	s.cvs[s.n] = cv
	s.n++
}

// rootOf merges last, the rightmost node, down the stack and compresses the
// result as the root.
func (s *cvStack) rootOf(last output) [16]uint32 {
	for i := s.n - 1; i >= 0; i-- {
		var block [16]uint32
		copy(block[:8], s.cvs[i][:])
		cv := last.chainingValue()
		copy(block[8:], cv[:])
		last = parentOutput(&block)
	}
	return last.root()
}
