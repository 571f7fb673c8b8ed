package translog

import (
	"sync"

	"evidock"
)

// maxCachedHashes bounds the stored hashes a Cache keeps in memory: 32 bytes
// each, about 5 MiB with the map's overhead.
const maxCachedHashes = 1 << 16

// Cache is what a store keeps in memory of its log: stored hashes, and the
// records it appended lately. Both never change once committed (the tables
// are append-only, and a changed hash would break every proof), so nothing
// cached is ever stale, and servers sharing one database may each keep
// their own. It spares the database the reads that every receipt and every
// batch of appends repeats: records appended at about the same time share
// most of their hashes, and a receipt is asked for just after its record
// was appended. The zero Cache is empty and ready to use.
type Cache struct {
	mu      sync.Mutex
	hashes  map[int64]evidock.LogHash
	records map[evidock.Digest]cachedRecord
	size    int64 // the largest log size this store has committed
}

// cachedRecord is a record a store appended.
type cachedRecord struct {
	index  int64
	record []byte
}

// maxCachedRecords bounds the records a Cache keeps: receipts are asked for
// right after registration, so only the latest matter.
const maxCachedRecords = 1 << 12

// ReadHashes returns the hashes at indexes, from the cache where it can and
// from read for the rest, which it then keeps. read must return committed
// hashes only.
func (c *Cache) ReadHashes(indexes []int64, read func([]int64) ([]evidock.LogHash, error)) ([]evidock.LogHash, error) {
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
	c.hashRoom(len(got))
	for j, h := range got {
		out[at[j]] = h
		c.hashes[missing[j]] = h
	}
	return out, nil
}

// Committed keeps what a has appended, once the transaction that wrote it
// has committed.
func (c *Cache) Committed(a *Appender) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hashRoom(len(a.fresh))
	for x, h := range a.fresh {
		c.hashes[x] = h
	}
	if c.records == nil || len(c.records)+len(a.entries) > maxCachedRecords {
		c.records = make(map[evidock.Digest]cachedRecord, len(a.entries))
	}
	for _, e := range a.entries {
		c.records[e.Digest] = cachedRecord{index: e.Index, record: e.Record}
	}
	c.size = max(c.size, a.n)
}

// FindRecord returns the index and record of the clip with digest d, if the
// store appended it lately, and the largest log size it has committed, whose
// tree holds the record.
func (c *Cache) FindRecord(d evidock.Digest) (index int64, record []byte, size int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.records[d]
	return r.index, r.record, c.size, ok
}

// hashRoom makes room for n more hashes.
func (c *Cache) hashRoom(n int) {
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
