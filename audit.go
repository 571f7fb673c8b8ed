package evidock

import (
	"context"
	"time"
)

// AuditEvent is one entry of the audit log of people's actions: every view,
// download, export, access request and decision, login and logout, user
// change, creation of a unit (units scope roles, so they decide who may see
// what) and reading of the audit itself, whether it was allowed or not.
// Who, what, when, why and from where (Art. 19, 21).
//
// Events are chained: each one's Hash covers its content and the Hash of
// the event before it (PrevHash), so that a changed, removed or inserted
// row breaks the chain from that point on (see package server/audit). The
// store fills Seq, PrevHash and Hash as it appends.
type AuditEvent struct {
	// Seq numbers the events from 1, without gaps, in the order appended.
	Seq int64 `json:"seq"`
	// Time is when it happened, by the server's clock, in microseconds.
	Time time.Time `json:"time"`
	// Actor is who did it: "user:LOGIN", "station:ID", or for a login
	// attempt under an unknown name "login:NAME".
	Actor string `json:"actor"`
	// Action is what was done: one of the Audit* actions.
	Action string `json:"action"`
	// Object is what it was done to, e.g. "clip:<blake3>",
	// "access_request:12", "user:zhang.wei", "unit:CZ-TN", "audit".
	Object string `json:"object"`
	// Unit is the unit the object belongs to (CommonUnit of its units);
	// those who may read the audit of that unit read the event.
	Unit string `json:"unit"`
	// Reason is why: the role or grant that allowed it, the reason given
	// for a request or decision, or why it was refused.
	Reason string `json:"reason"`
	// RemoteAddr and UserAgent say from where.
	RemoteAddr string `json:"remote_addr"`
	UserAgent  string `json:"user_agent"`
	// Outcome is AuditAllowed, AuditDenied or AuditFailed.
	Outcome string `json:"outcome"`

	PrevHash LogHash `json:"prev_hash"`
	Hash     LogHash `json:"hash"`
}

// Audit actions: the actions of the rule table that are audited, and the
// others that touch people's access.
const (
	AuditViewClip      = string(ActionViewClip)
	AuditDownloadClip  = string(ActionDownloadClip)
	AuditExport        = string(ActionExport)
	AuditReadAudit     = string(ActionReadAudit)
	AuditRequestAccess = "request_access"
	AuditApproveAccess = "approve_access"
	AuditRefuseAccess  = "refuse_access"
	AuditLogin         = "login"
	AuditLogout        = "logout"
	AuditCreateUser    = "create_user"
	AuditDisableUser   = "disable_user"
	AuditEnableUser    = "enable_user"
	AuditCreateUnit    = "create_unit"
)

// Audit outcomes.
const (
	AuditAllowed = "allowed" // done, as allowed
	AuditDenied  = "denied"  // refused by the rules
	AuditFailed  = "failed"  // attempted and failed (a wrong password)
)

// AuditFilter selects audit events; zero fields do not filter.
type AuditFilter struct {
	Actor    string    // e.g. "user:zhang.wei"
	Action   string    // e.g. "view_clip"
	From, To time.Time // Time in [From, To)
	// Scopes, if not nil, keeps the events whose Unit lies within one of
	// them (see UnitWithin); an empty, non-nil list keeps none.
	Scopes []string
	// AfterSeq keeps events with Seq > AfterSeq, for paging.
	AfterSeq int64
	Limit    int // 0 means DefaultAuditLimit
}

// DefaultAuditLimit bounds a listing of audit events, and MaxAuditLimit the
// limit a caller may ask for.
const (
	DefaultAuditLimit = 1000
	MaxAuditLimit     = 10000
)

// AuditService is the audit log: only ever appended to.
type AuditService interface {
	// AppendAudit appends e, filling in its Seq, PrevHash and Hash (and
	// Time if zero), or returns the store's error: an action whose event
	// cannot be recorded must not be done.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// FindAuditEvents returns the events matching f in Seq order.
	FindAuditEvents(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
}
