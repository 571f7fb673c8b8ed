package evidock

import (
	"context"
	"time"
)

// MaxClockDriftPerDay is the GA/T 947 tolerance for a recorder's clock:
// drift beyond it since the last sync is flagged.
const MaxClockDriftPerDay = 3 * time.Second

// Recorder is a body-worn recorder as the case server last heard of it from
// a docking station: identity and officer binding read from the device
// itself (never from whoever is logged in at the dock), and its condition.
type Recorder struct {
	DeviceSerial string `json:"device_serial"` // 7 letters or digits
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Firmware     string `json:"firmware,omitempty"`

	OfficerNo   string `json:"officer_no"` // the device's binding, 6 digits
	OfficerName string `json:"officer_name,omitempty"`
	UnitNo      string `json:"unit_no,omitempty"`
	UnitName    string `json:"unit_name,omitempty"`

	LastDockedAt   time.Time `json:"last_docked_at"`
	LastStationID  string    `json:"last_station_id"` // set by the server from the station's token
	BatteryPercent int       `json:"battery_percent"` // -1 when unknown
	StorageUsed    int64     `json:"storage_used_bytes"`
	StorageTotal   int64     `json:"storage_total_bytes"`

	// ClockOffsetMS is the recorder's clock minus the station's when docked,
	// before the station set it right; DriftPerDayMS is that offset over the
	// days since the last sync, and ClockDrifted flags drift beyond
	// MaxClockDriftPerDay.
	ClockOffsetMS int64 `json:"clock_offset_ms"`
	DriftPerDayMS int64 `json:"drift_per_day_ms"`
	ClockDrifted  bool  `json:"clock_drifted"`
}

// Validate returns an EINVALID error naming the first malformed field.
func (r *Recorder) Validate() error {
	switch {
	case len(r.DeviceSerial) != DeviceSerialLen || !isAlnum(r.DeviceSerial):
		return Errorf(EINVALID, "recorder: device_serial %q must be %d upper-case letters or digits", r.DeviceSerial, DeviceSerialLen)
	case r.OfficerNo != "" && (len(r.OfficerNo) != OfficerNoLen || !isDigits(r.OfficerNo)):
		return Errorf(EINVALID, "recorder: officer_no %q must be %d digits", r.OfficerNo, OfficerNoLen)
	case r.BatteryPercent < -1 || r.BatteryPercent > 100:
		return Errorf(EINVALID, "recorder: battery_percent %d must be -1 (unknown) to 100", r.BatteryPercent)
	case r.StorageUsed < 0 || r.StorageTotal < 0 || r.StorageUsed > r.StorageTotal && r.StorageTotal > 0:
		return Errorf(EINVALID, "recorder: storage used %d of %d bytes is impossible", r.StorageUsed, r.StorageTotal)
	case r.LastDockedAt.IsZero():
		return Errorf(EINVALID, "recorder: last_docked_at is required")
	}
	return nil
}

// RecorderService keeps what docking stations report about recorders.
type RecorderService interface {
	// ReportDock records what a station read from a recorder at a dock,
	// replacing the previous report of that recorder (every report is also
	// kept in a history), and fills r with the report as stored; it returns
	// EINVALID for a malformed report.
	ReportDock(ctx context.Context, r *Recorder) error

	// FindRecorder returns the recorder with the device serial, or ENOTFOUND.
	FindRecorder(ctx context.Context, serial string) (*Recorder, error)

	// FindRecorders returns every recorder, by device serial; officer, if
	// not empty, keeps those bound to that officer.
	FindRecorders(ctx context.Context, officer string) ([]*Recorder, error)
}
