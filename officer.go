package evidock

import (
	"context"
	"time"
)

// MaxCertificateNoLen bounds an enforcement certificate number.
const MaxCertificateNoLen = 32

// Officer is an enforcement officer (执法人员). Art. 9(1) of the full-process
// recording rules has every investigation record the officers' names and
// enforcement certificate numbers, so both are kept with the officer number
// that recorders are bound to.
type Officer struct {
	No            string    `json:"officer_no"`     // 6 digits, as recorders carry it
	CertificateNo string    `json:"certificate_no"` // 执法证件编号, unique
	Name          string    `json:"name"`
	UnitCode      string    `json:"unit_code"`
	CreatedAt     time.Time `json:"created_at"`
}

// Validate returns an EINVALID error naming the first malformed field. It
// cannot check that the unit exists; the store does.
func (o *Officer) Validate() error {
	switch {
	case !IsOfficerNo(o.No):
		return Errorf(EINVALID, "officer: officer_no %q must be %d digits", o.No, OfficerNoLen)
	case !isCode(o.CertificateNo, MaxCertificateNoLen):
		return Errorf(EINVALID, "officer: certificate_no %q must be 1 to %d letters, digits, '-' or '_', as printed on the enforcement certificate", o.CertificateNo, MaxCertificateNoLen)
	case !isText(o.Name, 1, 50):
		return Errorf(EINVALID, "officer: name must be 1 to 50 characters without control characters, got %q", o.Name)
	case o.UnitCode == "":
		return Errorf(EINVALID, "officer: unit_code is required")
	}
	return nil
}

// IsOfficerNo reports whether s has the form of an officer number.
func IsOfficerNo(s string) bool { return len(s) == OfficerNoLen && isDigits(s) }

// OfficerFilter selects officers; zero fields do not filter.
type OfficerFilter struct {
	// UnitCode keeps the officers of that unit and of every unit below
	// it, so that a district sees all its officers.
	UnitCode string
}

// RecorderAssignment is one entry in a recorder's assignment history: from
// From on, the recorder is issued to OfficerNo, or to nobody when OfficerNo
// is empty (returned to the store). An assignment lasts until the next one
// of the same recorder; entries are only ever added, so who carried which
// recorder when can always be answered.
type RecorderAssignment struct {
	ID           int64     `json:"id"`
	DeviceSerial string    `json:"device_serial"`
	OfficerNo    string    `json:"officer_no"` // "" when returned
	From         time.Time `json:"from"`
	// To is the From of the next assignment, zero while this one is
	// current; the store fills it in.
	To         time.Time `json:"to,omitzero"`
	AssignedBy string    `json:"assigned_by"`
	Reason     string    `json:"reason,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Validate returns an EINVALID error naming the first malformed field.
func (a *RecorderAssignment) Validate() error {
	switch {
	case len(a.DeviceSerial) != DeviceSerialLen || !isAlnum(a.DeviceSerial):
		return Errorf(EINVALID, "recorder assignment: device_serial %q must be %d upper-case letters or digits", a.DeviceSerial, DeviceSerialLen)
	case a.OfficerNo != "" && !IsOfficerNo(a.OfficerNo):
		return Errorf(EINVALID, "recorder assignment: officer_no %q must be %d digits, or empty for a recorder returned to the store", a.OfficerNo, OfficerNoLen)
	case a.From.IsZero():
		return Errorf(EINVALID, "recorder assignment: from is required")
	case !isText(a.AssignedBy, 1, 64):
		return Errorf(EINVALID, "recorder assignment: assigned_by must name who made the assignment (1 to 64 characters)")
	case !isLongText(a.Reason, 0, 500):
		return Errorf(EINVALID, "recorder assignment: reason must be at most 500 characters without control characters")
	}
	return nil
}

// Covers reports whether the assignment was in force at t.
func (a *RecorderAssignment) Covers(t time.Time) bool {
	return !t.Before(a.From) && (a.To.IsZero() || t.Before(a.To))
}

// Overlaps reports whether the assignment was in force at some time in
// [from, to).
func (a *RecorderAssignment) Overlaps(from, to time.Time) bool {
	return a.From.Before(to) && (a.To.IsZero() || a.To.After(from))
}

// FillAssignmentEnds sets the To of each assignment of one recorder to the
// From of the next, in From order; as sorted by the caller.
func FillAssignmentEnds(history []*RecorderAssignment) {
	for i, a := range history {
		a.To = time.Time{}
		if i+1 < len(history) && history[i+1].DeviceSerial == a.DeviceSerial {
			a.To = history[i+1].From
		}
	}
}

// OfficerService keeps officers and the assignment of recorders to them.
type OfficerService interface {
	// CreateOfficer stores o and fills in its CreatedAt. It returns
	// EINVALID for a malformed officer or an unknown unit, and ECONFLICT
	// if the officer number or the certificate number is taken.
	CreateOfficer(ctx context.Context, o *Officer) error

	// FindOfficer returns the officer with the number, or ENOTFOUND.
	FindOfficer(ctx context.Context, no string) (*Officer, error)

	// FindOfficers returns the officers matching f by officer number;
	// never a nil slice. It returns ENOTFOUND for an unknown unit.
	FindOfficers(ctx context.Context, f OfficerFilter) ([]*Officer, error)

	// AssignRecorder adds a to its recorder's assignment history and
	// fills in its ID and RecordedAt. It returns EINVALID for a malformed
	// assignment or an unknown officer, and ECONFLICT if a.From is not
	// after the From of the recorder's latest assignment: the history is
	// only added to at its end, never rewritten.
	AssignRecorder(ctx context.Context, a *RecorderAssignment) error

	// FindRecorderAssignments returns the assignment history of a recorder
	// in From order, each with its To filled in; never a nil slice.
	FindRecorderAssignments(ctx context.Context, serial string) ([]*RecorderAssignment, error)
}
