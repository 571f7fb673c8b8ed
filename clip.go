package evidock

import (
	"context"
	"time"
)

// Clip is one registered recording: footage whose bytes are verified in the
// object store and whose digest is in the registry. Clips are never edited or
// deleted (Art. 17); registering the same digest again returns the first clip.
type Clip struct {
	ID           int64  `json:"id"`
	Digest       Digest `json:"blake3"`
	Size         int64  `json:"size"`
	ObjectKey    string `json:"object_key"`
	FileName     string `json:"file_name"` // as it was on the recorder
	DeviceSerial string `json:"device_serial"`
	OfficerNo    string `json:"officer_no"`
	// UnitCode is the unit OfficerNo was in, by the officers table, when
	// the clip was registered: the unit the clip belongs to for good,
	// whatever transfers follow. The registry stamps it; it is "" for an
	// officer not in the officers table, whose clips belong to no unit.
	UnitCode  string    `json:"unit_code,omitempty"`
	StartedAt time.Time `json:"started_at"` // by the recorder's clock, as in the file name
	// ClockOffsetMS is the recorder's clock minus the docking station's at
	// the dock before this recording was ingested (0 when unknown), and
	// CorrectedStartedAt is StartedAt corrected by it: the time used for
	// deadlines and for linking clips to activities. StartedAt is kept as
	// the recorder wrote it.
	ClockOffsetMS      int64     `json:"clock_offset_ms,omitempty"`
	CorrectedStartedAt time.Time `json:"corrected_started_at"`
	// Important is set when the officer marked the recording with the
	// recorder's one-key mark.
	Important    bool      `json:"important,omitempty"`
	Seq          int       `json:"seq"`
	Kind         MediaKind `json:"kind"`
	DurationMS   int64     `json:"duration_ms,omitempty"` // 0 when unknown
	StationID    string    `json:"station_id"`            // the docking station that ingested it
	IngestedAt   time.Time `json:"ingested_at"`           // when the station copied it off the recorder
	RegisteredAt time.Time `json:"registered_at"`
}

// Corrected returns StartedAt corrected by the recorder's clock offset.
func (c *Clip) Corrected() time.Time {
	return c.StartedAt.Add(-time.Duration(c.ClockOffsetMS) * time.Millisecond)
}

// Validate returns an EINVALID error naming the first missing or malformed
// field. A zero CorrectedStartedAt is filled in from ClockOffsetMS.
func (c *Clip) Validate() error {
	if c.CorrectedStartedAt.IsZero() && !c.StartedAt.IsZero() {
		c.CorrectedStartedAt = c.Corrected()
	}
	switch {
	case c.Digest.IsZero():
		return Errorf(EINVALID, "clip: blake3 is required")
	case c.Size <= 0:
		return Errorf(EINVALID, "clip: size must be positive, got %d", c.Size)
	case c.ObjectKey != ObjectKey(c.Digest):
		return Errorf(EINVALID, "clip: object_key must be %q for this blake3, got %q", ObjectKey(c.Digest), c.ObjectKey)
	case c.FileName == "":
		return Errorf(EINVALID, "clip: file_name is required")
	case c.IngestedAt.IsZero():
		return Errorf(EINVALID, "clip: ingested_at is required")
	}
	if !c.CorrectedStartedAt.Equal(c.Corrected()) {
		return Errorf(EINVALID, "clip: corrected_started_at must be started_at minus clock_offset_ms (%s), got %s",
			c.Corrected().Format(time.RFC3339Nano), c.CorrectedStartedAt.Format(time.RFC3339Nano))
	}
	name, err := ParseRecordingName(c.FileName)
	if err != nil {
		return err
	}
	if name.DeviceSerial != c.DeviceSerial || name.OfficerNo != c.OfficerNo ||
		!name.StartedAt.Equal(c.StartedAt) || name.Seq != c.Seq {
		return Errorf(EINVALID, "clip: device_serial, officer_no, started_at and seq must match file_name %q", c.FileName)
	}
	return nil
}

// ClipFilter selects clips; zero fields do not filter.
type ClipFilter struct {
	OfficerNo    string
	DeviceSerial string
	From, To     time.Time // CorrectedStartedAt in [From, To)
	Offset       int
	Limit        int // 0 means DefaultClipLimit
	// Access, if not nil, keeps only the clips one user may view (see
	// ClipAccess); stations list without it.
	Access *ClipAccess
}

// DefaultClipLimit bounds a clip listing when the filter sets no limit.
const DefaultClipLimit = 1000

// ClipService is the clip registry.
type ClipService interface {
	// RegisterClip records c and fills in its ID and RegisteredAt. If a clip
	// with the same digest exists, it fills c with that clip instead and
	// returns created == false; it returns ECONFLICT if the stored clip has a
	// different size.
	RegisterClip(ctx context.Context, c *Clip) (created bool, err error)

	// FindClipByDigest returns the clip with digest d, or ENOTFOUND.
	FindClipByDigest(ctx context.Context, d Digest) (*Clip, error)

	// FindClips returns the clips matching f in CorrectedStartedAt order,
	// and how many match in all.
	FindClips(ctx context.Context, f ClipFilter) ([]*Clip, int, error)
}
