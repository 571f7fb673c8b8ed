package translog

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"evidock"
)

// The functions in this file need nothing but the log's public verifier key
// and what they are given: a station checking a receipt before it clears a
// recorder, an auditor checking the whole log, a court checking a receipt
// kept on a disc, years later, with no server at all.

// OpenReceipt checks what r proves by itself: its checkpoint is signed by
// vkey, its record is a well-formed record at r.Index, and its inclusion
// proof leads from the record to the checkpoint's root. It returns the
// record and the checkpoint, EINVALID for an unusable vkey, and EUNVERIFIED
// naming the first check that failed.
func OpenReceipt(vkey string, r *evidock.Receipt) (*Record, Checkpoint, error) {
	if r == nil {
		return nil, Checkpoint{}, evidock.Errorf(evidock.EUNVERIFIED, "receipt: there is none")
	}
	cp, err := OpenCheckpoint(vkey, []byte(r.Checkpoint))
	if err != nil {
		return nil, cp, receiptError(err)
	}
	rec, err := ParseRecord([]byte(r.Record))
	if err != nil {
		return nil, cp, evidock.WrapError(evidock.EUNVERIFIED, err, "receipt: %s", evidock.ErrorMessage(err))
	}
	if rec.Index != r.Index {
		return nil, cp, evidock.Errorf(evidock.EUNVERIFIED, "receipt: the record is at log index %d, but the receipt says %d", rec.Index, r.Index)
	}
	if err := VerifyInclusion(cp, r.Index, []byte(r.Record), r.InclusionProof); err != nil {
		return nil, cp, receiptError(err)
	}
	return rec, cp, nil
}

func receiptError(err error) error {
	if evidock.ErrorCode(err) == evidock.EINVALID {
		return err
	}
	return evidock.WrapError(evidock.EUNVERIFIED, err, "receipt: %s", evidock.ErrorMessage(err))
}

// VerifyReceipt is OpenReceipt, and then checks that the record is of clip
// c (see MatchClip). c is the clip as the caller knows it: a station passes
// the clip it sent for registration, so that a receipt for another clip, or
// one logging other details of this one, is refused. It returns the record,
// or an error as OpenReceipt and MatchClip do.
func VerifyReceipt(vkey string, r *evidock.Receipt, c *evidock.Clip) (*Record, error) {
	if c == nil {
		return nil, evidock.Errorf(evidock.EINVALID, "verify receipt: no clip to check it against")
	}
	rec, _, err := OpenReceipt(vkey, r)
	if err != nil {
		return nil, err
	}
	if err := MatchClip(rec, c); err != nil {
		return nil, err
	}
	return rec, nil
}

// MatchClip returns nil if the log record rec describes clip c: the same
// digest, size, object key, file name, recorder, officer, start time,
// clock offset, important mark, sequence, kind, duration and ingest time
// (times to the microsecond the stores keep), and, where c has them, the
// same corrected start, station, ID and registration time (which the server
// assigns). It returns EUNVERIFIED naming every field that differs.
func MatchClip(rec *Record, c *evidock.Clip) error {
	l := &rec.Clip
	var diffs []string
	add := func(field string, logged, want any) {
		diffs = append(diffs, fmt.Sprintf("%s is %v in the log, not %v", field, logged, want))
	}
	if l.Digest != c.Digest {
		// Another clip altogether: its other fields are beside the point.
		return evidock.Errorf(evidock.EUNVERIFIED, "receipt: it is for clip %s, not %s", l.Digest, c.Digest)
	}
	if l.Size != c.Size {
		add("size", l.Size, c.Size)
	}
	for _, f := range []struct {
		name, logged, want string
		always             bool
	}{
		{"object_key", l.ObjectKey, c.ObjectKey, true},
		{"file_name", l.FileName, c.FileName, true},
		{"device_serial", l.DeviceSerial, c.DeviceSerial, true},
		{"officer_no", l.OfficerNo, c.OfficerNo, true},
		{"kind", string(l.Kind), string(c.Kind), true},
		{"station_id", l.StationID, c.StationID, false},
	} {
		if (f.always || f.want != "") && f.logged != f.want {
			add(f.name, fmt.Sprintf("%q", f.logged), fmt.Sprintf("%q", f.want))
		}
	}
	for _, f := range []struct {
		name         string
		logged, want time.Time
		always       bool
	}{
		{"started_at", l.StartedAt, c.StartedAt, true},
		{"corrected_started_at", l.CorrectedStartedAt, c.CorrectedStartedAt, false},
		{"ingested_at", l.IngestedAt, c.IngestedAt, true},
		{"registered_at", l.RegisteredAt, c.RegisteredAt, false},
	} {
		want := f.want.Truncate(time.Microsecond)
		if (f.always || !f.want.IsZero()) && !f.logged.Equal(want) {
			add(f.name, f.logged.UTC().Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
		}
	}
	if l.ClockOffsetMS != c.ClockOffsetMS {
		add("clock_offset_ms", l.ClockOffsetMS, c.ClockOffsetMS)
	}
	if l.Important != c.Important {
		add("important", l.Important, c.Important)
	}
	if l.Seq != c.Seq {
		add("seq", l.Seq, c.Seq)
	}
	if l.DurationMS != c.DurationMS {
		add("duration_ms", l.DurationMS, c.DurationMS)
	}
	if c.ID != 0 && l.ID != c.ID {
		add("id", l.ID, c.ID)
	}
	if len(diffs) > 0 {
		return evidock.Errorf(evidock.EUNVERIFIED, "receipt: the log record of clip %s differs: %s", c.Digest, strings.Join(diffs, "; "))
	}
	return nil
}

// VerifyInclusion returns nil if proof shows that record is the record at
// index in the tree that cp describes, and EUNVERIFIED otherwise.
func VerifyInclusion(cp Checkpoint, index int64, record []byte, proof []evidock.LogHash) error {
	if index < 0 || index >= cp.Size {
		return evidock.Errorf(evidock.EUNVERIFIED, "inclusion proof: index %d is not in a tree of %d records", index, cp.Size)
	}
	if err := tlog.CheckRecord(toTlog(proof), cp.Size, tlog.Hash(cp.Root), index, tlog.RecordHash(record)); err != nil {
		return evidock.WrapError(evidock.EUNVERIFIED, err, "inclusion proof: the record at index %d does not lead to the root of the checkpoint of %d records", index, cp.Size)
	}
	return nil
}

// CheckConsistency returns nil if proof shows that the tree newer describes
// holds the tree older describes as its prefix: nothing the older
// checkpoint covered was changed, removed or reordered. It returns
// EUNVERIFIED otherwise, also for checkpoints of different logs and for a
// log that shrank.
func CheckConsistency(older, newer Checkpoint, proof []evidock.LogHash) error {
	switch {
	case older.Origin != newer.Origin:
		return evidock.Errorf(evidock.EUNVERIFIED, "consistency: checkpoints of two logs, %q and %q", older.Origin, newer.Origin)
	case older.Size > newer.Size:
		return evidock.Errorf(evidock.EUNVERIFIED, "consistency: the log shrank from %d records to %d: its history was rewritten", older.Size, newer.Size)
	case older.Size == newer.Size:
		if older.Root != newer.Root {
			return evidock.Errorf(evidock.EUNVERIFIED, "consistency: two checkpoints of %d records with different roots: the log's history was rewritten", older.Size)
		}
		return nil
	case older.Size == 0:
		return nil // every tree holds the empty one
	}
	if err := tlog.CheckTree(toTlog(proof), newer.Size, tlog.Hash(newer.Root), older.Size, tlog.Hash(older.Root)); err != nil {
		return evidock.WrapError(evidock.EUNVERIFIED, err, "consistency: the tree of %d records does not extend the one of %d records: the log's history was rewritten", newer.Size, older.Size)
	}
	return nil
}

// VerifyConsistency opens two signed checkpoints with vkey (see
// OpenCheckpoint) and checks with proof that the newer extends the older
// (see CheckConsistency). It returns both checkpoints, or the first error.
func VerifyConsistency(vkey string, older, newer []byte, proof []evidock.LogHash) (Checkpoint, Checkpoint, error) {
	o, err := OpenCheckpoint(vkey, older)
	if err != nil {
		return o, Checkpoint{}, err
	}
	n, err := OpenCheckpoint(vkey, newer)
	if err != nil {
		return o, n, err
	}
	return o, n, CheckConsistency(o, n, proof)
}

// Tree is a log rebuilt in memory from its records, so that an auditor can
// compute its roots without trusting the server's hashes. The zero Tree is
// empty and ready to use.
type Tree struct {
	hashes []tlog.Hash
	n      int64
}

// Append adds the next record.
func (t *Tree) Append(record []byte) {
	hs, err := tlog.StoredHashes(t.n, record, t)
	if err != nil {
		panic(fmt.Sprintf("translog: in-memory tree: %v", err)) // cannot happen: every hash is here
	}
	t.hashes = append(t.hashes, hs...)
	t.n++
}

// Size returns the number of records appended.
func (t *Tree) Size() int64 { return t.n }

// Root returns the root hash of the first n records; EINVALID if n is
// negative or more than were appended.
func (t *Tree) Root(n int64) (evidock.LogHash, error) {
	if n < 0 || n > t.n {
		return evidock.LogHash{}, evidock.Errorf(evidock.EINVALID, "tree: no root of %d records in a tree of %d", n, t.n)
	}
	h, err := tlog.TreeHash(n, t)
	return evidock.LogHash(h), err
}

// ReadHashes lets tlog read the tree's stored hashes.
func (t *Tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("tree: no stored hash %d", x)
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}
