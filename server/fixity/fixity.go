package fixity

import (
	"context"
	"fmt"
	"time"

	"evidock"
)

// Result is the outcome of one check of a clip's object.
type Result string

// Results of a check.
const (
	// OK: the object holds the registered size and BLAKE3.
	OK Result = "ok"
	// Missing: the object store has no object under the clip's key.
	Missing Result = "missing"
	// Changed: the object's size or BLAKE3 differs from the registry's.
	Changed Result = "changed"
	// Unreachable: the object could not be read (the store was down, or
	// refused); no verdict on the footage, so the clip is retried later.
	Unreachable Result = "unreachable"
)

// Results lists every result, in the order reports show them.
var Results = []Result{OK, Missing, Changed, Unreachable}

// Valid reports whether r is one of Results.
func (r Result) Valid() bool {
	for _, v := range Results {
		if r == v {
			return true
		}
	}
	return false
}

// Alarm kinds a check opens.
const (
	AlarmObjectMissing = "object_missing"
	AlarmObjectChanged = "object_changed"
)

// AlarmKind returns the kind of alarm a result opens, or "" for a result
// that opens none (OK, and Unreachable, which says nothing of the footage).
func AlarmKind(r Result) string {
	switch r {
	case Missing:
		return AlarmObjectMissing
	case Changed:
		return AlarmObjectChanged
	}
	return ""
}

// AlarmMessage returns the text of the alarm a failed check of a clip opens,
// the same from every store: what happened, to which recording, and what a
// supervisor should do.
func AlarmMessage(r Result, fileName, officerNo, detail string) string {
	what := "object store copy"
	switch r {
	case Missing:
		what = "stored original is MISSING"
	case Changed:
		what = "stored original has CHANGED"
	}
	return fmt.Sprintf("%s: recording %s of officer %s: %s; restore it from a backup copy and have the storage administrator find out how it happened",
		what, fileName, officerNo, detail)
}

// Target is a clip claimed for a check, with what the registry says its
// object holds.
type Target struct {
	ClipID    int64
	Digest    evidock.Digest
	Size      int64
	ObjectKey string
	FileName  string
	// LastCheckedAt is when the clip last got a verdict (ok, missing or
	// changed); zero if never.
	LastCheckedAt time.Time
}

// Check is one check of a clip's object, as recorded in the history.
type Check struct {
	ID     int64          `json:"id"`      // set by the store
	ClipID int64          `json:"clip_id"` // the clip checked
	Digest evidock.Digest `json:"blake3"`  // the clip's; set by the store
	// CheckedAt is when the check was recorded, by the database's clock;
	// set by the store.
	CheckedAt time.Time `json:"checked_at"`
	Result    Result    `json:"result"`
	Detail    string    `json:"detail"`
	BytesRead int64     `json:"bytes_read"`
	// CheckedBy names the Checker that made the check (its lease holder).
	CheckedBy string `json:"checked_by"`
	// RetryAfter, for an Unreachable result, keeps the clip from being
	// claimed again before it has passed, so that one unreadable object
	// does not hold up the others.
	RetryAfter time.Duration `json:"-"`
}

// Alarm is a condition a supervisor must see and acknowledge. Alarms are
// never deleted; acknowledging one (later, by a signed-in supervisor)
// records who and when.
type Alarm struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	// Subject is what the alarm is about: for fixity alarms, the clip's
	// BLAKE3 in hex.
	Subject        string     `json:"subject"`
	Message        string     `json:"message"`
	OpenedAt       time.Time  `json:"opened_at"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// Open reports whether a has not been acknowledged.
func (a *Alarm) Open() bool { return a.AcknowledgedAt == nil }

// AlarmFilter selects alarms.
type AlarmFilter struct {
	// Open keeps the alarms nobody has acknowledged.
	Open bool
	// Limit bounds the listing; 0 means DefaultAlarmLimit.
	Limit int
}

// DefaultAlarmLimit bounds an alarm listing whose filter sets no limit.
const DefaultAlarmLimit = 1000

// Summary is the state of fixity over all registered clips.
type Summary struct {
	// Clips is how many clips are registered.
	Clips int64 `json:"clips"`
	// Checked is how many of them have a verdict (ok, missing or changed).
	Checked int64 `json:"clips_checked"`
	// OK is how many clips passed their latest check.
	OK int64 `json:"ok"`
	// Failures counts the clips whose latest check was missing, changed
	// or unreachable, by result; every one of the three is present.
	Failures map[Result]int64 `json:"failures"`
	// OpenAlarms is how many alarms (of any kind) nobody has acknowledged.
	OpenAlarms int64 `json:"open_alarms"`
	// LastCheckAt is the newest verdict; nil if none.
	LastCheckAt *time.Time `json:"last_check_at"`
	// AllCheckedSince is the oldest of the clips' latest verdicts: every
	// registered clip has been checked since, so it is when the last
	// complete pass began at the latest. Nil while some clip has never been
	// checked.
	AllCheckedSince *time.Time `json:"all_checked_since"`
}

// Store keeps the fixity schedule, the history of checks and the alarms.
// Both registry databases implement it; server/storetest holds the suite
// they pass.
type Store interface {
	// ClaimClips leases to holder up to n clips that are due, for lease:
	// clips never checked, then those whose last verdict is older than
	// interval, oldest first, skipping clips another holder leases or
	// that wait for a retry. It returns EINVALID for an empty holder or a
	// non-positive n or lease.
	ClaimClips(ctx context.Context, holder string, n int, interval, lease time.Duration) ([]Target, error)

	// ExtendLease renews holder's lease of a clip to lease from now. It
	// returns ECONFLICT if holder no longer holds it (it expired and
	// another holder claimed it, or it was released).
	ExtendLease(ctx context.Context, holder string, clipID int64, lease time.Duration) error

	// ReleaseClips gives back holder's leases of clips it will not check,
	// so that another holder may claim them at once; clips holder does not
	// hold are left alone.
	ReleaseClips(ctx context.Context, holder string, clipIDs []int64) error

	// RecordCheck adds c to the history, filling its ID, Digest and
	// CheckedAt, and ends c.CheckedBy's lease. A verdict (ok, missing,
	// changed) becomes the clip's last check; Unreachable leaves that as
	// it was and keeps the clip from being claimed for c.RetryAfter. A
	// missing or changed object opens an alarm, unless one of that kind
	// for that clip is open already; the alarm opened is returned (nil if
	// none). It returns EINVALID for a malformed check and ENOTFOUND for
	// an unknown clip.
	RecordCheck(ctx context.Context, c *Check) (*Alarm, error)

	// FindAlarms returns the alarms f selects, newest first; EINVALID for a
	// limit outside 0..DefaultAlarmLimit.
	FindAlarms(ctx context.Context, f AlarmFilter) ([]*Alarm, error)

	// FixitySummary returns the state of fixity over all clips.
	FixitySummary(ctx context.Context) (*Summary, error)
}

// ValidateCheck returns an EINVALID error naming the first bad field of a
// check to be recorded, so that every store refuses the same checks.
func ValidateCheck(c *Check) error {
	switch {
	case c.ClipID <= 0:
		return evidock.Errorf(evidock.EINVALID, "fixity check: clip_id must be positive, got %d", c.ClipID)
	case !c.Result.Valid():
		return evidock.Errorf(evidock.EINVALID, "fixity check: result %q is not one of ok, missing, changed, unreachable", c.Result)
	case c.BytesRead < 0:
		return evidock.Errorf(evidock.EINVALID, "fixity check: bytes_read must not be negative, got %d", c.BytesRead)
	case c.CheckedBy == "":
		return evidock.Errorf(evidock.EINVALID, "fixity check: checked_by is required")
	case c.RetryAfter < 0:
		return evidock.Errorf(evidock.EINVALID, "fixity check: retry after %v must not be negative", c.RetryAfter)
	}
	return nil
}

// ValidateClaim returns an EINVALID error for claim arguments no store can
// honour.
func ValidateClaim(holder string, n int, interval, lease time.Duration) error {
	switch {
	case holder == "":
		return evidock.Errorf(evidock.EINVALID, "fixity claim: holder is required")
	case n <= 0:
		return evidock.Errorf(evidock.EINVALID, "fixity claim: batch must be positive, got %d", n)
	case interval < 0:
		return evidock.Errorf(evidock.EINVALID, "fixity claim: interval must not be negative, got %v", interval)
	case lease <= 0:
		return evidock.Errorf(evidock.EINVALID, "fixity claim: lease must be positive, got %v", lease)
	}
	return nil
}

// AlarmLimit returns the listing size f asks for, or EINVALID.
func AlarmLimit(f AlarmFilter) (int, error) {
	switch {
	case f.Limit < 0 || f.Limit > DefaultAlarmLimit:
		return 0, evidock.Errorf(evidock.EINVALID, "alarm filter: limit must be 0 to %d, got %d", DefaultAlarmLimit, f.Limit)
	case f.Limit == 0:
		return DefaultAlarmLimit, nil
	}
	return f.Limit, nil
}
