package agent

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Alarm kinds.
const (
	AlarmStagingFull = "staging_full"
	// AlarmRecorderStorage, followed by ":" and a device serial, warns that
	// a recorder's storage is nearly full.
	AlarmRecorderStorage = "recorder_storage"
)

// RaiseAlarm shows message under kind until ClearAlarm(kind); a second
// raise of a kind replaces its message.
func (a *Agent) RaiseAlarm(kind, message string) { a.alarms.set(kind, message) }

// ClearAlarm takes down the alarm of kind, if raised.
func (a *Agent) ClearAlarm(kind string) { a.alarms.clear(kind) }

// Alarm is a condition someone must see and act on.
type Alarm struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
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
	Volume       string            `json:"volume"`
	DeviceSerial string            `json:"device_serial"`
	OfficerNo    string            `json:"officer_no"`
	FilesDone    int               `json:"files_done"` // safe in the store and registered, or never ingestable
	FilesTotal   int               `json:"files_total"`
	BytesDone    int64             `json:"bytes_done"` // copy and upload work done, of BytesTotal
	BytesTotal   int64             `json:"bytes_total"`
	BytesPerSec  float64           `json:"bytes_per_sec"` // of the transfers in flight
	ETASeconds   float64           `json:"eta_seconds"`   // -1 when unknown
	Phase        Phase             `json:"phase"`
	SafeToUnplug bool              `json:"safe_to_unplug"`
	Reason       string            `json:"reason"` // why it is or is not safe to unplug, in English; see ReasonCode
	ReasonCode   string            `json:"reason_code"`
	Recordings   []RecordingStatus `json:"recordings"`
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
	FileName string `json:"file_name"`
	Size     int64  `json:"size"`
	State    State  `json:"state"`
	Note     string `json:"note,omitempty"`
	Done     int64  `json:"done"` // copy and upload work done, of 2×Size
}

// Status returns the dock's current status: every docked volume with its
// recordings, and the alarms. It returns the state store's error.
func (a *Agent) Status(ctx context.Context) (*DockStatus, error) {
	a.init()
	st := &DockStatus{StationID: a.StationID, Alarms: a.alarms.list(), At: time.Now()}
	for _, dir := range a.dockedVolumes() {
		recs, err := a.State.FindRecordings(ctx, RecordingFilter{Volume: dir})
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		st.Recorders = append(st.Recorders, a.recorderStatus(dir, recs))
	}
	sort.Slice(st.Alarms, func(i, j int) bool { return st.Alarms[i].Kind < st.Alarms[j].Kind })
	return st, nil
}

func (a *Agent) recorderStatus(dir string, recs []*Recording) RecorderStatus {
	rs := RecorderStatus{Volume: dir, FilesTotal: len(recs), ETASeconds: -1}
	var copying, clearing, attention bool
	for _, r := range recs {
		if r.DeviceSerial != "" {
			rs.DeviceSerial, rs.OfficerNo = r.DeviceSerial, r.OfficerNo
		}
		s := RecordingStatus{FileName: r.FileName, Size: r.Size, State: r.State, Note: r.Error}
		live := a.live.get(r.ID)
		switch r.State {
		case StateDiscovered, StateCopying:
			copying = true
			if live != nil && live.phase == StateCopying {
				s.Done = live.done.Load()
			}
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
