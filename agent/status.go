package agent

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// AlarmCode is what an alarm's kind starts with: a stable word that screens
// say in the officer's language (evidock/agent/dockscreen), so every code
// below needs a text there. It is an alias so that kinds stay plain strings.
type AlarmCode = string

// Alarm codes.
const (
	// AlarmStagingFull: the staging disk is nearly full; recordings wait on
	// their recorders for room.
	AlarmStagingFull AlarmCode = "staging_full"
	// AlarmRecorderStorage, followed by ":" and a device serial, warns that
	// a recorder's storage is nearly full.
	AlarmRecorderStorage AlarmCode = "recorder_storage"
	// AlarmStationRefused: the case server refused this dock's station
	// token (revoked by an administrator, or never valid), so nothing this
	// dock uploads can be registered, and no recorder is cleared, until the
	// administrator gives the dock a new station. It is raised for the dock
	// as a whole, not only on the files that hit it, because an officer who
	// unplugged a recorder that was safe to unplug never sees those files'
	// notes. A registration that succeeds takes it down.
	AlarmStationRefused AlarmCode = "station_refused"
)

// RaiseAlarm shows message (English, with the detail an administrator
// needs) under kind until ClearAlarm(kind); a second raise of a kind
// replaces its message. The kind is an AlarmCode, optionally followed by
// ":" and the subject it is about (a device serial).
func (a *Agent) RaiseAlarm(kind, message string) { a.alarms.set(kind, message) }

// ClearAlarm takes down the alarm of kind, if raised.
func (a *Agent) ClearAlarm(kind string) { a.alarms.clear(kind) }

// Alarm is a condition someone must see and act on.
type Alarm struct {
	Kind    string    `json:"kind"`              // Code, or Code:Subject; unique among the alarms up
	Code    AlarmCode `json:"code"`              // what screens translate
	Subject string    `json:"subject,omitempty"` // what the alarm is about, e.g. a device serial
	Message string    `json:"message"`           // in English, with the detail
}

// newAlarm returns the alarm of kind with message, its code and subject
// read from the kind.
func newAlarm(kind, message string) Alarm {
	code, subject, _ := strings.Cut(kind, ":")
	return Alarm{Kind: kind, Code: code, Subject: subject, Message: message}
}

// DockStatus is what the dock screen shows: every docked recorder and how
// far its footage has come.
type DockStatus struct {
	StationID string           `json:"station_id"`
	Recorders []RecorderStatus `json:"recorders"`
	Alarms    []Alarm          `json:"alarms"`
	At        time.Time        `json:"at"`
}

// RecorderStatus is one docked recorder (one volume under the mount root).
type RecorderStatus struct {
	Volume       string  `json:"volume"`
	DeviceSerial string  `json:"device_serial"`
	OfficerNo    string  `json:"officer_no"`
	FilesDone    int     `json:"files_done"` // safe in the store and registered, or never ingestable
	FilesTotal   int     `json:"files_total"`
	BytesDone    int64   `json:"bytes_done"` // copy and upload work done, of BytesTotal
	BytesTotal   int64   `json:"bytes_total"`
	BytesPerSec  float64 `json:"bytes_per_sec"` // of the transfers in flight
	ETASeconds   float64 `json:"eta_seconds"`   // until copied and uploaded; -1 when unknown
	// Copying off the recorder alone, which is what an officer waits for
	// before unplugging: footage bytes still to read, the recent rate of
	// reading (over the last CopyRateWindow), and the time that takes:
	// 0 when nothing is left to copy, -1 when unknown.
	CopyBytesLeft   int64             `json:"copy_bytes_left"`
	CopyBytesPerSec float64           `json:"copy_bytes_per_sec"`
	CopyETASeconds  float64           `json:"copy_eta_seconds"`
	Phase           Phase             `json:"phase"`
	SafeToUnplug    bool              `json:"safe_to_unplug"`
	Reason          string            `json:"reason"` // why it is or is not safe to unplug, in English; see ReasonCode
	ReasonCode      string            `json:"reason_code"`
	Recordings      []RecordingStatus `json:"recordings"`
}

// Phase summarises where a recorder stands.
type Phase string

// Recorder phases, in the order a dock goes through them.
const (
	PhaseCopying   Phase = "copying"   // reading footage off the recorder
	PhaseUploading Phase = "uploading" // copied; uploading and registering from the dock
	PhaseClearing  Phase = "clearing"  // verifying and deleting from the recorder
	PhaseDone      Phase = "done"      // nothing left to do
	PhaseAttention Phase = "attention" // something failed or was kept with an alarm
)

// Reason codes for RecorderStatus.ReasonCode, so that screens can say them in
// the officer's language.
const (
	ReasonCopying        = "copying"   // do not unplug: footage is being read off the recorder
	ReasonClearing       = "clearing"  // do not unplug: footage is being verified and cleared
	ReasonUploading      = "uploading" // safe: everything is copied; the dock uploads it
	ReasonDone           = "done"      // safe: all footage is stored, registered and cleared
	ReasonNeedsAttention = "attention" // safe, but some files need attention (see recordings)
)

// RecordingStatus is one file of a docked recorder.
type RecordingStatus struct {
	FileName string   `json:"file_name"`
	Size     int64    `json:"size"`
	State    State    `json:"state"`
	Note     string   `json:"note,omitempty"`      // why it is in its state, in English with the detail
	NoteCode NoteCode `json:"note_code,omitempty"` // Note as a code that screens translate
	Done     int64    `json:"done"`                // copy and upload work done, of 2×Size
}

// Status returns the dock's current status: every docked volume with its
// recordings, and the alarms. It returns the state store's error.
func (a *Agent) Status(ctx context.Context) (*DockStatus, error) {
	a.init()
	st := &DockStatus{StationID: a.StationID, Alarms: a.alarms.list(), At: time.Now()}
	docked := a.dockedVolumes()
	for _, dir := range docked {
		recs, err := a.State.FindRecordings(ctx, RecordingFilter{Volume: dir})
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		st.Recorders = append(st.Recorders, a.recorderStatus(dir, recs))
	}
	a.live.keepMeters(docked)
	sort.Slice(st.Alarms, func(i, j int) bool { return st.Alarms[i].Kind < st.Alarms[j].Kind })
	return st, nil
}

func (a *Agent) recorderStatus(dir string, recs []*Recording) RecorderStatus {
	rs := RecorderStatus{Volume: dir, FilesTotal: len(recs), ETASeconds: -1, CopyETASeconds: -1}
	var copying, clearing, attention bool
	var copied int64 // footage bytes read off this recorder, of the recordings listed
	var copyRate float64
	for _, r := range recs {
		if r.DeviceSerial != "" {
			rs.DeviceSerial, rs.OfficerNo = r.DeviceSerial, r.OfficerNo
		}
		s := RecordingStatus{FileName: r.FileName, Size: r.Size, State: r.State, Note: r.Error, NoteCode: r.ErrorCode}
		live := a.live.get(r.ID)
		switch r.State {
		case StateDiscovered, StateCopying:
			copying = true
			if live != nil && live.phase == StateCopying {
				s.Done = min(live.done.Load(), r.Size)
				copyRate += live.rate()
			}
			copied += s.Done
			rs.CopyBytesLeft += r.Size - s.Done
		case StateStaged:
			s.Done = r.Size
		case StateUploading:
			s.Done = r.Size
			for _, p := range r.Parts {
				s.Done += p.Size
			}
		case StateRegistered, StateVerified:
			clearing = true
			s.Done = 2 * r.Size
		case StateFailed:
			attention = true
		case StateKept:
			attention = attention || strings.HasPrefix(r.Error, "ALARM")
			s.Done = 2 * r.Size
		default: // stored, cleared, rejected
			s.Done = 2 * r.Size
		}
		if r.State == StateRejected || r.State.Safe() {
			rs.FilesDone++
		}
		if r.State != StateRejected && r.State != StateFailed && r.State != StateDiscovered && r.State != StateCopying {
			copied += r.Size
		}
		if r.State != StateRejected {
			rs.BytesTotal += 2 * r.Size
			rs.BytesDone += s.Done
		}
		if live != nil {
			rs.BytesPerSec += live.rate()
		}
		rs.Recordings = append(rs.Recordings, s)
	}
	if rs.BytesPerSec > 0 {
		rs.ETASeconds = float64(rs.BytesTotal-rs.BytesDone) / rs.BytesPerSec
	}
	// The copy's rate is measured across the recorder's files, so that it
	// holds between one file and the next; before there is a recent
	// measure, the copy in flight's own average stands in.
	if recent, ok := a.live.copyRate(dir, copied); ok {
		copyRate = recent
	}
	rs.CopyBytesPerSec = copyRate
	switch {
	case rs.CopyBytesLeft == 0:
		rs.CopyETASeconds = 0
	case copyRate > 0:
		rs.CopyETASeconds = float64(rs.CopyBytesLeft) / copyRate
	}
	switch {
	case copying:
		rs.Phase, rs.ReasonCode, rs.Reason = PhaseCopying, ReasonCopying, "do not unplug: footage is being copied off the recorder"
	case clearing:
		rs.Phase, rs.ReasonCode, rs.Reason = PhaseClearing, ReasonClearing, "do not unplug: footage is being verified and cleared from the recorder"
	case attention:
		rs.Phase, rs.SafeToUnplug, rs.ReasonCode, rs.Reason = PhaseAttention, true, ReasonNeedsAttention, "safe to unplug, but some files need attention: see the list"
	case rs.FilesDone < rs.FilesTotal:
		rs.Phase, rs.SafeToUnplug, rs.ReasonCode, rs.Reason = PhaseUploading, true, ReasonUploading, "safe to unplug: everything is copied; the dock uploads it"
	default:
		rs.Phase, rs.SafeToUnplug, rs.ReasonCode, rs.Reason = PhaseDone, true, ReasonDone, "safe to unplug: all footage is stored, registered and cleared"
	}
	return rs
}
