package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/server/translog"
)

// LogStore is a registry store that keeps the transparency log: every clip
// it registers is appended to the log in the same transaction.
type LogStore interface {
	evidock.ClipService
	translog.HashStore
}

// TestOrigin is the origin of the logs the suites sign.
const TestOrigin = "evidock.test/registry"

// MustLogKey returns a new signing key for a log of TestOrigin and its
// verifier key.
func MustLogKey(tb testing.TB) (skey, vkey string) {
	tb.Helper()
	skey, vkey, err := translog.GenerateKey(TestOrigin)
	if err != nil {
		tb.Fatal(err)
	}
	return skey, vkey
}

// MustLog returns the log kept in store, signed with skey.
func MustLog(tb testing.TB, store translog.HashStore, skey string) *translog.Log {
	tb.Helper()
	l, err := translog.New(store, skey)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// RunHashStore runs the transparency-log contract against stores made by
// open, which must return a new empty store for every call: registering a
// clip appends it to the log exactly once, in the same transaction, with
// hashes from which every proof verifies, also under concurrent
// registrations.
func RunHashStore(t *testing.T, open func(t *testing.T) LogStore) {
	ctx := context.Background()

	t.Run("Empty", func(t *testing.T) {
		store := open(t)
		skey, vkey := MustLogKey(t)
		l := MustLog(t, store, skey)
		signed, err := l.LogCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := translog.OpenCheckpoint(vkey, signed)
		if err != nil || cp.Size != 0 || cp.Root != evidock.LogHash(sha256.Sum256(nil)) {
			t.Fatalf("checkpoint of the empty log = %+v, %v; want size 0 and the RFC 6962 empty root", cp, err)
		}
		if recs, err := store.ReadLogRecords(ctx, 0, 10); err != nil || len(recs) != 0 {
			t.Fatalf("ReadLogRecords = %v, %v; want none", recs, err)
		}
		c := NewClip([]byte("absent"), "A123456", "100001", day(0, 9), 1)
		if _, _, _, err := store.FindLogRecord(ctx, c.Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindLogRecord = %v; want ENOTFOUND", err)
		}
		if _, err := l.LogReceipt(ctx, c.Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("LogReceipt of an unregistered clip = %v; want ENOTFOUND", err)
		}
	})

	t.Run("AppendOnRegister", func(t *testing.T) {
		store := open(t)
		clips := registerLogClips(t, store, 7)
		// A repeat and a refused registration append nothing.
		again := NewClip([]byte("log 3"), "A123456", "100001", day(0, 3), 4)
		if created, err := store.RegisterClip(ctx, again); err != nil || created {
			t.Fatalf("repeat RegisterClip = %v, %v", created, err)
		}
		bad := NewClip([]byte("refused"), "A123456", "100001", day(0, 9), 1)
		bad.OfficerNo = "999999"
		if _, err := store.RegisterClip(ctx, bad); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Fatalf("invalid RegisterClip = %v", err)
		}
		if n, err := store.LogSize(ctx); err != nil || n != int64(len(clips)) {
			t.Fatalf("LogSize = %d, %v; want %d", n, err, len(clips))
		}
		for i, c := range clips {
			index, record, size, err := store.FindLogRecord(ctx, c.Digest)
			if err != nil || index != int64(i) || size != int64(len(clips)) {
				t.Fatalf("FindLogRecord(clip %d) = index %d, size %d, %v; want index %d, size %d", i, index, size, err, i, len(clips))
			}
			rec, err := translog.ParseRecord(record)
			if err != nil {
				t.Fatalf("record %d: %v\n%s", i, err, record)
			}
			stored, err := store.FindClipByDigest(ctx, c.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if d := translog.DiffClip(&rec.Clip, stored); rec.Index != int64(i) || len(d) > 0 {
				t.Fatalf("record %d (index %d) differs from the stored clip: %v", i, rec.Index, d)
			}
		}
		recs, err := store.ReadLogRecords(ctx, 5, 10)
		if err != nil || len(recs) != 2 || recs[0].Index != 5 || recs[1].Index != 6 {
			t.Fatalf("ReadLogRecords(5, 10) = %v, %v; want records 5 and 6", recs, err)
		}
		if n, err := store.AppendMissingClips(ctx); err != nil || n != 0 {
			t.Fatalf("AppendMissingClips = %d, %v; want 0, nothing is missing", n, err)
		}
	})

	t.Run("Proofs", func(t *testing.T) {
		store := open(t)
		clips := registerLogClips(t, store, 7)
		skey, vkey := MustLogKey(t)
		l := MustLog(t, store, skey)
		signed, err := l.LogCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := translog.OpenCheckpoint(vkey, signed)
		if err != nil || cp.Size != 7 || cp.Origin != TestOrigin {
			t.Fatalf("checkpoint = %+v, %v; want 7 records of %s", cp, err, TestOrigin)
		}
		// The auditor's own tree, from the records alone.
		tree := rebuild(t, store, cp.Size)
		if root, _ := tree.Root(7); root != cp.Root {
			t.Fatalf("root from the records %s; the signed checkpoint says %s", root, cp.Root)
		}
		for i, c := range clips {
			r, err := l.LogReceipt(ctx, c.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := translog.VerifyReceipt(vkey, r, c); err != nil || r.Index != int64(i) {
				t.Fatalf("receipt of clip %d (index %d): %v", i, r.Index, err)
			}
		}
		records, _ := store.ReadLogRecords(ctx, 0, 7)
		for size := int64(1); size <= 7; size++ {
			root, _ := tree.Root(size)
			cpAt := translog.Checkpoint{Origin: TestOrigin, Size: size, Root: root}
			for index := int64(0); index < size; index++ {
				proof, err := l.LogInclusionProof(ctx, index, size)
				if err != nil {
					t.Fatal(err)
				}
				if err := translog.VerifyInclusion(cpAt, index, []byte(records[index].Record), proof); err != nil {
					t.Fatalf("inclusion of %d in %d: %v", index, size, err)
				}
			}
			for old := int64(1); old <= size; old++ {
				oldRoot, _ := tree.Root(old)
				proof, err := l.LogConsistencyProof(ctx, old, size)
				if err != nil {
					t.Fatal(err)
				}
				if err := translog.CheckConsistency(translog.Checkpoint{Origin: TestOrigin, Size: old, Root: oldRoot}, cpAt, proof); err != nil {
					t.Fatalf("consistency of %d with %d: %v", old, size, err)
				}
			}
		}
		for _, tt := range []struct{ index, size int64 }{{-1, 3}, {3, 3}, {0, 8}, {0, 0}} {
			if _, err := l.LogInclusionProof(ctx, tt.index, tt.size); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("LogInclusionProof(%d, %d) = %v; want EINVALID", tt.index, tt.size, err)
			}
		}
		for _, tt := range []struct{ old, new int64 }{{0, 3}, {4, 3}, {1, 8}} {
			if _, err := l.LogConsistencyProof(ctx, tt.old, tt.new); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("LogConsistencyProof(%d, %d) = %v; want EINVALID", tt.old, tt.new, err)
			}
		}
		for _, tt := range []struct {
			start int64
			count int
		}{{-1, 1}, {0, 0}, {0, evidock.MaxLogRecords + 1}} {
			if _, err := l.LogRecords(ctx, tt.start, tt.count); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("LogRecords(%d, %d) = %v; want EINVALID", tt.start, tt.count, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		store := open(t)
		AssertConcurrentLog(t, []LogStore{store}, 6, 5)
	})

	// Registrations made at once share transactions (group commit); a
	// clip that fails must fail alone, and the others must be
	// registered and logged as if it were not there.
	t.Run("ConcurrentFaultsStayOwn", func(t *testing.T) {
		store := open(t)
		const n = 24
		clips := make([]*evidock.Clip, n)
		for i := range clips {
			clips[i] = NewClip(fmt.Appendf(nil, "batch %d", i), "A123456", "100001", day(1, 0).Add(time.Duration(i)*time.Minute), i+1)
		}
		// Every sixth clip names a station that does not exist; every
		// sixth, from the third, repeats an earlier digest with
		// another size.
		wantErr := map[int]string{}
		for i := 0; i < n; i += 6 {
			clips[i].StationID = "no-such-station"
			wantErr[i] = evidock.EINVALID
		}
		mustRegister(t, store, clips[1])
		for i := 3; i < n; i += 6 {
			*clips[i] = *clips[1]
			clips[i].ID = 0
			clips[i].Size++
			wantErr[i] = evidock.ECONFLICT
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range clips {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = store.RegisterClip(ctx, clips[i])
			}()
		}
		wg.Wait()
		good := 0
		for i, err := range errs {
			if code := evidock.ErrorCode(err); code != wantErr[i] {
				t.Errorf("clip %d: RegisterClip error %v (code %q); want code %q", i, err, code, wantErr[i])
			}
			if wantErr[i] == "" {
				good++
				if _, _, _, err := store.FindLogRecord(ctx, clips[i].Digest); err != nil {
					t.Errorf("clip %d is registered but not in the log: %v", i, err)
				}
			}
		}
		// clips[1] was registered first and repeated by itself in the
		// batch: it counts once.
		if size, err := store.LogSize(ctx); err != nil || size != int64(good) {
			t.Errorf("LogSize = %d, %v; want %d, each registered clip once", size, err, good)
		}
		for i := 0; i < n; i += 6 {
			if _, err := store.FindClipByDigest(ctx, clips[i].Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
				t.Errorf("clip %d with an unknown station: FindClipByDigest error %v; want ENOTFOUND", i, err)
			}
		}
	})
}

// AssertConcurrentLog registers workers*perWorker clips from workers
// goroutines spread over stores (several handles on one database stand for
// several servers), each clip twice, from two goroutines, and checks that
// the log holds every clip exactly once, at dense indexes, with hashes that
// give the root the records give.
func AssertConcurrentLog(t *testing.T, stores []LogStore, workers, perWorker int) {
	t.Helper()
	ctx := context.Background()
	n := workers * perWorker
	clips := make([]*evidock.Clip, n)
	for i := range clips {
		clips[i] = NewClip(fmt.Appendf(nil, "concurrent %d", i), "A123456", "100001", day(0, 0).Add(time.Duration(i)*time.Minute), i+1)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			store := stores[w%len(stores)]
			// Each worker registers its own clips and then its
			// neighbour's, so every clip races a second registration.
			for _, owner := range []int{w, (w + 1) % workers} {
				for k := 0; k < perWorker; k++ {
					c := *clips[owner*perWorker+k]
					if _, err := store.RegisterClip(ctx, &c); err != nil {
						errs <- fmt.Errorf("worker %d: clip %d: %w", w, owner*perWorker+k, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	store := stores[0]
	size, err := store.LogSize(ctx)
	if err != nil || size != int64(n) {
		t.Fatalf("LogSize = %d, %v; want %d, every clip once", size, err, n)
	}
	recs, err := store.ReadLogRecords(ctx, 0, n)
	if err != nil || len(recs) != n {
		t.Fatalf("ReadLogRecords = %d records, %v; want %d", len(recs), err, n)
	}
	seen := map[evidock.Digest]bool{}
	for i, r := range recs {
		rec, err := translog.ParseRecord([]byte(r.Record))
		if err != nil || r.Index != int64(i) || rec.Index != int64(i) {
			t.Fatalf("record at %d: index %d, %v", i, r.Index, err)
		}
		if seen[rec.Clip.Digest] {
			t.Fatalf("clip %s is in the log twice", rec.Clip.Digest)
		}
		seen[rec.Clip.Digest] = true
	}
	for i, c := range clips {
		if !seen[c.Digest] {
			t.Fatalf("clip %d is missing from the log", i)
		}
	}
	skey, vkey := MustLogKey(t)
	signed, err := MustLog(t, store, skey).LogCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := translog.OpenCheckpoint(vkey, signed)
	if err != nil {
		t.Fatal(err)
	}
	tree := rebuild(t, store, int64(n))
	if root, _ := tree.Root(int64(n)); root != cp.Root || cp.Size != int64(n) {
		t.Fatalf("checkpoint %+v; the records give root %s", cp, root)
	}
}

// RunLogKept shows that the database itself refuses to change or remove
// the transparency log's rows, as it does the clips'. exec runs a
// statement on s's database; more are the refusals only that database can
// be asked for.
func RunLogKept(t *testing.T, s LogStore, exec func(stmt string) error, more ...Refusal) {
	ctx := context.Background()
	for i := range 3 {
		mustRegister(t, s, NewClip(fmt.Appendf(nil, "logged %d", i), "A123456", "100001", day(0, 9).Add(time.Duration(i)*time.Minute), i+1))
	}
	assertRefused(t, exec, append([]Refusal{
		{"UPDATE log_records SET record = 'forged'", "never edited"},
		{"UPDATE log_records SET clip_id = 2 WHERE idx = 0", "never edited"},
		{"DELETE FROM log_records WHERE idx = 2", "never deleted"},
		{"UPDATE log_hashes SET hash = hash", "never edited"},
		{"DELETE FROM log_hashes", "never deleted"},
	}, more...))
	if n, err := s.LogSize(ctx); err != nil || n != 3 {
		t.Fatalf("LogSize after the attempts = %d, %v; want 3", n, err)
	}
}

// RunRegisterAtomicWithLog shows that a clip whose log entry cannot be
// written is not registered either. exec runs a statement on s's
// database; occupyFirstHash is the statement that stores a hash where the
// log's first entry puts its first (tlog.StoredHashIndex(0, 0)), which no
// store method can do.
func RunRegisterAtomicWithLog(t *testing.T, s LogStore, exec func(stmt string) error, occupyFirstHash string) {
	ctx := context.Background()
	if err := exec(occupyFirstHash); err != nil {
		t.Fatalf("%s: %v", occupyFirstHash, err)
	}
	c := NewClip([]byte("unlogged"), "A123456", "100001", day(0, 9), 1)
	if _, err := s.RegisterClip(ctx, c); err == nil {
		t.Fatal("RegisterClip succeeded without its log entry")
	}
	if _, err := s.FindClipByDigest(ctx, c.Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("clip after the failed registration: %v; want ENOTFOUND", err)
	}
}

// registerLogClips registers n clips, the first with an unusual file name
// and no station, and returns them as stored.
func registerLogClips(t *testing.T, store LogStore, n int) []*evidock.Clip {
	t.Helper()
	station := ""
	if ss, ok := store.(evidock.StationService); ok {
		if _, err := ss.CreateStation(context.Background(), &evidock.Station{ID: "dock-01"}); err != nil {
			t.Fatal(err)
		}
		station = "dock-01"
	}
	var clips []*evidock.Clip
	for i := 0; i < n; i++ {
		c := NewClip(fmt.Appendf(nil, "log %d", i), "A123456", "100001", day(0, i), i+1)
		if i == 0 {
			// Spaces, '%' and Chinese in the folder, as a Windows
			// docking PC may report it: the record must keep it exactly.
			c.FileName = `D:\录像 100%\` + c.FileName
		} else {
			c.StationID = station
		}
		if i == 2 {
			c.ClockOffsetMS, c.CorrectedStartedAt, c.Important = -1_500, time.Time{}, true
		}
		mustRegister(t, store, c)
		clips = append(clips, c)
	}
	return clips
}

// rebuild returns the tree of the store's first n records, computed from
// the records alone.
func rebuild(t *testing.T, store LogStore, n int64) *translog.Tree {
	t.Helper()
	tree, err := translog.RebuildTree(context.Background(), store, n)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}
