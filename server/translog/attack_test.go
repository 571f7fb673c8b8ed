package translog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"evidock"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// forEachStore runs test against a new SQLite store and a new PostgreSQL
// store (skipped, loudly, if PostgreSQL is not running).
func forEachStore(t *testing.T, test func(t *testing.T, open func(t *testing.T) storetest.LogStore)) {
	t.Run("sqlite", func(t *testing.T) {
		test(t, func(t *testing.T) storetest.LogStore {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "evidock.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		pgtest.DSN(t)
		test(t, func(t *testing.T) storetest.LogStore {
			db, err := postgres.Open(context.Background(), pgtest.NewSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

// logged is a log of a few clips and the receipt of each.
type logged struct {
	store    storetest.LogStore
	log      *translog.Log
	skey     string
	vkey     string
	clips    []*evidock.Clip // as sent by the station, before registration
	receipts []*evidock.Receipt
}

func newLogged(t *testing.T, store storetest.LogStore, n int) *logged {
	t.Helper()
	ctx := context.Background()
	l := &logged{store: store}
	l.skey, l.vkey = storetest.MustLogKey(t)
	l.log = storetest.MustLog(t, store, l.skey)
	for i := 0; i < n; i++ {
		c := storetest.NewClip(fmt.Appendf(nil, "attack %d", i), "A123456", "100001",
			time.Date(2024, 5, 1, 9, i, 0, 0, evidock.ChinaTime), i+1)
		sent := *c
		if _, err := store.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		l.clips = append(l.clips, &sent)
	}
	for _, c := range l.clips {
		r, err := l.log.LogReceipt(ctx, c.Digest)
		if err != nil {
			t.Fatal(err)
		}
		l.receipts = append(l.receipts, r)
	}
	return l
}

// copyReceipt returns a deep copy of r, for a test to spoil.
func copyReceipt(r *evidock.Receipt) *evidock.Receipt {
	c := *r
	c.InclusionProof = append([]evidock.LogHash(nil), r.InclusionProof...)
	return &c
}

func TestReceipts(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storetest.LogStore) {
		l := newLogged(t, open(t), 5)
		for i, r := range l.receipts {
			rec, err := translog.VerifyReceipt(l.vkey, r, l.clips[i])
			if err != nil {
				t.Fatalf("receipt %d: %v", i, err)
			}
			if rec.Index != int64(i) || rec.Clip.Digest != l.clips[i].Digest || rec.Clip.ID == 0 {
				t.Fatalf("receipt %d: record %+v", i, rec)
			}
			// The stored clip, with the ID and times the server gave it,
			// matches as well.
			stored, _ := l.store.FindClipByDigest(context.Background(), l.clips[i].Digest)
			if _, err := translog.VerifyReceipt(l.vkey, r, stored); err != nil {
				t.Fatalf("receipt %d against the stored clip: %v", i, err)
			}
		}
		// Records appended before their receipts were asked for share one
		// signed checkpoint, of the tree that holds them all.
		for i, r := range l.receipts {
			if r.Checkpoint != l.receipts[0].Checkpoint {
				t.Fatalf("receipt %d names checkpoint\n%s\nreceipt 0 names\n%s", i, r.Checkpoint, l.receipts[0].Checkpoint)
			}
		}
		if cp, err := translog.OpenCheckpoint(l.vkey, []byte(l.receipts[0].Checkpoint)); err != nil || cp.Size != int64(len(l.clips)) {
			t.Fatalf("shared checkpoint: %+v, %v; want size %d", cp, err, len(l.clips))
		}
		// A record appended later gets a checkpoint that holds it.
		ctx := context.Background()
		later := storetest.NewClip([]byte("later"), "A123456", "100001", time.Date(2024, 5, 1, 10, 0, 0, 0, evidock.ChinaTime), 99)
		sent := *later
		if _, err := l.store.RegisterClip(ctx, later); err != nil {
			t.Fatal(err)
		}
		r, err := l.log.LogReceipt(ctx, later.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if rec, err := translog.VerifyReceipt(l.vkey, r, &sent); err != nil || rec.Index != int64(len(l.clips)) {
			t.Fatalf("later receipt: %+v, %v", rec, err)
		}
		// An earlier receipt stays valid as the log grows: it proves
		// inclusion in the tree it names, which later trees extend.
		if _, err := translog.VerifyReceipt(l.vkey, l.receipts[0], l.clips[0]); err != nil {
			t.Fatal(err)
		}
	})
}

func TestForgedReceipts(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storetest.LogStore) {
		l := newLogged(t, open(t), 5)
		r, c := l.receipts[2], l.clips[2]
		otherSkey, otherVkey := storetest.MustLogKey(t)

		// The attacker's own log, holding a clip that says what he
		// wants, signed with his own key under the same origin.
		forged := newLogged(t, open(t), 0)
		forged.skey, forged.vkey = otherSkey, otherVkey
		forged.log = storetest.MustLog(t, forged.store, otherSkey)
		fake := *c
		fake.OfficerNo = "999999"
		fake.FileName = strings.Replace(fake.FileName, "100001", "999999", 1)
		if _, err := forged.store.RegisterClip(context.Background(), &fake); err != nil {
			t.Fatal(err)
		}
		fakeReceipt, err := forged.log.LogReceipt(context.Background(), fake.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := translog.VerifyReceipt(otherVkey, fakeReceipt, &fake); err != nil {
			t.Fatalf("the attacker's receipt does not even verify with his own key: %v", err)
		}

		for _, tt := range []struct {
			name  string
			spoil func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip)
			want  string
		}{
			{"changed field in the record", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.Record = strings.Replace(r.Record, "officer_no 100001", "officer_no 100002", 1)
				return r, c
			}, "inclusion proof"},
			{"changed size, clip to match", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.Record = strings.Replace(r.Record, fmt.Sprintf("size %d\n", c.Size), fmt.Sprintf("size %d\n", c.Size+1), 1)
				big := *c
				big.Size++
				return r, &big
			}, "inclusion proof"},
			{"record moved to another index", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.Index = 3
				return r, c
			}, "index"},
			{"record and index moved together", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.Index = 3
				r.Record = strings.Replace(r.Record, "index 2\n", "index 3\n", 1)
				return r, c
			}, "inclusion proof"},
			{"a hash of the proof flipped", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.InclusionProof[0][0] ^= 1
				return r, c
			}, "inclusion proof"},
			{"proof cut short", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.InclusionProof = r.InclusionProof[:len(r.InclusionProof)-1]
				return r, c
			}, "inclusion proof"},
			{"no proof", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.InclusionProof = nil
				return r, c
			}, "inclusion proof"},
			{"proof of another record", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.InclusionProof = copyReceipt(l.receipts[1]).InclusionProof
				return r, c
			}, "inclusion proof"},
			{"checkpoint size changed", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.Checkpoint = strings.Replace(r.Checkpoint, "\n5\n", "\n6\n", 1)
				return r, c
			}, "does not verify"},
			{"checkpoint signed by another key", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				cp, _ := translog.OpenCheckpoint(l.vkey, []byte(r.Checkpoint))
				signer, _ := translogSigner(otherSkey)
				signed, _ := translog.SignCheckpoint(signer, cp)
				r.Checkpoint = string(signed)
				return r, c
			}, "not signed by the log key"},
			{"a whole receipt from another key", func(*evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				return copyReceipt(fakeReceipt), &fake
			}, "not signed by the log key"},
			{"replayed for another clip", func(*evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				return copyReceipt(l.receipts[1]), c
			}, "is for clip"},
			{"right clip, other details than the station sent", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				sent := *c
				sent.DurationMS++
				return r, &sent
			}, "duration_ms"},
			{"no receipt at all", func(*evidock.Receipt) (*evidock.Receipt, *evidock.Clip) { return nil, c }, "there is none"},
			{"not a note", func(r *evidock.Receipt) (*evidock.Receipt, *evidock.Clip) {
				r.Checkpoint = "evidock.test/registry\n5\n"
				return r, c
			}, "checkpoint"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				bad, clip := tt.spoil(copyReceipt(r))
				_, err := translog.VerifyReceipt(l.vkey, bad, clip)
				if evidock.ErrorCode(err) != evidock.EUNVERIFIED || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("VerifyReceipt = %v; want EUNVERIFIED saying %q", err, tt.want)
				}
			})
		}
		if _, err := translog.VerifyReceipt(l.vkey, r, c); err != nil {
			t.Fatalf("the genuine receipt no longer verifies: %v", err)
		}
	})
}

func TestForgedCheckpoints(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storetest.LogStore) {
		ctx := context.Background()
		l := newLogged(t, open(t), 4)
		older, err := l.log.LogCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, otherVkey := storetest.MustLogKey(t)
		if _, err := translog.OpenCheckpoint(otherVkey, older); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
			t.Fatalf("checkpoint opened with another key: %v; want EUNVERIFIED", err)
		}
		// A key of another log (other origin) cannot vouch for this one.
		_, elsewhere, _ := translog.GenerateKey("elsewhere.example/log")
		if _, err := translog.OpenCheckpoint(elsewhere, older); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
			t.Fatalf("checkpoint opened with another log's key: %v; want EUNVERIFIED", err)
		}

		// The log grows honestly: the newer checkpoint extends the older.
		for i := 0; i < 3; i++ {
			c := storetest.NewClip(fmt.Appendf(nil, "later %d", i), "B000002", "100002", time.Date(2024, 5, 2, 9, i, 0, 0, evidock.ChinaTime), i+1)
			if _, err := l.store.RegisterClip(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		newer, _ := l.log.LogCheckpoint(ctx)
		proof, err := l.log.LogConsistencyProof(ctx, 4, 7)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := translog.VerifyConsistency(l.vkey, older, newer, proof); err != nil {
			t.Fatalf("honest growth: %v", err)
		}
		if _, _, err := translog.VerifyConsistency(l.vkey, older, older, nil); err != nil {
			t.Fatalf("a checkpoint is consistent with itself: %v", err)
		}

		// The same key over a different history: the registry rebuilt
		// with the third clip's officer changed (someone with the key
		// and the database). Its checkpoint verifies by signature, but
		// not as an extension of what was signed before, and the
		// receipts given before do not lead to its root.
		rewritten := open(t)
		for i, c := range l.clips {
			c := *c
			if i == 2 {
				c.OfficerNo = "100009"
				c.FileName = strings.Replace(c.FileName, "100001", "100009", 1)
			}
			if _, err := rewritten.RegisterClip(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 3; i++ {
			c := storetest.NewClip(fmt.Appendf(nil, "later %d", i), "B000002", "100002", time.Date(2024, 5, 2, 9, i, 0, 0, evidock.ChinaTime), i+1)
			if _, err := rewritten.RegisterClip(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		rlog := storetest.MustLog(t, rewritten, l.skey)
		forged, _ := rlog.LogCheckpoint(ctx)
		if _, err := translog.OpenCheckpoint(l.vkey, forged); err != nil {
			t.Fatalf("the rewritten log's checkpoint is signed with the real key: %v", err)
		}
		forgedProof, _ := rlog.LogConsistencyProof(ctx, 4, 7)
		for _, tt := range []struct {
			name  string
			proof []evidock.LogHash
		}{{"its own proof", forgedProof}, {"the honest proof", proof}, {"no proof", nil}} {
			if _, _, err := translog.VerifyConsistency(l.vkey, older, forged, tt.proof); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
				t.Errorf("rewritten history with %s: %v; want EUNVERIFIED", tt.name, err)
			}
		}
		// A receipt from before, shown against the forged checkpoint.
		r := copyReceipt(l.receipts[2])
		r.Checkpoint = string(forged)
		if _, err := translog.VerifyReceipt(l.vkey, r, l.clips[2]); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
			t.Errorf("old receipt against the forged root: %v; want EUNVERIFIED", err)
		}
		// A log that shrank, and two roots for one size.
		if _, _, err := translog.VerifyConsistency(l.vkey, newer, older, nil); err == nil || !strings.Contains(err.Error(), "shrank") {
			t.Errorf("shrunk log: %v", err)
		}
		if _, _, err := translog.VerifyConsistency(l.vkey, newer, forged, nil); err == nil || !strings.Contains(err.Error(), "different roots") {
			t.Errorf("two roots of one size: %v", err)
		}
	})
}

// translogSigner is the signer of skey, for tests that sign what they like.
func translogSigner(skey string) (note.Signer, error) { return note.NewSigner(skey) }
