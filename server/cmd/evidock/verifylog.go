package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"evidock"
	"evidock/internal/cli"
	"evidock/server/translog"
)

// VerifyLogFlags are the settings of 'evidock verify-log'.
type VerifyLogFlags struct {
	// KeyFile holds the log's public verifier key, the only thing the
	// check trusts.
	KeyFile string
	// ClipsFile lists BLAKE3 digests, one a line, whose clips must be in
	// the log with an inclusion proof and match the registry.
	ClipsFile string
	// StateFile remembers the last verified checkpoint, so that the next
	// run demands that the log extends it.
	StateFile string

	vkey  string
	clips []evidock.Digest
}

// parse reads the key and the clip list named by the flags. It
// returns a *cli.UsageError naming the file at fault.
func (f *VerifyLogFlags) parse() error {
	if f.KeyFile == "" {
		return cli.Usagef("verify-log: --key is required: the log's public key file from 'evidock-server log keygen'")
	}
	vkey, err := translog.ReadVerifierKey(f.KeyFile)
	if err != nil {
		return cli.Usagef("verify-log: --key: %v", err)
	}
	f.vkey = vkey
	if f.ClipsFile == "" {
		return nil
	}
	b, err := os.ReadFile(f.ClipsFile)
	if err != nil {
		return cli.Usagef("verify-log: --clips: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		// "DIGEST  name", as b3sum writes it, is fine too.
		s, _, _ = strings.Cut(s, " ")
		d, err := evidock.ParseDigest(s)
		if err != nil {
			return cli.Usagef("verify-log: --clips %s line %d: %s", f.ClipsFile, line, evidock.ErrorMessage(err))
		}
		f.clips = append(f.clips, d)
	}
	return nil
}

// audit is one run of verify-log: what it has verified so far, and the
// problems it found.
type audit struct {
	m        *Main
	vkey     string
	cp       translog.Checkpoint
	signed   []byte
	tree     translog.Tree
	raw      [][]byte // the records, by index
	byDigest map[evidock.Digest]*translog.Record
	problems []string
}

func (a *audit) printf(format string, args ...any) { fmt.Fprintf(a.m.Stdout, format+"\n", args...) }

func (a *audit) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	a.problems = append(a.problems, msg)
	fmt.Fprintln(a.m.Stdout, "FAIL "+msg)
}

// verifyLog checks the server's transparency log with nothing but the
// public key: the checkpoint's signature, every record against the signed
// root, the log against the last verified checkpoint (--state), every
// registered clip against its record, and each clip listed in --clips with
// an inclusion proof. It returns nil only if every check passed, and an
// error saying how many failed otherwise; each failure is printed as a
// line starting with FAIL.
func (m *Main) verifyLog(ctx context.Context) error {
	a := &audit{m: m, vkey: m.VerifyLog.vkey, byDigest: map[evidock.Digest]*translog.Record{}}
	if err := a.run(ctx); err != nil {
		return err
	}
	if len(a.problems) > 0 {
		return fmt.Errorf("verify-log: %d check(s) failed; the log or the registry cannot be trusted as served (see the FAIL lines)", len(a.problems))
	}
	if f := m.VerifyLog.StateFile; f != "" {
		if err := writeFileAtomic(f, a.signed); err != nil {
			return fmt.Errorf("verify-log: --state: %w", err)
		}
		a.printf("state: remembered the checkpoint of %d records in %s", a.cp.Size, f)
	}
	a.printf("OK: the log of %s, %d records, verifies with the public key alone", a.cp.Origin, a.cp.Size)
	return nil
}

// run does the checks; it returns an error only when it cannot go on (the
// server cannot be reached), and records every failed check otherwise.
func (a *audit) run(ctx context.Context) error {
	c := a.m.client
	signed, err := c.LogCheckpoint(ctx)
	if err != nil {
		return err
	}
	cp, err := translog.OpenCheckpoint(a.vkey, signed)
	if err != nil {
		a.fail("%s", evidock.ErrorMessage(err))
		return nil
	}
	a.cp, a.signed = cp, signed
	a.printf("checkpoint: %s, %d records, root %s; signature verified with the given key", cp.Origin, cp.Size, cp.Root)
	if served, err := c.LogVerifierKey(ctx); err == nil && served != a.vkey {
		a.printf("note: the server offers another key (%s) than --key; only --key is trusted", served)
	}

	if !a.fetchRecords(ctx, cp.Size) {
		return nil
	}
	if root, _ := a.tree.Root(cp.Size); root != cp.Root {
		a.fail("records: the %d records hash to root %s, but the signed checkpoint says %s: records were changed after they were logged, or the server serves other records than it signed",
			cp.Size, root, cp.Root)
		a.locateChange(ctx)
	} else {
		a.printf("records: %d downloaded and parsed; they hash to the signed root", cp.Size)
	}

	if err := a.checkState(ctx); err != nil {
		return err
	}
	if err := a.checkRegistry(ctx); err != nil {
		return err
	}
	return a.checkListed(ctx)
}

// fetchRecords downloads records from len(a.raw) up to n, parses them into
// a.byDigest and appends them to a.tree. It reports false, after recording
// the failure, if the server does not give them all.
func (a *audit) fetchRecords(ctx context.Context, n int64) bool {
	for int64(len(a.raw)) < n {
		start := int64(len(a.raw))
		count := int(min(n-start, evidock.MaxLogRecords))
		recs, err := a.m.client.LogRecords(ctx, start, count)
		if err != nil {
			a.fail("records: fetching records from %d: %v", start, err)
			return false
		}
		if len(recs) == 0 {
			a.fail("records: the server has %d records, but its checkpoint claims %d", start, n)
			return false
		}
		for _, r := range recs {
			i := int64(len(a.raw))
			if r.Index != i || i >= n {
				a.fail("records: the server sent record %d where %d belongs", r.Index, i)
				return false
			}
			raw := []byte(r.Record)
			a.raw = append(a.raw, raw)
			a.tree.Append(raw)
			rec, err := translog.ParseRecord(raw)
			switch {
			case err != nil:
				a.fail("record %d: %s", i, evidock.ErrorMessage(err))
			case rec.Index != i:
				a.fail("record %d: says it is at index %d", i, rec.Index)
			case a.byDigest[rec.Clip.Digest] != nil:
				a.fail("record %d: clip %s is in the log twice (first at %d)", i, rec.Clip.Digest, a.byDigest[rec.Clip.Digest].Index)
			default:
				a.byDigest[rec.Clip.Digest] = rec
			}
		}
	}
	return true
}

// locateChange names the first record that differs from what the signed
// tree holds. Records 0..k-1 are as logged exactly when the server's
// consistency proof from k to the checkpoint's size leads from the root of
// those records to the signed root, so a binary search over k needs about
// log2(size) proofs.
func (a *audit) locateChange(ctx context.Context) {
	lo, hi := int64(0), a.cp.Size // records [0, lo) are intact; [0, hi) are not
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		root, _ := a.tree.Root(mid)
		proof, err := a.m.client.LogConsistencyProof(ctx, mid, a.cp.Size)
		if err != nil {
			a.printf("note: cannot locate the changed record: %v", err)
			return
		}
		if translog.CheckConsistency(translog.Checkpoint{Origin: a.cp.Origin, Size: mid, Root: root}, a.cp, proof) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	i := hi - 1
	what := "a record that does not parse"
	if rec, err := translog.ParseRecord(a.raw[i]); err == nil {
		what = fmt.Sprintf("clip %s (%s)", rec.Clip.Digest, rec.Clip.FileName)
	}
	a.fail("record %d, of %s, is not the record that was logged at %d: it was changed after it was logged (later records may be changed too)", i, what, i)
}

// checkState demands that the log extends the checkpoint in --state.
func (a *audit) checkState(ctx context.Context) error {
	f := a.m.VerifyLog.StateFile
	if f == "" {
		return nil
	}
	prev, err := os.ReadFile(f)
	if errors.Is(err, fs.ErrNotExist) {
		a.printf("state: %s holds no earlier checkpoint; this one will be remembered", f)
		return nil
	}
	if err != nil {
		return fmt.Errorf("verify-log: --state: %w", err)
	}
	old, err := translog.OpenCheckpoint(a.vkey, prev)
	if err != nil {
		a.fail("state: the checkpoint remembered in %s: %s", f, evidock.ErrorMessage(err))
		return nil
	}
	var proof []evidock.LogHash
	if old.Size > 0 && old.Size < a.cp.Size {
		if proof, err = a.m.client.LogConsistencyProof(ctx, old.Size, a.cp.Size); err != nil {
			a.fail("state: the server gives no consistency proof from %d to %d records: %v", old.Size, a.cp.Size, err)
			return nil
		}
	}
	if err := translog.CheckConsistency(old, a.cp, proof); err != nil {
		a.fail("state: against the checkpoint of %d records remembered in %s: %s", old.Size, f, evidock.ErrorMessage(err))
		return nil
	}
	// The records themselves must also give the old root, which names the
	// rewrite when the server's proof is consistent but its records are not.
	if root, err := a.tree.Root(old.Size); err == nil && root != old.Root {
		a.fail("state: the first %d records now hash to %s, but the remembered checkpoint says %s: the log's history was rewritten", old.Size, root, old.Root)
		return nil
	}
	a.printf("state: the log extends the checkpoint of %d records remembered in %s", old.Size, f)
	return nil
}

// checkRegistry compares every registered clip with its log record.
func (a *audit) checkRegistry(ctx context.Context) error {
	var clips []*evidock.Clip
	for {
		page, total, err := a.m.client.FindClips(ctx, evidock.ClipFilter{Offset: len(clips), Limit: evidock.DefaultClipLimit})
		if err != nil {
			return err
		}
		clips = append(clips, page...)
		if len(page) == 0 || len(clips) >= total {
			break
		}
	}
	inRegistry := make(map[evidock.Digest]bool, len(clips))
	var missing []*evidock.Clip
	for _, c := range clips {
		inRegistry[c.Digest] = true
		if a.byDigest[c.Digest] == nil {
			missing = append(missing, c)
		}
	}
	checked := a.cp.Size
	for d, rec := range a.byDigest {
		if !inRegistry[d] && rec.Index < checked {
			a.fail("clip %s (%s): in the log at %d but not in the registry: its registry row was deleted or its digest changed", d, rec.Clip.FileName, rec.Index)
		}
	}
	if len(missing) > 0 {
		// Registered after the checkpoint was fetched, perhaps: take a
		// newer one, prove it extends the first, and look again.
		if err := a.advance(ctx); err != nil {
			return err
		}
	}
	bad := 0
	for _, c := range clips {
		rec := a.byDigest[c.Digest]
		if rec == nil {
			a.fail("clip %s (%s): registered but not in the log", c.Digest, c.FileName)
			bad++
			continue
		}
		if diffs := translog.DiffClip(&rec.Clip, c); len(diffs) > 0 {
			a.fail("clip %s (%s): the registry differs from its log record %d: %s", c.Digest, c.FileName, rec.Index, strings.Join(diffs, "; "))
			bad++
		}
	}
	if bad == 0 {
		a.printf("registry: %d clips, each the same in every field as its log record", len(clips))
	}
	return nil
}

// advance moves the audit to the server's current checkpoint, if it is
// newer, after checking that it extends the verified one.
func (a *audit) advance(ctx context.Context) error {
	signed, err := a.m.client.LogCheckpoint(ctx)
	if err != nil {
		return err
	}
	cp, err := translog.OpenCheckpoint(a.vkey, signed)
	if err != nil {
		a.fail("%s", evidock.ErrorMessage(err))
		return nil
	}
	if cp.Size <= a.cp.Size {
		return nil
	}
	if a.cp.Size > 0 {
		proof, err := a.m.client.LogConsistencyProof(ctx, a.cp.Size, cp.Size)
		if err != nil {
			a.fail("the server gives no consistency proof from %d to %d records: %v", a.cp.Size, cp.Size, err)
			return nil
		}
		if err := translog.CheckConsistency(a.cp, cp, proof); err != nil {
			a.fail("the newer checkpoint: %s", evidock.ErrorMessage(err))
			return nil
		}
	}
	if !a.fetchRecords(ctx, cp.Size) {
		return nil
	}
	if root, _ := a.tree.Root(cp.Size); root != cp.Root {
		a.fail("records: the %d records hash to root %s, but the newer signed checkpoint says %s", cp.Size, root, cp.Root)
		return nil
	}
	a.printf("checkpoint: advanced to %d records, which extend the first checkpoint", cp.Size)
	a.cp, a.signed = cp, signed
	return nil
}

// checkListed checks each clip of --clips: in the log, with an inclusion
// proof from the server, and the same in the registry.
func (a *audit) checkListed(ctx context.Context) error {
	list := a.m.VerifyLog.clips
	if len(list) == 0 {
		return nil
	}
	bad := 0
	for _, d := range list {
		rec := a.byDigest[d]
		if rec == nil {
			a.fail("clip %s: not in the log", d)
			bad++
			continue
		}
		proof, err := a.m.client.LogInclusionProof(ctx, rec.Index, a.cp.Size)
		if err != nil {
			a.fail("clip %s (%s): no inclusion proof: %v", d, rec.Clip.FileName, err)
			bad++
			continue
		}
		if err := translog.VerifyInclusion(a.cp, rec.Index, a.raw[rec.Index], proof); err != nil {
			a.fail("clip %s (%s): %s", d, rec.Clip.FileName, evidock.ErrorMessage(err))
			bad++
			continue
		}
		c, err := a.m.client.FindClipByDigest(ctx, d)
		if evidock.ErrorCode(err) == evidock.ENOTFOUND {
			a.fail("clip %s (%s): in the log at %d but not in the registry", d, rec.Clip.FileName, rec.Index)
			bad++
			continue
		}
		if err != nil {
			return err
		}
		if diffs := translog.DiffClip(&rec.Clip, c); len(diffs) > 0 {
			a.fail("clip %s (%s): the registry differs from its log record %d: %s", d, rec.Clip.FileName, rec.Index, strings.Join(diffs, "; "))
			bad++
		}
	}
	if bad == 0 {
		a.printf("clips: %d listed, each in the log with a valid inclusion proof and the same in the registry", len(list))
	}
	return nil
}

// writeFileAtomic replaces path with b: a temporary file in the same
// directory, synced, renamed over path, and the directory synced, so that a
// crash leaves the old state or the new one, never half of either.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // not supported everywhere (Windows); the rename stands
		d.Close()
	}
	return nil
}
