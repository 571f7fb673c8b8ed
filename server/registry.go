package server

import (
	"context"
	"fmt"
	"io"
	"strings"

	"evidock"
	"evidock/server/fixity"
)

var _ evidock.ClipService = (*Registry)(nil)

// Registry is the clip registry as the API offers it: it registers a clip only
// after checking that the footage is really in the object store, with the
// size and (when VerifyDigest is set) the BLAKE3 digest the station claims.
//
// The check is here, and not left to the agent, because the system itself
// must notice footage lost or damaged between upload and storage: a station
// clears a recorder once its clips are registered, so a registration that
// trusted the station's word could let the only copy of a recording be erased.
type Registry struct {
	// Clips stores the registered clips.
	Clips evidock.ClipService
	// Objects is the object store the stations upload footage to.
	Objects evidock.ObjectReader
	// VerifyDigest makes RegisterClip read each new object back and hash it.
	// It costs a full read of every clip, so large deployments with a store
	// that checks its own checksums may turn it off; size is always checked.
	VerifyDigest bool
	// Fixity, if not nil, records each such read-back as the clip's first
	// fixity check, so that the fixity job does not read new footage a
	// second time straight after its registration.
	Fixity interface {
		RecordCheck(ctx context.Context, c *fixity.Check) (*fixity.Alarm, error)
	}
}

// RegisterClip validates c with ValidateClip (filling in its
// CorrectedStartedAt), and, when VerifyDigest is set and its digest is
// already registered, returns the stored clip (created == false) without
// touching the object store.
// Otherwise it checks the object at evidock.ObjectKey(c.Digest) and only then
// stores the clip. It returns EINVALID for a malformed clip, EUNVERIFIED if
// the object is missing or does not hold the stated bytes, ECONFLICT if the
// digest is registered with another size, and the store's errors otherwise.
func (r *Registry) RegisterClip(ctx context.Context, c *evidock.Clip) (bool, error) {
	if err := ValidateClip(c); err != nil {
		return false, err
	}
	// A repeat is the agent retrying after a lost response; its object was
	// verified when the clip was first registered, and re-reading gigabytes
	// on every retry would let retries pile up on the store. Without the
	// read-back a repeat costs one HEAD, and looking first would cost every
	// new clip a query.
	if r.VerifyDigest {
		switch _, err := r.Clips.FindClipByDigest(ctx, c.Digest); {
		case err == nil:
			created, err := r.Clips.RegisterClip(ctx, c)
			if err != nil {
				return false, fmt.Errorf("register clip: %w", err)
			}
			return created, nil
		case evidock.ErrorCode(err) != evidock.ENOTFOUND:
			return false, fmt.Errorf("register clip: %w", err)
		}
	}
	if r.Objects == nil {
		return false, evidock.Errorf(evidock.EINTERNAL, "register clip: the registry has no object store to verify against")
	}
	if err := r.verifyObject(ctx, c); err != nil {
		return false, err
	}
	created, err := r.Clips.RegisterClip(ctx, c)
	if err != nil {
		return false, fmt.Errorf("register clip: %w", err)
	}
	if created && r.VerifyDigest && r.Fixity != nil {
		// Best effort: a check not recorded leaves the clip to the
		// fixity job, which then reads it as it reads any new clip.
		r.Fixity.RecordCheck(ctx, &fixity.Check{ClipID: c.ID, Result: fixity.OK, BytesRead: c.Size,
			CheckedBy: registrationChecker, Detail: "read back and hashed when it was registered"})
	}
	return created, nil
}

// registrationChecker is the CheckedBy of the fixity checks that
// registrations make.
const registrationChecker = "registration"

// verifyObject returns nil if the object for c holds c.Size bytes and, when
// r.VerifyDigest is set, bytes whose BLAKE3 is c.Digest; EUNVERIFIED
// otherwise.
func (r *Registry) verifyObject(ctx context.Context, c *evidock.Clip) error {
	key := evidock.ObjectKey(c.Digest)
	info, err := r.Objects.StatObject(ctx, key)
	switch {
	case evidock.ErrorCode(err) == evidock.ENOTFOUND:
		return evidock.WrapError(evidock.EUNVERIFIED, err, "object %s is missing from the store: upload it before registering the clip", key)
	case err != nil:
		return fmt.Errorf("verify %s: %w", key, err)
	case info.Size != c.Size:
		return evidock.Errorf(evidock.EUNVERIFIED, "object %s holds %d bytes, but the clip states %d bytes", key, info.Size, c.Size)
	}
	// The uploader's own note of the digest costs nothing to check and
	// catches a mix-up even when the full read-back is turned off.
	if v, ok := metaValue(info.Metadata, evidock.MetaBLAKE3); ok && !strings.EqualFold(v, c.Digest.String()) {
		return evidock.Errorf(evidock.EUNVERIFIED, "object %s is labelled blake3 %s, but the clip states %s", key, v, c.Digest)
	}
	if !r.VerifyDigest {
		return nil
	}
	body, err := r.Objects.OpenObject(ctx, key)
	if err != nil {
		if evidock.ErrorCode(err) == evidock.ENOTFOUND {
			return evidock.WrapError(evidock.EUNVERIFIED, err, "object %s is missing from the store: upload it before registering the clip", key)
		}
		return fmt.Errorf("verify %s: %w", key, err)
	}
	defer body.Close()
	got, n, err := evidock.DigestOf(&ctxReader{ctx: ctx, r: body})
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return fmt.Errorf("verify %s: %w", key, ctx.Err())
		}
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "verify %s: reading the object back failed: %v", key, err)
	case n != c.Size:
		return evidock.Errorf(evidock.EUNVERIFIED, "object %s read back %d bytes, but the clip states %d bytes", key, n, c.Size)
	case got != c.Digest:
		return evidock.Errorf(evidock.EUNVERIFIED, "object %s has blake3 %s, but the clip states %s", key, got, c.Digest)
	}
	return nil
}

// FindClipByDigest returns the clip with digest d, or ENOTFOUND.
func (r *Registry) FindClipByDigest(ctx context.Context, d evidock.Digest) (*evidock.Clip, error) {
	return r.Clips.FindClipByDigest(ctx, d)
}

// FindClips returns the clips matching f in CorrectedStartedAt order (From
// and To bound CorrectedStartedAt too) and how many match in all, or the
// store's error.
func (r *Registry) FindClips(ctx context.Context, f evidock.ClipFilter) ([]*evidock.Clip, int, error) {
	return r.Clips.FindClips(ctx, f)
}

// metaValue looks key up in S3 user metadata, whose key case depends on the
// store and the SDK.
func metaValue(meta map[string]string, key string) (string, bool) {
	if v, ok := meta[key]; ok {
		return v, true
	}
	for k, v := range meta {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// ctxReader stops a read-back as soon as the request is abandoned, rather
// than hashing gigabytes nobody is waiting for.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
