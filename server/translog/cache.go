package translog

import (
	"sync"

	"evidock"
)

// maxCachedHashes bounds the stored hashes a Log keeps in memory: 32 bytes
// each, about 5 MiB with the map's overhead.
const maxCachedHashes = 1 << 16

// hashCache keeps stored hashes the log has read. A stored hash never
// changes once written (the tables are append-only, and a changed one
// would break every proof), so a cached hash is never stale, and servers
// sharing one database may each keep their own. It spares the database the
// reads that every receipt repeats: the proofs of records appended at the
// same time share most of their hashes.
type hashCache struct {
	mu     sync.Mutex
	hashes map[int64]evidock.LogHash
}

// read returns the hashes at indexes, from the cache where it can and
// from read for the rest, which it then keeps.
func (c *hashCache) read(indexes []int64, read func([]int64) ([]evidock.LogHash, error)) ([]evidock.LogHash, error) {
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
	if c.hashes == nil || len(c.hashes)+len(got) > maxCachedHashes {
		c.hashes = make(map[int64]evidock.LogHash, len(got)) // start again rather than track age
	}
	for j, h := range got {
		out[at[j]] = h
		c.hashes[missing[j]] = h
	}
	return out, nil
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
