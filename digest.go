package evidock

import (
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/zeebo/blake3"

	"evidock/internal/blake3wide"
)

// DigestSize is the length in bytes of a BLAKE3-256 digest.
const DigestSize = 32

// Digest is the BLAKE3-256 digest of a recording's bytes. It is the identity
// of a clip everywhere: object keys, registry entries and receipts.
type Digest [DigestSize]byte

// String returns the digest as 64 lowercase hex digits.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d was never set.
func (d Digest) IsZero() bool { return d == Digest{} }

// MarshalText encodes the digest as lowercase hex.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes 64 hex digits; it returns an EINVALID error otherwise.
func (d *Digest) UnmarshalText(b []byte) error {
	v, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDigest decodes a digest written as 64 hex digits (either case). It
// returns an EINVALID error naming what is wrong with s.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*DigestSize {
		return d, Errorf(EINVALID, "blake3 digest must be %d hex digits, got %d characters", 2*DigestSize, len(s))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, Errorf(EINVALID, "blake3 digest is not hex: %v", err)
	}
	return d, nil
}

// Hasher computes a Digest over bytes written to it. Where the CPU has
// AVX-512 it runs internal/blake3wide, which compresses 16 chunks at once
// and hashes about twice as fast on one core as zeebo/blake3, whose widest
// code is AVX2 (make bench); elsewhere zeebo/blake3. Both compute the same
// BLAKE3, checked against each other in blake3wide's tests.
type Hasher struct{ h hash.Hash }

// NewHasher returns a Hasher ready for writing.
func NewHasher() *Hasher {
	if blake3wide.Accelerated() {
		return &Hasher{h: blake3wide.New()}
	}
	return &Hasher{h: blake3.New()}
}

// HashImplementation names the BLAKE3 code NewHasher runs on this CPU, for
// the agent's start-up log and the benchmark's report: ingest speed depends
// on it.
func HashImplementation() string {
	if blake3wide.Accelerated() {
		return "internal/blake3wide (AVX-512)"
	}
	return "zeebo/blake3"
}

// Write adds p to the hash; it never returns an error.
func (h *Hasher) Write(p []byte) (int, error) { return h.h.Write(p) }

// Digest returns the digest of everything written so far.
func (h *Hasher) Digest() Digest {
	var d Digest
	h.h.Sum(d[:0])
	return d
}

// DigestOf reads r to the end and returns the digest and length of its bytes,
// or the first read error.
func DigestOf(r io.Reader) (Digest, int64, error) {
	h := NewHasher()
	// Large reads: the hash runs at GB/s, and small ones cost syscalls.
	buf := ReadBuffers.Get().(*[]byte)
	defer ReadBuffers.Put(buf)
	n, err := io.CopyBuffer(h, r, *buf)
	if err != nil {
		return Digest{}, n, fmt.Errorf("digest: %w", err)
	}
	return h.Digest(), n, nil
}

// ReadBufferSize is the size of the buffers in ReadBuffers: large enough
// that hashing, at GB/s, is not held up by syscalls, small enough to stay
// in a core's cache.
const ReadBufferSize = 1 << 20

// ReadBuffers holds *[]byte buffers of ReadBufferSize for reading footage.
// Reusing them matters: a fresh megabyte costs page faults and zeroing on
// every file, which measured here as much as hashing many 5 MiB files
// itself.
var ReadBuffers = sync.Pool{New: func() any { b := make([]byte, ReadBufferSize); return &b }}
