package translog

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"evidock"
)

var _ evidock.LogService = (*Log)(nil)

// HashStore keeps the log: its records and the tlog stored hashes, in
// tables that are only ever added to. The SQLite and the PostgreSQL stores
// implement it, and append to it themselves: every clip they register gets
// its entry (see NewEntry) in the transaction that inserts it, under a lock
// that keeps one appender at a time.
type HashStore interface {
	// LogSize returns the number of records in the log.
	LogSize(ctx context.Context) (int64, error)

	// ReadLogHashes returns the stored hashes at the given storage indexes
	// (tlog.StoredHashIndex), in the order asked; it returns an error if
	// any is missing. Every proof reads them, so a store should keep them
	// in a Cache.
	ReadLogHashes(ctx context.Context, indexes []int64) ([]evidock.LogHash, error)

	// ReadLogRecords returns the records with indexes from start to
	// start+count-1 that exist, in index order.
	ReadLogRecords(ctx context.Context, start int64, count int) ([]evidock.LogRecord, error)

	// FindLogRecord returns the index and the record of the clip with
	// digest d, and the log's size as the same read saw it (so that the
	// tree of that size holds the record), or ENOTFOUND if it is not in
	// the log.
	FindLogRecord(ctx context.Context, d evidock.Digest) (index int64, record []byte, size int64, err error)

	// AppendMissingClips appends to the log, in the order of their IDs,
	// the registered clips that are not in it (those registered before the
	// log existed, or by a server too old to append) and returns how many
	// it appended.
	AppendMissingClips(ctx context.Context) (int, error)
}

// Entry is what a store writes to append one clip to the log: the record at
// Index, and the stored hashes that start at storage index HashIndex.
type Entry struct {
	Index     int64
	ClipID    int64
	Digest    evidock.Digest
	Record    []byte
	HashIndex int64
	Hashes    []evidock.LogHash
}

// NewEntry returns the entry that appends clip c, as stored, to a log of n
// records whose earlier stored hashes read returns. A store calls it while
// holding the log's lock, in the transaction that inserts c. It returns
// EINVALID if c cannot be written as a record (see EncodeRecord), and
// read's error.
func NewEntry(n int64, c *evidock.Clip, read func(indexes []int64) ([]evidock.LogHash, error)) (*Entry, error) {
	record, err := EncodeRecord(n, c)
	if err != nil {
		return nil, err
	}
	hashes, err := tlog.StoredHashes(n, record, hashReader(read))
	if err != nil {
		return nil, fmt.Errorf("log entry %d: %w", n, err)
	}
	e := &Entry{Index: n, ClipID: c.ID, Digest: c.Digest, Record: record, HashIndex: tlog.StoredHashIndex(0, n)}
	for _, h := range hashes {
		e.Hashes = append(e.Hashes, evidock.LogHash(h))
	}
	return e, nil
}

// hashReader adapts a store's read function to tlog.
func hashReader(read func([]int64) ([]evidock.LogHash, error)) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs, err := read(indexes)
		if err != nil {
			return nil, err
		}
		if len(hs) != len(indexes) {
			return nil, errHashCount(len(hs), len(indexes))
		}
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, nil
	})
}

// Log is the transparency log of one registry: a HashStore and the key
// that signs its checkpoints. It is safe for concurrent use, and several
// servers may serve one log from one PostgreSQL database with copies of one
// key: they keep no state of their own.
type Log struct {
	store  HashStore
	signer note.Signer
	vkey   string

	latest  signedCheckpoint // the newest checkpoint signed
	signing sync.Mutex       // held while a receipt's checkpoint is made
}

// New returns the log kept in store whose checkpoints skey signs; the key's
// name is the log's origin. It returns EINVALID if skey is not an Ed25519
// note signing key.
func New(store HashStore, skey string) (*Log, error) {
	vkey, err := VerifierKey(skey)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, evidock.WrapError(evidock.EINVALID, err, "log signing key: %v", err)
	}
	return &Log{store: store, signer: signer, vkey: vkey}, nil
}

// Origin returns the log's origin, the first line of its checkpoints.
func (l *Log) Origin() string { return l.signer.Name() }

// VerifierKey returns the public key that checks the log's checkpoints.
func (l *Log) VerifierKey() string { return l.vkey }

// LogVerifierKey returns VerifierKey; it never fails.
func (l *Log) LogVerifierKey(context.Context) (string, error) { return l.vkey, nil }

// CatchUp appends to the log every registered clip that is missing from
// it (see HashStore.AppendMissingClips) and returns how many it appended.
func (l *Log) CatchUp(ctx context.Context) (int, error) {
	n, err := l.store.AppendMissingClips(ctx)
	if err != nil {
		return n, fmt.Errorf("log: catch up: %w", err)
	}
	return n, nil
}

func (l *Log) reader(ctx context.Context) tlog.HashReader {
	return hashReader(func(indexes []int64) ([]evidock.LogHash, error) {
		return l.store.ReadLogHashes(ctx, indexes)
	})
}

// TreeRoot returns the root of the tree of the first n records of the log
// in s, from its stored hashes.
func TreeRoot(ctx context.Context, s HashStore, n int64) (evidock.LogHash, error) {
	root, err := tlog.TreeHash(n, hashReader(func(indexes []int64) ([]evidock.LogHash, error) {
		return s.ReadLogHashes(ctx, indexes)
	}))
	if err != nil {
		return evidock.LogHash{}, fmt.Errorf("log: root of %d records: %w", n, err)
	}
	return evidock.LogHash(root), nil
}

// RebuildTree returns the tree of the first n records of the log in s,
// computed from the records alone, without its stored hashes; EINTERNAL if
// s holds fewer than n records.
func RebuildTree(ctx context.Context, s HashStore, n int64) (*Tree, error) {
	var tree Tree
	for tree.Size() < n {
		recs, err := s.ReadLogRecords(ctx, tree.Size(), int(min(n-tree.Size(), evidock.MaxLogRecords)))
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, evidock.Errorf(evidock.EINTERNAL, "log: %d records wanted, but record %d is missing", n, tree.Size())
		}
		for _, r := range recs {
			tree.Append([]byte(r.Record))
		}
	}
	return &tree, nil
}

// checkpoint returns the signed checkpoint of the tree of size n.
func (l *Log) checkpoint(ctx context.Context, n int64) ([]byte, Checkpoint, error) {
	if signed, c, ok := l.latest.get(n); ok {
		return signed, c, nil
	}
	root, err := TreeRoot(ctx, l.store, n)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	c := Checkpoint{Origin: l.Origin(), Size: n, Root: root}
	signed, err := SignCheckpoint(l.signer, c)
	if err != nil {
		return nil, c, err
	}
	l.latest.put(c, signed)
	return signed, c, nil
}

// checkpointHolding returns a signed checkpoint of a tree that holds record
// index: the newest one signed if it does, else that of the tree of size n
// (the log's size when the record was found). Records appended together
// thus share one signature rather than each signing the log's size of the
// moment; a receipt proves inclusion against any checkpoint holding its
// record.
func (l *Log) checkpointHolding(ctx context.Context, index, n int64) ([]byte, Checkpoint, error) {
	if signed, c, ok := l.latest.holding(index); ok {
		return signed, c, nil
	}
	// One signature at a time: the requests that waited find the one just
	// made.
	l.signing.Lock()
	defer l.signing.Unlock()
	if signed, c, ok := l.latest.holding(index); ok {
		return signed, c, nil
	}
	return l.checkpoint(ctx, n)
}

// LogCheckpoint returns the signed checkpoint of the log as it is now, or
// the store's error.
func (l *Log) LogCheckpoint(ctx context.Context) ([]byte, error) {
	n, err := l.store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	signed, _, err := l.checkpoint(ctx, n)
	return signed, err
}

// LogReceipt returns the receipt of the clip with digest d against a signed
// checkpoint that holds it (see checkpointHolding). A clip registered but missing from the log (see
// CatchUp) is appended first; ENOTFOUND means d is not registered.
func (l *Log) LogReceipt(ctx context.Context, d evidock.Digest) (*evidock.Receipt, error) {
	index, record, n, err := l.store.FindLogRecord(ctx, d)
	if evidock.ErrorCode(err) == evidock.ENOTFOUND {
		if _, err := l.CatchUp(ctx); err != nil {
			return nil, err
		}
		index, record, n, err = l.store.FindLogRecord(ctx, d)
	}
	if err != nil {
		return nil, err
	}
	// Stored hashes are never changed, so a proof made now holds for this
	// size for ever.
	signed, cp, err := l.checkpointHolding(ctx, index, n)
	if err != nil {
		return nil, err
	}
	proof, err := tlog.ProveRecord(cp.Size, index, l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("log: prove record %d in %d: %w", index, cp.Size, err)
	}
	return &evidock.Receipt{Index: index, Record: string(record), Checkpoint: string(signed), InclusionProof: fromTlog(proof)}, nil
}

// LogInclusionProof returns the proof that record index is in the tree of
// size n; EINVALID unless 0 <= index < n <= the log's size.
func (l *Log) LogInclusionProof(ctx context.Context, index, n int64) ([]evidock.LogHash, error) {
	size, err := l.store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= n || n > size {
		return nil, evidock.Errorf(evidock.EINVALID, "inclusion proof: want 0 <= index < size <= %d (the log's size), got index %d and size %d", size, index, n)
	}
	proof, err := tlog.ProveRecord(n, index, l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("log: prove record %d in %d: %w", index, n, err)
	}
	return fromTlog(proof), nil
}

// LogConsistencyProof returns the proof that the tree of size newSize holds
// the tree of size oldSize; EINVALID unless 0 < oldSize <= newSize <= the
// log's size.
func (l *Log) LogConsistencyProof(ctx context.Context, oldSize, newSize int64) ([]evidock.LogHash, error) {
	size, err := l.store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	if oldSize <= 0 || oldSize > newSize || newSize > size {
		return nil, evidock.Errorf(evidock.EINVALID, "consistency proof: want 0 < old <= new <= %d (the log's size), got old %d and new %d", size, oldSize, newSize)
	}
	proof, err := tlog.ProveTree(newSize, oldSize, l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("log: prove tree %d in %d: %w", oldSize, newSize, err)
	}
	return fromTlog(proof), nil
}

// LogRecords returns up to count records from index start on; EINVALID for
// a negative start or a count outside 1..evidock.MaxLogRecords.
func (l *Log) LogRecords(ctx context.Context, start int64, count int) ([]evidock.LogRecord, error) {
	if start < 0 || count < 1 || count > evidock.MaxLogRecords {
		return nil, evidock.Errorf(evidock.EINVALID, "log records: want start >= 0 and count 1 to %d, got start %d and count %d", evidock.MaxLogRecords, start, count)
	}
	return l.store.ReadLogRecords(ctx, start, count)
}

func fromTlog(hs []tlog.Hash) []evidock.LogHash {
	out := make([]evidock.LogHash, len(hs))
	for i, h := range hs {
		out[i] = evidock.LogHash(h)
	}
	return out
}

func toTlog(hs []evidock.LogHash) []tlog.Hash {
	out := make([]tlog.Hash, len(hs))
	for i, h := range hs {
		out[i] = tlog.Hash(h)
	}
	return out
}

// Appender makes the entries of clips appended one after another to a log
// of n records in one transaction, as a store registering a batch of clips
// does: the stored hashes of its own entries are served from memory, the
// rest by read.
type Appender struct {
	n       int64
	read    func(indexes []int64) ([]evidock.LogHash, error)
	fresh   map[int64]evidock.LogHash
	entries []*Entry
}

// NewAppender returns an Appender for a log of n records whose stored
// hashes read returns. The store must hold the log's lock from the time it
// reads n until it commits the entries.
func NewAppender(n int64, read func(indexes []int64) ([]evidock.LogHash, error)) *Appender {
	return &Appender{n: n, read: read, fresh: make(map[int64]evidock.LogHash)}
}

// Append returns the entry that appends c, as stored, at the log's end, and
// counts it as appended; see NewEntry for its errors.
func (a *Appender) Append(c *evidock.Clip) (*Entry, error) {
	e, err := NewEntry(a.n, c, a.readHashes)
	if err != nil {
		return nil, err
	}
	for i, h := range e.Hashes {
		a.fresh[e.HashIndex+int64(i)] = h
	}
	a.entries = append(a.entries, e)
	a.n++
	return e, nil
}

// readHashes reads the hashes at indexes, from memory where it can.
func (a *Appender) readHashes(indexes []int64) ([]evidock.LogHash, error) {
	out := make([]evidock.LogHash, len(indexes))
	var missing []int64
	for i, x := range indexes {
		h, ok := a.fresh[x]
		if !ok {
			missing = append(missing, x)
			continue
		}
		out[i] = h
	}
	if len(missing) == 0 {
		return out, nil
	}
	read, err := a.read(missing)
	if err != nil {
		return nil, err
	}
	if len(read) != len(missing) {
		return nil, errHashCount(len(read), len(missing))
	}
	j := 0
	for i, x := range indexes {
		if _, ok := a.fresh[x]; !ok {
			out[i] = read[j]
			j++
		}
	}
	return out, nil
}

func errHashCount(got, want int) error {
	return fmt.Errorf("log: read %d stored hashes, asked for %d", got, want)
}
