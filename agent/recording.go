package agent

import (
	"context"
	"slices"
	"time"

	"evidock"
)

// State is where a recording stands in the pipeline. Each transition is made
// durable before the next step starts, so a restarted agent resumes from the
// last state it recorded.
type State string

// Pipeline states, in order. Failed and Rejected are off the main line.
const (
	StateDiscovered State = "discovered" // found on a docked recorder
	StateCopying    State = "copying"    // being copied to staging; a partial file may exist
	StateStaged     State = "staged"     // copied, fsynced, BLAKE3 known
	StateUploading  State = "uploading"  // upload in progress; UploadID and Parts say how far
	StateStored     State = "stored"     // verified in the object store
	StateRegistered State = "registered" // the case server's receipt is in hand
	StateVerified   State = "verified"   // a second read of the recorder's file gave the same BLAKE3
	StateCleared    State = "cleared"    // deleted from the recorder; the footage is safe elsewhere
	StateKept       State = "kept"       // safe, but left on the recorder (by config, or see Error)
	StateFailed     State = "failed"     // a step failed; retried when the recorder is docked again
	StateRejected   State = "rejected"   // never ingestable (bad name, empty file); kept for the record
)

// Pending reports whether the pipeline still has work to do for state s.
func (s State) Pending() bool {
	switch s {
	case StateDiscovered, StateCopying, StateStaged, StateUploading, StateStored, StateRegistered, StateVerified:
		return true
	}
	return false
}

// Safe reports whether a recording in state s is verified in the object
// store and registered with the case server.
func (s State) Safe() bool {
	switch s {
	case StateRegistered, StateVerified, StateCleared, StateKept:
		return true
	}
	return false
}

// Recording is one footage file found on a recorder, as the agent tracks it.
type Recording struct {
	ID       int64
	Volume   string // where the recorder's volume was mounted when last seen
	RelPath  string // slash-separated path inside the volume
	FileName string // base name as the recorder wrote it
	Size     int64  // at discovery
	ModTime  time.Time

	// From the file name; zero for a rejected recording.
	DeviceSerial string
	OfficerNo    string
	StartedAt    time.Time
	Seq          int
	Kind         evidock.MediaKind
	// From the recorder itself, when it was docked through the firmware
	// bridge: its clock offset at that dock, and the officer's mark.
	ClockOffsetMS int64
	Important     bool

	State      State
	Error      string   // why the last step failed, or why it was rejected, in English
	ErrorCode  NoteCode // Error as a code that screens say in the officer's language
	Digest     evidock.Digest
	StagedPath string
	UploadID   string
	Parts      []evidock.Part
	ClipID     int64  // the case server's ID, from its receipt
	Receipt    string // the case server's answer to the registration, as received

	DiscoveredAt time.Time
	IngestedAt   time.Time
	StoredAt     time.Time
	RegisteredAt time.Time
	UpdatedAt    time.Time
}

// ObjectKey returns the key the recording is stored under; it needs the digest.
func (r *Recording) ObjectKey() string { return evidock.ObjectKey(r.Digest) }

// Clip returns the registration the case server is asked to record.
func (r *Recording) Clip() *evidock.Clip {
	return &evidock.Clip{
		Digest:        r.Digest,
		Size:          r.Size,
		ObjectKey:     r.ObjectKey(),
		FileName:      r.FileName,
		DeviceSerial:  r.DeviceSerial,
		OfficerNo:     r.OfficerNo,
		StartedAt:     r.StartedAt,
		Seq:           r.Seq,
		Kind:          r.Kind,
		ClockOffsetMS: r.ClockOffsetMS,
		Important:     r.Important,
		IngestedAt:    r.IngestedAt,
	}
}

// RecorderDock is what the agent learnt from a recorder over the firmware
// bridge when it was docked.
type RecorderDock struct {
	DeviceSerial string
	DockedAt     time.Time
	ClockOffset  time.Duration // the recorder's clock minus the station's, before any resync
	SyncedAt     time.Time     // when its clock was last set right; zero if never by us
	Important    []string      // file names the officer marked
}

// RecordingFilter selects recordings for status views; zero fields do not filter.
type RecordingFilter struct {
	Volume string
	States []State
	Limit  int // at most this many; 0 means all
}

// stamp returns the clock offset and mark for recording r of this recorder.
// The offset measured at the dock applies to what was recorded before it;
// a recording made after the dock's resync gets none.
func (d *RecorderDock) stamp(r *Recording) (offsetMS int64, important bool) {
	recordedBeforeDock := r.StartedAt.Before(d.DockedAt.Add(d.ClockOffset))
	if recordedBeforeDock {
		offsetMS = d.ClockOffset.Milliseconds()
	}
	return offsetMS, slices.Contains(d.Important, r.FileName)
}

// StateStore is the agent's durable record of every recording it has seen.
type StateStore interface {
	// AddRecording records a newly found recording and returns true. A
	// recording already known by file name and size is not added again, but
	// its Volume and RelPath are updated to where the recorder is now. If it
	// had failed, it is queued again from its last safe point (the recorder
	// was docked again): from registered when the server holds it, else from
	// discovered. A cleared one found on a recorder again is queued to be
	// cleared again. In both cases AddRecording returns true, otherwise false.
	AddRecording(ctx context.Context, r *Recording) (queued bool, err error)

	// NextRecording returns the first recording in one of states in
	// FindRecordings order, or ENOTFOUND.
	NextRecording(ctx context.Context, states ...State) (*Recording, error)

	// UpdateRecording durably stores every mutable field of r.
	UpdateRecording(ctx context.Context, r *Recording) error

	// FindRecordings returns the recordings matching f: important ones
	// first, then oldest first.
	FindRecordings(ctx context.Context, f RecordingFilter) ([]*Recording, error)

	// RecordDock stores what a recorder told the agent at a dock; the marks
	// add to those already known.
	RecordDock(ctx context.Context, d RecorderDock) error

	// LastDock returns what the recorder told the agent at its last dock
	// (with every mark known for it), or ENOTFOUND.
	LastDock(ctx context.Context, serial string) (RecorderDock, error)
}
