package agent

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"evidock"
)

// upload stores r's staged copy in the object store under its digest-derived
// key and verifies it there. The staged copy is hashed again first: if the
// local disk damaged it, it must not reach the store as if it were original.
// An object already stored with the same size and digest is not sent again.
func (a *Agent) upload(ctx context.Context, r *Recording) error {
	key := r.ObjectKey()
	f, err := os.Open(r.StagedPath)
	if err != nil {
		return noted(NoteStagedRead, fmt.Errorf("open staged copy of %s: %w", r.FileName, err))
	}
	defer f.Close()
	single := r.Size <= a.MultipartThreshold
	partSize := r.Size
	if !single {
		partSize = max(a.PartSize, (r.Size+maxParts-1)/maxParts)
	}
	// A staged copy of another length hashes differently too.
	d, sums, _, err := fileSums(f, partSize)
	if err != nil {
		return noted(NoteStagedRead, fmt.Errorf("re-read staged copy of %s: %w", r.FileName, err))
	} else if d != r.Digest {
		return a.stagedDamaged(ctx, r, d)
	}

	// A single request needs no look first: If-None-Match makes a repeat
	// fail as a conflict, checked below. A multipart upload is worth a look.
	if !single {
		done, err := a.alreadyStored(ctx, r)
		if err != nil || done {
			return err
		}
	}
	start := time.Now()
	t := a.live.begin(r.ID, StateUploading)
	defer a.live.end(r.ID)
	if single {
		body := checksummed{io.NewSectionReader(f, 0, r.Size), sums[0]}
		err = a.Objects.PutObject(ctx, key, body, r.Size, r.metadata(a.StationID))
		t.done.Store(r.Size)
	} else {
		err = a.uploadParts(ctx, r, f, partSize, sums, &t.done)
	}
	switch {
	case evidock.ErrorCode(err) == evidock.ECONFLICT:
		// Stored meanwhile, by us before a crash or by another station:
		// look at what is there.
		if done, err := a.alreadyStored(ctx, r); err != nil {
			return err
		} else if !done {
			return evidock.Errorf(evidock.EUNAVAILABLE, "object %s conflicts but is not there", key)
		}
	case err != nil:
		return err
	default:
		// The store took the bytes against our CRC32C and the object did not
		// exist before: it holds them. The clear stage and the case server
		// look at the object again before anything depends on it.
		r.UploadID, r.Parts, r.StoredAt = "", nil, time.Now()
		if err := a.transition(ctx, r, StateStored); err != nil {
			return err
		}
	}
	a.counters.uploaded.Add(r.Size)
	a.Logger.Info("uploaded", "file", r.FileName, "key", key, "bytes", r.Size, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// checksummed is an upload body that knows its checksums.
type checksummed struct {
	io.ReadSeeker
	sums partSums
}

// CRC32C returns the body's base64 CRC32C; see evidock.PrecomputedChecksum.
func (c checksummed) CRC32C() string { return c.sums.crc32c }

// SHA256 returns the body's hex SHA-256; see evidock.PrecomputedChecksum.
func (c checksummed) SHA256() string { return c.sums.sha256 }

// stagedDamaged handles a staged copy whose bytes no longer hash to what was
// read from the recorder: copy again while the recorder is docked, else
// fail with an alarm (the recording starts over at the next dock).
func (a *Agent) stagedDamaged(ctx context.Context, r *Recording, got evidock.Digest) error {
	a.Logger.Error("ALARM: staged copy damaged", "file", r.FileName, "staged", r.StagedPath, "blake3", got, "ingested_as", r.Digest)
	os.Remove(r.StagedPath)
	if _, err := fs.Stat(a.OpenVolume(r.Volume), r.RelPath); err != nil {
		return noted(NoteStagedDamaged, evidock.Errorf(evidock.EUNVERIFIED, "ALARM: staged copy of %s is damaged (blake3 %s, ingested as %s) and the recorder is not docked: dock it again",
			r.FileName, got, r.Digest))
	}
	r.StagedPath, r.Digest, r.UploadID, r.Parts = "", evidock.Digest{}, "", nil
	return a.transitionWhy(ctx, r, StateDiscovered, NoteStagedRecopy, "staged copy was damaged; copying again from the recorder")
}

// alreadyStored checks the store for r's object. When it is there with r's
// size and digest, it marks r stored and returns true.
func (a *Agent) alreadyStored(ctx context.Context, r *Recording) (bool, error) {
	err := a.verifyStored(ctx, r)
	if evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.UploadID, r.Parts, r.StoredAt = "", nil, time.Now()
	return true, a.transition(ctx, r, StateStored)
}

// verifyStored returns nil if the store holds r's object with r's size and
// digest, ENOTFOUND if it holds none, and EUNVERIFIED for an object of
// another size or digest under r's key: keys derive from content, so the
// store holds damaged bytes.
func (a *Agent) verifyStored(ctx context.Context, r *Recording) error {
	info, err := a.Objects.StatObject(ctx, r.ObjectKey())
	if err != nil {
		return err
	}
	if info.Size != r.Size || info.Metadata[evidock.MetaBLAKE3] != r.Digest.String() {
		return evidock.Errorf(evidock.EUNVERIFIED, "object %s holds %d bytes with blake3 %q, want %d bytes with %s",
			r.ObjectKey(), info.Size, info.Metadata[evidock.MetaBLAKE3], r.Size, r.Digest)
	}
	return nil
}

// uploadParts sends r in parts, recording the upload ID and every completed
// part durably, so that after a crash only the missing parts are sent;
// sent counts the bytes of parts sent in this call.
func (a *Agent) uploadParts(ctx context.Context, r *Recording, f io.ReaderAt, partSize int64, sums []partSums, sent *atomic.Int64) error {
	key := r.ObjectKey()
	if r.UploadID != "" {
		held, err := a.Objects.ListParts(ctx, key, r.UploadID)
		switch {
		case evidock.ErrorCode(err) == evidock.ENOTFOUND:
			r.UploadID, r.Parts = "", nil // expired or aborted: start over
		case err != nil:
			return err
		default:
			r.Parts = agreedParts(r.Parts, held)
		}
	}
	if r.UploadID == "" {
		// An upload begun before a crash, whose ID never reached our state,
		// is discarded so that no parts linger in the store.
		orphans, err := a.Objects.ListUploads(ctx, key)
		if err != nil {
			return err
		}
		for _, u := range orphans {
			if u.Key != key {
				continue
			}
			if err := a.Objects.AbortUpload(ctx, key, u.ID); err != nil {
				return err
			}
		}
		id, err := a.Objects.CreateUpload(ctx, key, r.metadata(a.StationID))
		if err != nil {
			return err
		}
		r.UploadID = id
		if err := a.transition(ctx, r, StateUploading); err != nil {
			return err
		}
	}
	for number, off := int32(1), int64(0); off < r.Size; number, off = number+1, off+partSize {
		if slices.ContainsFunc(r.Parts, func(p evidock.Part) bool { return p.Number == number }) {
			continue
		}
		size := min(partSize, r.Size-off)
		body := checksummed{io.NewSectionReader(f, off, size), sums[number-1]}
		p, err := a.Objects.UploadPart(ctx, key, r.UploadID, number, body, size)
		if err != nil {
			return err
		}
		r.Parts = append(r.Parts, p)
		if err := a.State.UpdateRecording(ctx, r); err != nil {
			return err
		}
		sent.Add(size)
	}
	slices.SortFunc(r.Parts, func(x, y evidock.Part) int { return int(x.Number - y.Number) })
	err := a.Objects.CompleteUpload(ctx, key, r.UploadID, r.Parts)
	if evidock.ErrorCode(err) == evidock.ECONFLICT {
		// The object exists already; drop our upload so no parts linger,
		// and let the caller look at what is there.
		if aerr := a.Objects.AbortUpload(ctx, key, r.UploadID); aerr != nil {
			return aerr
		}
	}
	return err
}

// agreedParts keeps the parts that both our record and the store hold with
// the same checksum; any other part is sent again.
func agreedParts(ours, held []evidock.Part) []evidock.Part {
	var agreed []evidock.Part
	for _, p := range ours {
		if slices.ContainsFunc(held, func(h evidock.Part) bool {
			return h.Number == p.Number && h.Size == p.Size && h.Checksum == p.Checksum
		}) {
			agreed = append(agreed, p)
		}
	}
	return agreed
}

// metadata is what the store keeps beside the bytes, so that an object can
// be identified without the registry.
func (r *Recording) metadata(station string) map[string]string {
	return map[string]string{
		evidock.MetaBLAKE3:       r.Digest.String(),
		evidock.MetaDeviceSerial: r.DeviceSerial,
		evidock.MetaOfficerNo:    r.OfficerNo,
		evidock.MetaStartedAt:    r.StartedAt.Format(time.RFC3339),
		evidock.MetaFileName:     r.FileName,
		evidock.MetaStationID:    station,
	}
}
