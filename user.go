package evidock

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// People and permissions (Art. 17, 19, 21).
//
// # Units are paths
//
// A unit is identified by its path: the codes of the units of the
// bureau's tree (see Unit) from the bureau down to it, separated by '/',
// e.g. "CZ", "CZ/CZ-TN", "CZ/CZ-TN/CZ-TN-1" for a bureau, a district and an
// enforcement unit. The path is computed from the units table (each unit's
// ParentCode), never typed in freely: a role may be held only in a path
// that is such a chain of existing units (ValidateUnitChain, checked by the
// stores), a clip belongs to the path of the unit its officer was in when
// it was registered and a case to the path of its unit
// (server.RegistryScope). A role is held in one unit,
// its scope, and a unit u lies within scope s when u == s or u starts with
// s + "/": so "within scope" is a prefix check on whole path segments
// ("city/d1" does not hold "city/d10").
//
// # The rules
//
// Every decision is made by Authorize from one table (Permission reads it), which
// says for each role and action how far the role reaches:
//
//	role             view_clip  download_clip  export   link_clips  approve_access  manage_users  read_audit  register_clip
//	officer          unit       -              -        unit        -               -             -           -
//	archivist        subtree    subtree        subtree  subtree     -               -             -           -
//	supervisor       subtree    -              -        subtree     -               -             subtree     -
//	legal_reviewer   subtree    -              -        -           -               -             -           -
//	department_head  subtree    -              -        -           subtree         -             subtree     -
//	administrator    -          -              -        -           -               subtree       -           -
//
// "unit" reaches only the unit the role is held in (an officer sees the
// footage of their own unit), "subtree" reaches that unit and every unit
// below it, "-" nothing. The administrator manages users but sees no
// footage (least privilege), and nobody reads the audit of their own accord
// but supervisors and department heads. register_clip belongs to docking
// stations alone, each with its own token and only for its own station: no
// user may register footage.
//
// What a role does not reach, Art. 19 lets a person ask for: an
// AccessRequest names clips (or a case), the actions wanted (view_clip,
// download_clip, export: the Grantable actions), a reason and a duration. A
// department head whose approve_access reaches every unit of the request,
// and who did not make it, approves or refuses it with a reason; an
// approved request is a Grant to the requester for those actions on those
// clips (or that case), valid from the approval for the requested duration.
// An expired grant allows nothing.
//
// A resource is within a user's reach when every one of its units is within
// the reach of some role of the user that allows the action; a resource with
// no known unit is within nobody's, and only a grant opens it. A disabled
// user is allowed nothing.

// Role is what a user does in a unit.
type Role string

// The roles of the bureau's people.
const (
	RoleOfficer        Role = "officer"         // 执法人员: records and docks footage
	RoleArchivist      Role = "archivist"       // 档案管理员: archives footage, burns discs
	RoleSupervisor     Role = "supervisor"      // 监督人员: checks upload compliance
	RoleLegalReviewer  Role = "legal_reviewer"  // 法制审核人员: checks recordings of major decisions
	RoleDepartmentHead Role = "department_head" // 劳动保障监察部门负责人: approves access (Art. 19)
	RoleAdministrator  Role = "administrator"   // 系统管理员: manages user accounts
)

// Roles lists every role, in the order of the rule table.
func Roles() []Role {
	return []Role{RoleOfficer, RoleArchivist, RoleSupervisor, RoleLegalReviewer, RoleDepartmentHead, RoleAdministrator}
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Action is something a person (or a station) may be allowed to do.
type Action string

// The actions Authorize decides on.
const (
	ActionViewClip      Action = "view_clip"      // see a clip and its footage
	ActionDownloadClip  Action = "download_clip"  // copy a clip's footage off the server
	ActionExport        Action = "export"         // export footage for others (a disc, a court)
	ActionLinkClips     Action = "link_clips"     // link clips to cases and activities
	ActionApproveAccess Action = "approve_access" // decide access requests (Art. 19)
	ActionManageUsers   Action = "manage_users"   // create and disable users, give roles
	ActionReadAudit     Action = "read_audit"     // read the audit log
	ActionRegisterClip  Action = "register_clip"  // register uploaded footage: stations only
)

// Actions lists every action, in the order of the rule table.
func Actions() []Action {
	return []Action{ActionViewClip, ActionDownloadClip, ActionExport, ActionLinkClips,
		ActionApproveAccess, ActionManageUsers, ActionReadAudit, ActionRegisterClip}
}

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool { return slices.Contains(Actions(), a) }

// Grantable reports whether an access request may ask for a: seeing and
// copying footage (Art. 19). Approving, managing users, reading the audit
// and registering footage come with a role or not at all.
func (a Action) Grantable() bool {
	return a == ActionViewClip || a == ActionDownloadClip || a == ActionExport
}

// Reach is how far a role held in one unit reaches for one action.
type Reach int

// The reaches of the rule table.
const (
	ReachNone    Reach = iota // the role never allows the action
	ReachUnit                 // the unit the role is held in, and no other
	ReachSubtree              // that unit and every unit below it
)

// String returns "-", "unit" or "subtree", as in the rule table.
func (r Reach) String() string {
	switch r {
	case ReachUnit:
		return "unit"
	case ReachSubtree:
		return "subtree"
	}
	return "-"
}

// Covers reports whether a role held in scope reaches unit.
func (r Reach) Covers(scope, unit string) bool {
	switch r {
	case ReachUnit:
		return unit == scope
	case ReachSubtree:
		return UnitWithin(unit, scope)
	}
	return false
}

// permissions is the rule table of the package comment; nothing else in the
// system decides who may do what.
var permissions = map[Role]map[Action]Reach{
	RoleOfficer: {
		ActionViewClip:  ReachUnit,
		ActionLinkClips: ReachUnit,
	},
	RoleArchivist: {
		ActionViewClip:     ReachSubtree,
		ActionDownloadClip: ReachSubtree,
		ActionExport:       ReachSubtree,
		ActionLinkClips:    ReachSubtree,
	},
	RoleSupervisor: {
		ActionViewClip:  ReachSubtree,
		ActionLinkClips: ReachSubtree,
		ActionReadAudit: ReachSubtree,
	},
	RoleLegalReviewer: {
		ActionViewClip: ReachSubtree,
	},
	RoleDepartmentHead: {
		ActionViewClip:      ReachSubtree,
		ActionApproveAccess: ReachSubtree,
		ActionReadAudit:     ReachSubtree,
	},
	RoleAdministrator: {
		ActionManageUsers: ReachSubtree,
	},
}

// Permission returns how far role reaches for action: the rule table.
func Permission(role Role, action Action) Reach { return permissions[role][action] }

// UnitWithin reports whether unit lies within scope: unit is scope or a
// unit below it ("city/d1/t2" is within "city/d1", but "city/d10" is not).
// An empty unit or scope is within nothing.
func UnitWithin(unit, scope string) bool {
	if unit == "" || scope == "" {
		return false
	}
	return unit == scope || strings.HasPrefix(unit, scope+"/")
}

// MaxUnitIDLen bounds a unit's path id.
const MaxUnitIDLen = 255

// ValidateUnitPath returns EINVALID unless id is a unit path id: segments
// of 1 to 64 letters, digits, '.', '_' or '-' separated by single '/', at
// most MaxUnitIDLen bytes, e.g. "city/district-3/team-2".
func ValidateUnitPath(id string) error {
	if id == "" {
		return Errorf(EINVALID, "unit: id is required, a path such as city/district-3/team-2")
	}
	if len(id) > MaxUnitIDLen {
		return Errorf(EINVALID, "unit: id is %d bytes long, at most %d allowed", len(id), MaxUnitIDLen)
	}
	for _, seg := range strings.Split(id, "/") {
		if seg == "" || len(seg) > 64 || seg == "." || seg == ".." {
			return Errorf(EINVALID, "unit: id %q must be path segments of 1 to 64 characters separated by single '/', such as city/district-3/team-2", id)
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
				return Errorf(EINVALID, "unit: id %q may hold only letters, digits, '.', '_', '-' and '/'", id)
			}
		}
	}
	return nil
}

// ValidateUnitChain returns EINVALID, naming path and its first bad
// segment, unless path (a valid unit path, see ValidateUnitPath) is a chain
// of existing units from the top of the tree down: its first segment a unit
// with no parent (the bureau) and each further segment a unit whose parent
// is the segment before. parentOf looks a unit code up and returns its
// parent's code ("" for the bureau) and whether the unit exists; its error
// is returned as it is.
func ValidateUnitChain(path string, parentOf func(code string) (parent string, found bool, err error)) error {
	if err := ValidateUnitPath(path); err != nil {
		return err
	}
	prev := ""
	for i, seg := range strings.Split(path, "/") {
		parent, found, err := parentOf(seg)
		switch {
		case err != nil:
			return err
		case !found:
			return Errorf(EINVALID, "unit path %q: segment %d, %q, is not a unit: a path is the chain of unit codes from the bureau down, e.g. CZ/CZ-TN/CZ-TN-1", path, i+1, seg)
		case i == 0 && parent != "":
			return Errorf(EINVALID, "unit path %q: segment 1, %q, is not the top of the tree (its parent is %q): a path starts at the bureau", path, seg, parent)
		case i > 0 && parent != prev:
			return Errorf(EINVALID, "unit path %q: segment %d, %q, is not below %q (its parent is %q)", path, i+1, seg, prev, parent)
		}
		prev = seg
	}
	return nil
}

// CommonUnit returns the deepest unit that every one of units lies within
// ("city/d1" for "city/d1/t1" and "city/d1/t2"), or "" if they share none or
// units is empty. The audit log files an event under it, so that whoever
// may read the audit of all the units involved reads the event.
func CommonUnit(units []string) string {
	if len(units) == 0 {
		return ""
	}
	common := strings.Split(units[0], "/")
	for _, u := range units[1:] {
		segs := strings.Split(u, "/")
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	return strings.Join(common, "/")
}

// RoleAssignment is one role a user holds, in one unit.
type RoleAssignment struct {
	Role Role   `json:"role"`
	Unit string `json:"unit"`
}

// String returns the assignment as role@unit.
func (a RoleAssignment) String() string { return string(a.Role) + "@" + a.Unit }

// User is a person who logs in to the case server. Users are never deleted,
// only disabled, so that the audit log's names keep meaning someone.
type User struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
	// OfficerNo is the user's 6-digit officer number, if they are an
	// officer who records footage; empty otherwise.
	OfficerNo string           `json:"officer_no,omitempty"`
	Roles     []RoleAssignment `json:"roles"`
	Disabled  bool             `json:"disabled"`
	CreatedAt time.Time        `json:"created_at"`
}

// MaxLoginLen and MaxUserNameLen bound a user's login and display name.
const (
	MaxLoginLen    = 64
	MaxUserNameLen = 200
)

// Validate returns an EINVALID error naming the first bad field of u: the
// login is 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with
// a letter or digit; the name at most 200 bytes; the officer number empty or
// 6 digits; at least one role, each a known role in a valid unit path, none
// twice.
func (u *User) Validate() error {
	if err := ValidateLogin(u.Login); err != nil {
		return err
	}
	switch {
	case len(u.Name) > MaxUserNameLen:
		return Errorf(EINVALID, "user: name is %d bytes long, at most %d allowed", len(u.Name), MaxUserNameLen)
	case u.OfficerNo != "" && (len(u.OfficerNo) != OfficerNoLen || strings.Trim(u.OfficerNo, "0123456789") != ""):
		return Errorf(EINVALID, "user: officer_no %q must be a %d-digit officer number, or empty", u.OfficerNo, OfficerNoLen)
	case len(u.Roles) == 0:
		return Errorf(EINVALID, "user: at least one role is required, e.g. officer in unit city/district-3/team-2")
	}
	for i, a := range u.Roles {
		if !a.Role.Valid() {
			return Errorf(EINVALID, "user: role %q is unknown; the roles are %s", a.Role, roleNames())
		}
		if err := ValidateUnitPath(a.Unit); err != nil {
			return Errorf(EINVALID, "user: role %s: %s", a.Role, ErrorMessage(err))
		}
		if slices.Contains(u.Roles[:i], a) {
			return Errorf(EINVALID, "user: role %s is given twice", a)
		}
	}
	return nil
}

// Units returns the units of u's roles, each once, in order.
func (u *User) Units() []string {
	var units []string
	for _, a := range u.Roles {
		if !slices.Contains(units, a.Unit) {
			units = append(units, a.Unit)
		}
	}
	return units
}

// Scopes returns the units in which some role of u allows action, each
// once, with the reach the most generous of those roles gives.
func (u *User) Scopes(action Action) map[string]Reach {
	scopes := map[string]Reach{}
	for _, a := range u.Roles {
		if r := Permission(a.Role, action); r > scopes[a.Unit] {
			scopes[a.Unit] = r
		}
	}
	for unit, r := range scopes {
		if r == ReachNone {
			delete(scopes, unit)
		}
	}
	return scopes
}

// ValidateLogin returns EINVALID unless login is 1 to 64 lower-case
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidateLogin(login string) error {
	switch {
	case login == "":
		return Errorf(EINVALID, "user: login is required, e.g. zhang.wei")
	case len(login) > MaxLoginLen:
		return Errorf(EINVALID, "user: login is %d bytes long, at most %d allowed", len(login), MaxLoginLen)
	}
	for i := 0; i < len(login); i++ {
		c := login[i]
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z'
		if i == 0 && !alnum || !alnum && c != '.' && c != '_' && c != '-' {
			return Errorf(EINVALID, "user: login %q must be lower-case letters, digits, '.', '_' and '-', starting with a letter or digit", login)
		}
	}
	return nil
}

func roleNames() string {
	var names []string
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// Resource is what an action is on, as Authorize needs to know it.
type Resource struct {
	// Units are the units the resource belongs to: a clip's unit (its
	// officer's when it was registered), the units of an access request's
	// clips, the unit whose audit is read, the units of the roles a user
	// is given.
	Units []string
	// Clip is the clip acted on, if it is one; a grant for it opens it.
	Clip Digest
	// Cases are the cases the clip is linked to (or the case acted on); a
	// grant for one of them opens it.
	Cases []string
}

// Grant is an approved access request: it allows its user its actions on
// its clips (or on the clips of its case) from ValidFrom until ValidUntil.
type Grant struct {
	RequestID  int64     `json:"request_id"`
	UserID     int64     `json:"user_id"`
	Actions    []Action  `json:"actions"`
	Clips      []Digest  `json:"clips,omitempty"`
	CaseID     string    `json:"case_id,omitempty"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
}

// covers reports whether g is about res, whatever its time.
func (g *Grant) covers(res Resource) bool {
	if !res.Clip.IsZero() && slices.Contains(g.Clips, res.Clip) {
		return true
	}
	return g.CaseID != "" && slices.Contains(res.Cases, g.CaseID)
}

// Decision is Authorize's answer.
type Decision struct {
	Allowed bool
	// Via says what allowed it: the roles, as role@unit, or "grant N".
	Via string
	// GrantID is the access request whose grant allowed it, or 0.
	GrantID int64
	// Reason says why it was refused, in words for the person refused.
	Reason string
}

// Authorize decides whether user may do action on res at time now, holding
// grants (the user's approved access requests; those of other users are
// ignored), by the rule table (see Permissions) and nothing else. It never
// fails: anything it does not know, it refuses.
func Authorize(user *User, action Action, res Resource, grants []Grant, now time.Time) Decision {
	switch {
	case user == nil:
		return Decision{Reason: "not logged in"}
	case user.Disabled:
		return Decision{Reason: fmt.Sprintf("user %s is disabled", user.Login)}
	case !action.Valid():
		return Decision{Reason: fmt.Sprintf("unknown action %q", action)}
	case action == ActionRegisterClip:
		return Decision{Reason: "only docking stations register clips, each with its own token"}
	}
	if via, ok := byRole(user, action, res.Units); ok {
		return Decision{Allowed: true, Via: via}
	}
	reason := fmt.Sprintf("%s is outside the roles of %s", action, user.Login)
	if len(res.Units) > 0 {
		reason = fmt.Sprintf("%s of unit %s is outside the roles of %s", action, strings.Join(res.Units, ", "), user.Login)
	}
	if !action.Grantable() {
		return Decision{Reason: reason}
	}
	var expired *Grant
	for i := range grants {
		g := &grants[i]
		if g.UserID != user.ID || !slices.Contains(g.Actions, action) || !g.covers(res) {
			continue
		}
		switch {
		case now.Before(g.ValidFrom):
		case now.Before(g.ValidUntil):
			return Decision{Allowed: true, Via: fmt.Sprintf("grant %d", g.RequestID), GrantID: g.RequestID}
		default:
			expired = g
		}
	}
	if expired != nil {
		return Decision{Reason: fmt.Sprintf("%s; grant %d expired at %s: ask again", reason, expired.RequestID,
			expired.ValidUntil.In(ChinaTime).Format(time.RFC3339))}
	}
	return Decision{Reason: reason + ": ask a department head for access (Art. 19)"}
}

// byRole returns the roles of user that together reach every unit for
// action, as role@unit, or false if some unit is out of reach or there are
// none.
func byRole(user *User, action Action, units []string) (string, bool) {
	if len(units) == 0 {
		return "", false
	}
	var via []string
	for _, unit := range units {
		found := false
		for _, a := range user.Roles {
			if Permission(a.Role, action).Covers(a.Unit, unit) {
				if !slices.Contains(via, a.String()) {
					via = append(via, a.String())
				}
				found = true
				break
			}
		}
		if !found {
			return "", false
		}
	}
	return strings.Join(via, ", "), true
}

// AccessState is where an access request stands.
type AccessState string

// The states of an access request. A request is decided once: pending
// becomes approved or refused, and then never changes.
const (
	AccessPending  AccessState = "pending"
	AccessApproved AccessState = "approved"
	AccessRefused  AccessState = "refused"
)

// MaxAccessDuration bounds how long a grant may last; longer needs must be
// asked again, and so be seen again by a department head.
const MaxAccessDuration = 30 * 24 * time.Hour

// MaxAccessReasonLen bounds the reasons of a request and of its decision.
const MaxAccessReasonLen = 2000

// MaxAccessClips bounds the clips one request names.
const MaxAccessClips = 1000

// AccessRequest is a person's request to see or copy footage beyond their
// roles (Art. 19), and, once decided, the decision.
type AccessRequest struct {
	ID          int64  `json:"id"`
	RequesterID int64  `json:"requester_id"`
	Requester   string `json:"requester"` // the requester's login
	// Actions are what the requester wants to do: Grantable actions.
	Actions []Action `json:"actions"`
	// Clips and CaseID say what on: clips, or every clip of a case.
	Clips  []Digest `json:"clips,omitempty"`
	CaseID string   `json:"case_id,omitempty"`
	// Units are the units the clips (or the case) belong to, as the server
	// found them when the request was made: whose department head decides.
	Units  []string `json:"units"`
	Reason string   `json:"reason"`
	// DurationSeconds is how long the grant is to last once approved.
	DurationSeconds int64       `json:"duration_seconds"`
	State           AccessState `json:"state"`
	CreatedAt       time.Time   `json:"created_at"`

	// Set when decided.
	DeciderID      int64     `json:"decider_id,omitempty"`
	Decider        string    `json:"decider,omitempty"`
	DecisionReason string    `json:"decision_reason,omitempty"`
	DecidedAt      time.Time `json:"decided_at,omitzero"`
	// ValidUntil is when the grant ends: DecidedAt plus the duration, for
	// an approved request.
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// Duration returns the requested duration of the grant.
func (r *AccessRequest) Duration() time.Duration {
	return time.Duration(r.DurationSeconds) * time.Second
}

// Validate returns an EINVALID error naming the first bad field of what the
// requester states: actions, clips or a case, a reason and a duration. The
// fields the server fills (IDs, units, state, times) are not checked.
func (r *AccessRequest) Validate() error {
	switch {
	case len(r.Actions) == 0:
		return Errorf(EINVALID, "access request: actions is required: view_clip, download_clip or export")
	case len(r.Clips) == 0 && r.CaseID == "":
		return Errorf(EINVALID, "access request: name the clips (by blake3) or the case_id the access is for")
	case len(r.Clips) > 0 && r.CaseID != "":
		return Errorf(EINVALID, "access request: name clips or a case_id, not both: make two requests")
	case len(r.Clips) > MaxAccessClips:
		return Errorf(EINVALID, "access request: %d clips named, at most %d allowed", len(r.Clips), MaxAccessClips)
	case len(r.CaseID) > 200:
		return Errorf(EINVALID, "access request: case_id is %d bytes long, at most 200 allowed", len(r.CaseID))
	case strings.TrimSpace(r.Reason) == "":
		return Errorf(EINVALID, "access request: reason is required: say why you need the footage (Art. 19)")
	case len(r.Reason) > MaxAccessReasonLen:
		return Errorf(EINVALID, "access request: reason is %d bytes long, at most %d allowed", len(r.Reason), MaxAccessReasonLen)
	case r.DurationSeconds <= 0:
		return Errorf(EINVALID, "access request: duration_seconds must be positive, e.g. 86400 for a day")
	case r.Duration() > MaxAccessDuration:
		return Errorf(EINVALID, "access request: duration_seconds %d is longer than %d (%s): ask again when it runs out",
			r.DurationSeconds, int64(MaxAccessDuration/time.Second), MaxAccessDuration)
	}
	for i, a := range r.Actions {
		if !a.Grantable() {
			return Errorf(EINVALID, "access request: action %q cannot be granted; ask for view_clip, download_clip or export", a)
		}
		if slices.Contains(r.Actions[:i], a) {
			return Errorf(EINVALID, "access request: action %s is named twice", a)
		}
	}
	for i, d := range r.Clips {
		if d.IsZero() {
			return Errorf(EINVALID, "access request: clip %d has no blake3", i)
		}
		if slices.Contains(r.Clips[:i], d) {
			return Errorf(EINVALID, "access request: clip %s is named twice", d)
		}
	}
	return nil
}

// Grant returns the grant an approved request gives, and false for a
// request that is not approved.
func (r *AccessRequest) Grant() (Grant, bool) {
	if r.State != AccessApproved {
		return Grant{}, false
	}
	return Grant{RequestID: r.ID, UserID: r.RequesterID, Actions: r.Actions, Clips: r.Clips, CaseID: r.CaseID,
		ValidFrom: r.DecidedAt, ValidUntil: r.ValidUntil}, true
}

// AccessDecision is a department head's decision on a request.
type AccessDecision struct {
	RequestID int64
	Approve   bool
	DeciderID int64
	Reason    string
	At        time.Time
}

// Check returns the error for d on a request of requester that is in
// state: ECONFLICT if it is decided already, EFORBIDDEN if the decider made
// it (nobody decides their own request), EINVALID for a missing or
// over-long reason or a missing time. Stores call it inside the
// transaction that records d.
func (d AccessDecision) Check(requester int64, state AccessState) error {
	switch {
	case state != AccessPending:
		return Errorf(ECONFLICT, "access request %d is %s already: a request is decided once", d.RequestID, state)
	case d.DeciderID == requester:
		return Errorf(EFORBIDDEN, "access request %d is your own: another department head must decide it", d.RequestID)
	case strings.TrimSpace(d.Reason) == "":
		return Errorf(EINVALID, "access decision: reason is required: say why the request is approved or refused")
	case len(d.Reason) > MaxAccessReasonLen:
		return Errorf(EINVALID, "access decision: reason is %d bytes long, at most %d allowed", len(d.Reason), MaxAccessReasonLen)
	case d.At.IsZero():
		return Errorf(EINVALID, "access decision: the time of the decision is required")
	}
	return nil
}

// AccessRequestFilter selects access requests; zero fields do not filter.
type AccessRequestFilter struct {
	State       AccessState
	RequesterID int64
	Limit       int // 0 means DefaultAccessRequestLimit
}

// MaxGrants bounds the grants FindGrants returns.
const MaxGrants = 100

// DefaultAccessRequestLimit bounds a listing of access requests.
const DefaultAccessRequestLimit = 500

// UserService keeps users, their roles and their access requests. Password
// hashes and sessions are the business of package server/auth and never
// appear here.
type UserService interface {
	// FindUserByID returns the user with id, or ENOTFOUND.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByLogin returns the user with login, or ENOTFOUND.
	FindUserByLogin(ctx context.Context, login string) (*User, error)
	// FindUsers returns every user in login order.
	FindUsers(ctx context.Context) ([]*User, error)
	// SetUserDisabled disables (or enables again) the user with id and
	// appends ev to the audit log in the same transaction; ENOTFOUND if
	// there is no such user.
	SetUserDisabled(ctx context.Context, id int64, disabled bool, ev *AuditEvent) error
}

// AccessService keeps access requests and the grants they become.
type AccessService interface {
	// CreateAccessRequest stores r as pending, fills in its ID, State and
	// CreatedAt, and appends ev (with Object set to the request) to the
	// audit log in the same transaction. It returns EINVALID for a
	// malformed request.
	CreateAccessRequest(ctx context.Context, r *AccessRequest, ev *AuditEvent) error
	// FindAccessRequest returns the request with id, or ENOTFOUND.
	FindAccessRequest(ctx context.Context, id int64) (*AccessRequest, error)
	// FindAccessRequests returns the requests matching f, newest first.
	FindAccessRequests(ctx context.Context, f AccessRequestFilter) ([]*AccessRequest, error)
	// DecideAccessRequest records d on its pending request, appends ev
	// to the audit log in the same transaction, and returns the decided
	// request. It returns ENOTFOUND for no such request and ECONFLICT for
	// one decided already.
	DecideAccessRequest(ctx context.Context, d AccessDecision, ev *AuditEvent) (*AccessRequest, error)
	// FindGrants returns the grants (approved requests) of the user that
	// name clip d or one of cases, newest first, at most MaxGrants,
	// whatever their time: Authorize tells valid from expired, and says
	// which expired.
	FindGrants(ctx context.Context, userID int64, d Digest, cases []string) ([]Grant, error)
	// FindValidGrants returns the grants of the user valid at time at
	// (ValidFrom <= at < ValidUntil), newest first; never nil. What they
	// open is for Authorize (or ClipAccess) to say.
	FindValidGrants(ctx context.Context, userID int64, at time.Time) ([]Grant, error)
}

// ClipAccess narrows a clip listing to what one user may view (see
// ClipFilter.Access): the clips of the officers of Units, the clips named
// by Clips, and the clips linked (by a confirmed link) to one of Cases. A
// ClipAccess with all three empty lets nothing through.
//
// It is Authorize for view_clip turned into a filter, and must be built to
// match it: Units are the units whose path a view_clip role of the user
// reaches, Clips and Cases those of the user's valid view_clip grants.
type ClipAccess struct {
	Units []string // unit codes
	Clips []Digest
	Cases []string // case numbers
}

// Empty reports whether a lets nothing through.
func (a *ClipAccess) Empty() bool {
	return len(a.Units) == 0 && len(a.Clips) == 0 && len(a.Cases) == 0
}
