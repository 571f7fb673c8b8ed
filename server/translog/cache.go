package translog

import (
	"sync"

	"evidock"
)

// maxCachedHashes bounds the stored hashes a HashCache keeps in memory: 32 bytes
// each, about 5 MiB with the map's overhead.
const maxCachedHashes = 1 << 16

// HashCache keeps a log's stored hashes in memory for a store. A stored
// hash never changes once committed (the tables are append-only, and a
// changed one would break every proof), so a cached hash is never stale, and
// servers sharing one database may each keep their own. It spares the
// database the reads that every receipt and every batch of appends repeats:
// records appended at about the same time share most of their hashes. The
// zero HashCache is empty and ready to use.
type HashCache struct {
	mu     sync.Mutex
	hashes map[int64]evidock.LogHash
}

// Read returns the hashes at indexes, from the cache where it can and from
// read for the rest, which it then keeps. read must return committed hashes
// only.
func (c *HashCache) Read(indexes []int64, read func([]int64) ([]evidock.LogHash, error)) ([]evidock.LogHash, error) {
	out := make([]evidock.LogHash, len(indexes))
	var missing []int64
	var at []int // where each missing hash goes in out
	c.mu.Lock()
	for i, x := range indexes {
		if h, ok := c.hashes[x]; ok {
			out[i] = h
			continue
		}
		missing, at = append(missing, x), append(at, i)
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := read(missing)
	if err != nil {
		return nil, err
	}
	if len(got) != len(missing) {
		return nil, errHashCount(len(got), len(missing))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room(len(got))
	for j, h := range got {
		out[at[j]] = h
		c.hashes[missing[j]] = h
	}
	return out, nil
}

// Add keeps hashes, which a transaction that has committed stored, by
// index.
func (c *HashCache) Add(hashes map[int64]evidock.LogHash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room(len(hashes))
	for x, h := range hashes {
		c.hashes[x] = h
	}
}

// room makes room for n more hashes.
func (c *HashCache) room(n int) {
	if c.hashes == nil || len(c.hashes)+n > maxCachedHashes {
		c.hashes = make(map[int64]evidock.LogHash, n) // start again rather than track age
	}
}

// signedCheckpoint is the newest checkpoint a Log has signed. Ed25519
// signatures are deterministic, so handing it out again is the same as
// signing the same tree again.
type signedCheckpoint struct {
	mu     sync.Mutex
	cp     Checkpoint
	signed []byte
}

// get returns the signed checkpoint of the tree of size n, if it is the one
// kept.
func (s *signedCheckpoint) get(n int64) ([]byte, Checkpoint, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signed == nil || s.cp.Size != n {
		return nil, Checkpoint{}, false
	}
	return s.signed, s.cp, true
}

// holding returns the kept checkpoint if its tree holds record index.
func (s *signedCheckpoint) holding(index int64) ([]byte, Checkpoint, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signed == nil || s.cp.Size <= index {
		return nil, Checkpoint{}, false
	}
	return s.signed, s.cp, true
}

// put keeps the signed checkpoint cp unless a larger one is kept.
func (s *signedCheckpoint) put(cp Checkpoint, signed []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signed == nil || cp.Size > s.cp.Size {
		s.cp, s.signed = cp, signed
	}
}
