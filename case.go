package evidock

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CaseKind is what kind of enforcement a case is (Art. 3 of the
// full-process recording rules). Codes are stable English words stored in
// the database and sent over the API; labels are what people read.
type CaseKind string

// Case kinds.
const (
	CasePenalty    CaseKind = "administrative_penalty"    // 行政处罚
	CaseHandling   CaseKind = "administrative_handling"   // 行政处理
	CaseInspection CaseKind = "administrative_inspection" // 行政检查
	CaseMediation  CaseKind = "labour_dispute_mediation"  // 简易劳资纠纷调处
)

var caseKindLabels = map[CaseKind]string{
	CasePenalty:    "行政处罚",
	CaseHandling:   "行政处理",
	CaseInspection: "行政检查",
	CaseMediation:  "简易劳资纠纷调处",
}

// CaseKinds returns every case kind.
func CaseKinds() []CaseKind {
	return []CaseKind{CasePenalty, CaseHandling, CaseInspection, CaseMediation}
}

// Valid reports whether k is one of CaseKinds.
func (k CaseKind) Valid() bool { _, ok := caseKindLabels[k]; return ok }

// Label returns the Chinese name of the kind, or the code for an unknown
// one.
func (k CaseKind) Label() string { return labelOf(caseKindLabels, k) }

// PartyRole is a party's side in a case.
type PartyRole string

// Party roles.
const (
	PartyEmployer PartyRole = "employer" // 用人单位
	PartyWorker   PartyRole = "worker"   // 劳动者
	PartyOther    PartyRole = "other"    // 其他当事人
)

var partyRoleLabels = map[PartyRole]string{
	PartyEmployer: "用人单位",
	PartyWorker:   "劳动者",
	PartyOther:    "其他当事人",
}

// PartyRoles returns every party role.
func PartyRoles() []PartyRole { return []PartyRole{PartyEmployer, PartyWorker, PartyOther} }

// Valid reports whether r is one of PartyRoles.
func (r PartyRole) Valid() bool { _, ok := partyRoleLabels[r]; return ok }

// Label returns the Chinese name of the role, or the code for an unknown
// one.
func (r PartyRole) Label() string { return labelOf(partyRoleLabels, r) }

// Party is a party to a case (当事人).
type Party struct {
	Role PartyRole `json:"role"`
	Name string    `json:"name"`
}

// CaseStage is how far a case has come, by the dates Art. 20 has recorded:
// the furthest one reached.
type CaseStage string

// Case stages, in order.
const (
	StageFiled    CaseStage = "filed"    // 已立案
	StageDecided  CaseStage = "decided"  // 已作出决定
	StageServed   CaseStage = "served"   // 已送达
	StageExecuted CaseStage = "executed" // 已执行
	StageClosed   CaseStage = "closed"   // 已结案
	StageArchived CaseStage = "archived" // 已归档
)

var caseStageLabels = map[CaseStage]string{
	StageFiled:    "已立案",
	StageDecided:  "已作出决定",
	StageServed:   "已送达",
	StageExecuted: "已执行",
	StageClosed:   "已结案",
	StageArchived: "已归档",
}

// CaseStages returns every stage, in order.
func CaseStages() []CaseStage {
	return []CaseStage{StageFiled, StageDecided, StageServed, StageExecuted, StageClosed, StageArchived}
}

// Valid reports whether s is one of CaseStages.
func (s CaseStage) Valid() bool { _, ok := caseStageLabels[s]; return ok }

// Label returns the Chinese name of the stage, or the code for an unknown
// one.
func (s CaseStage) Label() string { return labelOf(caseStageLabels, s) }

// Limits on a case's fields.
const (
	MaxCaseNumberLen = 64 // characters
	MaxCaseParties   = 50
)

// CaseDates are the dates Art. 20 has the case handler record: filing,
// the decision, its service and execution, closing and archiving. A zero
// time is a step not (yet) taken. Once recorded, a date is never changed.
type CaseDates struct {
	FiledAt    time.Time `json:"filed_at,omitzero"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	ServedAt   time.Time `json:"served_at,omitzero"`
	ExecutedAt time.Time `json:"executed_at,omitzero"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	ArchivedAt time.Time `json:"archived_at,omitzero"`
}

// Stage returns the furthest stage the dates reach.
func (d *CaseDates) Stage() CaseStage {
	switch {
	case !d.ArchivedAt.IsZero():
		return StageArchived
	case !d.ClosedAt.IsZero():
		return StageClosed
	case !d.ExecutedAt.IsZero():
		return StageExecuted
	case !d.ServedAt.IsZero():
		return StageServed
	case !d.DecidedAt.IsZero():
		return StageDecided
	}
	return StageFiled
}

// validate returns an EINVALID error naming the first date out of order.
func (d *CaseDates) validate() error {
	type date struct {
		name string
		t    time.Time
	}
	filed := date{"filed_at", d.FiledAt}
	decided := date{"decided_at", d.DecidedAt}
	served := date{"served_at", d.ServedAt}
	executed := date{"executed_at", d.ExecutedAt}
	closed := date{"closed_at", d.ClosedAt}
	archived := date{"archived_at", d.ArchivedAt}
	if filed.t.IsZero() {
		return Errorf(EINVALID, "case: filed_at is required: a case exists from its filing (Art. 20)")
	}
	switch {
	case !executed.t.IsZero() && decided.t.IsZero():
		return Errorf(EINVALID, "case: executed_at needs decided_at: only a decision is executed")
	case !archived.t.IsZero() && closed.t.IsZero():
		return Errorf(EINVALID, "case: archived_at needs closed_at: a case is archived after it is closed")
	}
	for _, pair := range [][2]date{
		{filed, decided}, {filed, served}, {filed, executed}, {filed, closed},
		{decided, served}, {decided, executed},
		{decided, closed}, {served, closed}, {executed, closed},
		{closed, archived},
	} {
		early, late := pair[0], pair[1]
		if !early.t.IsZero() && !late.t.IsZero() && late.t.Before(early.t) {
			return Errorf(EINVALID, "case: %s (%s) is before %s (%s)", late.name,
				late.t.In(ChinaTime).Format(time.RFC3339), early.name, early.t.In(ChinaTime).Format(time.RFC3339))
		}
	}
	return nil
}

// Merge returns d with every date that is set in more and not in d set
// from more. It returns ECONFLICT naming the date if more sets one that d
// has recorded as another time: recorded dates are never changed.
func (d CaseDates) Merge(more CaseDates) (CaseDates, error) {
	for _, f := range []struct {
		name      string
		have, add *time.Time
	}{
		{"filed_at", &d.FiledAt, &more.FiledAt},
		{"decided_at", &d.DecidedAt, &more.DecidedAt},
		{"served_at", &d.ServedAt, &more.ServedAt},
		{"executed_at", &d.ExecutedAt, &more.ExecutedAt},
		{"closed_at", &d.ClosedAt, &more.ClosedAt},
		{"archived_at", &d.ArchivedAt, &more.ArchivedAt},
	} {
		switch {
		case f.add.IsZero():
		case f.have.IsZero():
			*f.have = *f.add
		case !f.have.Equal(*f.add):
			return d, Errorf(ECONFLICT, "case: %s is recorded as %s already; a recorded date is never changed (Art. 20)",
				f.name, f.have.In(ChinaTime).Format(time.RFC3339))
		}
	}
	return d, nil
}

// IsZero reports whether no date is set.
func (d CaseDates) IsZero() bool { return d == CaseDates{} }

// Case is an enforcement case (案件): its number, kind, parties, the unit
// that handles it and the dates of Art. 20.
type Case struct {
	ID       int64    `json:"id"`
	Number   string   `json:"number"` // 案号, unique, e.g. 常人社监罚〔2024〕12号
	Kind     CaseKind `json:"kind"`
	Title    string   `json:"title"`
	UnitCode string   `json:"unit_code"`
	Parties  []Party  `json:"parties"`
	CaseDates
	// Stage is derived from the dates; the store fills it in.
	Stage     CaseStage `json:"stage"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate returns an EINVALID error naming the first malformed field, and
// fills in Stage. It cannot check that the unit exists; the store does.
func (c *Case) Validate() error {
	c.Stage = c.CaseDates.Stage()
	switch {
	case !IsCaseNumber(c.Number):
		return Errorf(EINVALID, "case: number %q must be 1 to %d characters, without '/', control characters or spaces at either end", c.Number, MaxCaseNumberLen)
	case !c.Kind.Valid():
		return Errorf(EINVALID, "case: kind %q is unknown; use %s", c.Kind, joinCodes(CaseKinds()))
	case !isText(c.Title, 1, 200):
		return Errorf(EINVALID, "case: title must be 1 to 200 characters without control characters")
	case c.UnitCode == "":
		return Errorf(EINVALID, "case: unit_code is required: name the unit that handles the case")
	case len(c.Parties) == 0:
		return Errorf(EINVALID, "case: parties: name at least one party")
	case len(c.Parties) > MaxCaseParties:
		return Errorf(EINVALID, "case: parties: at most %d, got %d", MaxCaseParties, len(c.Parties))
	}
	for i, p := range c.Parties {
		switch {
		case !p.Role.Valid():
			return Errorf(EINVALID, "case: parties[%d].role %q is unknown; use %s", i, p.Role, joinCodes(PartyRoles()))
		case !isText(p.Name, 1, 200):
			return Errorf(EINVALID, "case: parties[%d].name must be 1 to 200 characters without control characters", i)
		}
	}
	return c.CaseDates.validate()
}

// IsCaseNumber reports whether s can be a case number: it must fit in a URL
// path segment and read the same when trimmed.
func IsCaseNumber(s string) bool {
	return isText(s, 1, MaxCaseNumberLen) && !strings.Contains(s, "/") && strings.TrimSpace(s) == s
}

// CaseFilter selects cases; zero fields do not filter.
type CaseFilter struct {
	// UnitCode keeps the cases of that unit and of every unit below it.
	UnitCode string
	Kind     CaseKind
	Stage    CaseStage
	// OfficerNo keeps the cases with an activity that officer took part in.
	OfficerNo          string
	FiledFrom, FiledTo time.Time // FiledAt in [FiledFrom, FiledTo)
	Offset             int
	Limit              int // 0 means DefaultCaseLimit; at most MaxCaseLimit
}

// Bounds of a case listing.
const (
	DefaultCaseLimit = 100
	MaxCaseLimit     = 1000
)

// Validate returns an EINVALID error naming the first malformed field, and
// sets a zero Limit to DefaultCaseLimit.
func (f *CaseFilter) Validate() error {
	if f.Limit == 0 {
		f.Limit = DefaultCaseLimit
	}
	switch {
	case f.Kind != "" && !f.Kind.Valid():
		return Errorf(EINVALID, "case filter: kind %q is unknown; use %s", f.Kind, joinCodes(CaseKinds()))
	case f.Stage != "" && !f.Stage.Valid():
		return Errorf(EINVALID, "case filter: stage %q is unknown; use %s", f.Stage, joinCodes(CaseStages()))
	case f.OfficerNo != "" && !IsOfficerNo(f.OfficerNo):
		return Errorf(EINVALID, "case filter: officer %q must be %d digits", f.OfficerNo, OfficerNoLen)
	case f.Offset < 0:
		return Errorf(EINVALID, "case filter: offset must not be negative, got %d", f.Offset)
	case f.Limit < 0 || f.Limit > MaxCaseLimit:
		return Errorf(EINVALID, "case filter: limit must be 1 to %d, got %d", MaxCaseLimit, f.Limit)
	case !f.FiledFrom.IsZero() && !f.FiledTo.IsZero() && !f.FiledTo.After(f.FiledFrom):
		return Errorf(EINVALID, "case filter: filed_to must be after filed_from")
	}
	return nil
}

// ActivityType is what officers did in an enforcement activity (Art. 9,
// 11, 12 and 14 of the full-process recording rules).
type ActivityType string

// Activity types.
const (
	ActivityInspection           ActivityType = "inspection"            // 现场检查
	ActivityInterview            ActivityType = "interview"             // 询问
	ActivityEvidenceCollection   ActivityType = "evidence_collection"   // 调取证据
	ActivitySampling             ActivityType = "sampling"              // 抽样取证
	ActivityEvidencePreservation ActivityType = "evidence_preservation" // 证据先行登记保存
	ActivityHearing              ActivityType = "hearing"               // 听证
	ActivityService              ActivityType = "service"               // 送达
	ActivityOther                ActivityType = "other"                 // 其他
)

var activityTypeLabels = map[ActivityType]string{
	ActivityInspection:           "现场检查",
	ActivityInterview:            "询问",
	ActivityEvidenceCollection:   "调取证据",
	ActivitySampling:             "抽样取证",
	ActivityEvidencePreservation: "证据先行登记保存",
	ActivityHearing:              "听证",
	ActivityService:              "送达",
	ActivityOther:                "其他",
}

// ActivityTypes returns every activity type.
func ActivityTypes() []ActivityType {
	return []ActivityType{ActivityInspection, ActivityInterview, ActivityEvidenceCollection, ActivitySampling,
		ActivityEvidencePreservation, ActivityHearing, ActivityService, ActivityOther}
}

// Valid reports whether t is one of ActivityTypes.
func (t ActivityType) Valid() bool { _, ok := activityTypeLabels[t]; return ok }

// Label returns the Chinese name of the type, or the code for an unknown
// one.
func (t ActivityType) Label() string { return labelOf(activityTypeLabels, t) }

// ServiceMethod is how documents were served (Art. 12).
type ServiceMethod string

// Methods of service of documents.
const (
	ServiceDirect       ServiceMethod = "direct"       // 直接送达
	ServiceByPost       ServiceMethod = "post"         // 邮寄送达
	ServiceByLeaving    ServiceMethod = "leaving"      // 留置送达
	ServiceAnnouncement ServiceMethod = "announcement" // 公告送达
)

var serviceMethodLabels = map[ServiceMethod]string{
	ServiceDirect:       "直接送达",
	ServiceByPost:       "邮寄送达",
	ServiceByLeaving:    "留置送达",
	ServiceAnnouncement: "公告送达",
}

// ServiceMethods returns every method of service.
func ServiceMethods() []ServiceMethod {
	return []ServiceMethod{ServiceDirect, ServiceByPost, ServiceByLeaving, ServiceAnnouncement}
}

// Valid reports whether m is one of ServiceMethods.
func (m ServiceMethod) Valid() bool { _, ok := serviceMethodLabels[m]; return ok }

// Label returns the Chinese name of the method, or the code for an unknown
// one.
func (m ServiceMethod) Label() string { return labelOf(serviceMethodLabels, m) }

// Limits on an activity.
const (
	MaxActivityOfficers = 20
	// MaxActivitySpan bounds an activity's length; longer work is several
	// activities, and the bound keeps link suggestions to a sane window.
	MaxActivitySpan = 7 * 24 * time.Hour
)

// Activity is one enforcement activity inside a case: who was there, when
// and where, and what was done. Whether audio-video recording of it was
// mandatory follows from its type and circumstances; see RecordingRules.
type Activity struct {
	ID     int64        `json:"id"`
	CaseID int64        `json:"case_id"`
	Type   ActivityType `json:"type"`
	// ServiceMethod is set for service of documents and only for it.
	ServiceMethod ServiceMethod `json:"service_method,omitempty"`
	// The circumstances of Art. 14 that make recording mandatory whatever
	// the type: a mass incident, individual extreme incident or other
	// emergency (14(1)); a party who does not cooperate with the
	// inspection (14(2)); or another situation in which recording is
	// required (14(4)), as the officers or their superior decide.
	Emergency        bool `json:"emergency,omitempty"`
	Uncooperative    bool `json:"uncooperative,omitempty"`
	RecordingOrdered bool `json:"recording_ordered,omitempty"`

	Officers  []string  `json:"officers"` // officer numbers of those present
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Place     string    `json:"place,omitempty"`
	Note      string    `json:"note,omitempty"`

	// Derived from the fields above by the store (see Derive), never
	// stored: the rules say which articles make recording mandatory.
	RecordingMandatory bool            `json:"recording_mandatory"`
	RecordingRules     []RecordingRule `json:"recording_rules"`
	CreatedAt          time.Time       `json:"created_at"`
}

// Validate returns an EINVALID error naming the first malformed field. It
// cannot check that the case and the officers exist; the store does.
func (a *Activity) Validate() error {
	switch {
	case a.CaseID <= 0:
		return Errorf(EINVALID, "activity: case_id is required")
	case !a.Type.Valid():
		return Errorf(EINVALID, "activity: type %q is unknown; use %s", a.Type, joinCodes(ActivityTypes()))
	case a.Type == ActivityService && !a.ServiceMethod.Valid():
		return Errorf(EINVALID, "activity: service_method %q: service of documents needs one of %s (Art. 12)", a.ServiceMethod, joinCodes(ServiceMethods()))
	case a.Type != ActivityService && a.ServiceMethod != "":
		return Errorf(EINVALID, "activity: service_method is only for type service, not %s", a.Type)
	case len(a.Officers) == 0:
		return Errorf(EINVALID, "activity: officers: name the officers present (Art. 9(1))")
	case len(a.Officers) > MaxActivityOfficers:
		return Errorf(EINVALID, "activity: officers: at most %d, got %d", MaxActivityOfficers, len(a.Officers))
	case a.StartedAt.IsZero():
		return Errorf(EINVALID, "activity: started_at is required")
	case a.EndedAt.IsZero():
		return Errorf(EINVALID, "activity: ended_at is required")
	case a.EndedAt.Before(a.StartedAt):
		return Errorf(EINVALID, "activity: ended_at is before started_at")
	case a.EndedAt.Sub(a.StartedAt) > MaxActivitySpan:
		return Errorf(EINVALID, "activity: lasts %s, longer than %s; record it as several activities", a.EndedAt.Sub(a.StartedAt), MaxActivitySpan)
	case !isText(a.Place, 0, 200):
		return Errorf(EINVALID, "activity: place must be at most 200 characters without control characters")
	case !isLongText(a.Note, 0, 2000):
		return Errorf(EINVALID, "activity: note must be at most 2000 characters")
	}
	seen := make(map[string]bool, len(a.Officers))
	for i, no := range a.Officers {
		switch {
		case !IsOfficerNo(no):
			return Errorf(EINVALID, "activity: officers[%d] %q must be %d digits", i, no, OfficerNoLen)
		case seen[no]:
			return Errorf(EINVALID, "activity: officers[%d] %q is named twice", i, no)
		}
		seen[no] = true
	}
	return nil
}

// Derive fills in RecordingMandatory and RecordingRules from the rest.
func (a *Activity) Derive() {
	a.RecordingRules = RecordingRules(a)
	a.RecordingMandatory = len(a.RecordingRules) > 0
}

// HasOfficer reports whether officer no was present at the activity.
func (a *Activity) HasOfficer(no string) bool {
	for _, o := range a.Officers {
		if o == no {
			return true
		}
	}
	return false
}

// RecordingRule is one rule that makes audio-video recording of an
// activity mandatory, with the article it comes from.
type RecordingRule struct {
	Code    string `json:"code"`
	Article string `json:"article"` // of 行政执法全过程记录管理规定
	Label   string `json:"label"`
}

// The rule table: when audio-video recording is mandatory under the
// full-process recording rules (行政执法全过程记录管理规定).
//
//	code                     applies to                                   article
//	service_by_leaving       service of documents by leaving them (留置送达)  Art. 12(3)
//	service_by_announcement  service by public announcement (公告送达)       Art. 12(4)
//	emergency                mass or individual extreme incidents, other
//	                         emergencies (群体性事件、个人极端事件等突发状况)        Art. 14(1)
//	uncooperative            a party does not cooperate with the
//	                         inspection (当事人不配合执法检查)                  Art. 14(2)
//	sampling                 sampling as evidence (抽样取证)                  Art. 14(3)
//	evidence_preservation    registering evidence for preservation
//	                         (证据登记保存)                                   Art. 14(3)
//	ordered                  any other situation that needs recording
//	                         (其他需要音视频记录的情况)                         Art. 14(4)
//
// Art. 12(4) asks for "appropriate" recording to accompany service by
// announcement; the bureau treats it as mandatory. Nothing else makes
// recording mandatory: an inspection or interview without the circumstances
// of Art. 14 may be recorded in writing alone (Art. 2).
var (
	RuleServiceByLeaving      = RecordingRule{"service_by_leaving", "第十二条第（三）项", "留置送达应采用音视频记录等方式记录送达整个过程"}
	RuleServiceByAnnouncement = RecordingRule{"service_by_announcement", "第十二条第（四）项", "公告送达应辅之以适当的音视频记录"}
	RuleEmergency             = RecordingRule{"emergency", "第十四条第（一）项", "群体性事件、个人极端事件等突发状况"}
	RuleUncooperative         = RecordingRule{"uncooperative", "第十四条第（二）项", "当事人不配合执法检查"}
	RuleSampling              = RecordingRule{"sampling", "第十四条第（三）项", "抽样取证"}
	RuleEvidencePreservation  = RecordingRule{"evidence_preservation", "第十四条第（三）项", "证据登记保存"}
	RuleOrdered               = RecordingRule{"ordered", "第十四条第（四）项", "其他需要音视频记录的情况"}
)

// RecordingRules returns the rules that make audio-video recording of a
// mandatory, in the order of the table above; never nil, empty if
// recording is not mandatory.
func RecordingRules(a *Activity) []RecordingRule {
	rules := []RecordingRule{}
	if a.Type == ActivityService {
		switch a.ServiceMethod {
		case ServiceByLeaving:
			rules = append(rules, RuleServiceByLeaving)
		case ServiceAnnouncement:
			rules = append(rules, RuleServiceByAnnouncement)
		}
	}
	if a.Emergency {
		rules = append(rules, RuleEmergency)
	}
	if a.Uncooperative {
		rules = append(rules, RuleUncooperative)
	}
	switch a.Type {
	case ActivitySampling:
		rules = append(rules, RuleSampling)
	case ActivityEvidencePreservation:
		rules = append(rules, RuleEvidencePreservation)
	}
	if a.RecordingOrdered {
		rules = append(rules, RuleOrdered)
	}
	return rules
}

// RecordingMandatory reports whether audio-video recording of a is
// mandatory under Art. 12 or 14; see RecordingRules for which rule.
func RecordingMandatory(a *Activity) bool { return len(RecordingRules(a)) > 0 }

// CaseService keeps cases and the activities inside them.
type CaseService interface {
	// CreateCase stores c and fills in its ID, CreatedAt and Stage. It
	// returns EINVALID for a malformed case or an unknown unit, and
	// ECONFLICT if the number is taken.
	CreateCase(ctx context.Context, c *Case) error

	// FindCase returns the case with the number, or ENOTFOUND.
	FindCase(ctx context.Context, number string) (*Case, error)

	// FindCases returns the cases matching f, latest filed first, and how
	// many match in all. It returns EINVALID for a malformed filter and
	// ENOTFOUND for an unknown unit.
	FindCases(ctx context.Context, f CaseFilter) ([]*Case, int, error)

	// RecordCaseDates records the dates set in d on the case with the
	// number (Art. 20) and returns the case as stored. A date the case
	// has already is accepted if equal and refused with ECONFLICT if not;
	// dates out of order are EINVALID; an unknown case is ENOTFOUND.
	RecordCaseDates(ctx context.Context, number string, d CaseDates) (*Case, error)

	// CreateActivity stores a and fills in its ID, CreatedAt and derived
	// fields. It returns EINVALID for a malformed activity or an unknown
	// officer, and ENOTFOUND for an unknown case.
	CreateActivity(ctx context.Context, a *Activity) error

	// FindActivity returns the activity with the ID, or ENOTFOUND.
	FindActivity(ctx context.Context, id int64) (*Activity, error)

	// FindActivities returns the activities of a case in StartedAt order;
	// never a nil slice. It returns ENOTFOUND for an unknown case.
	FindActivities(ctx context.Context, caseID int64) ([]*Activity, error)
}

// LinkAction is one change to the link between a clip and an activity.
type LinkAction string

// Link actions: the system suggests; officers confirm, reject and unlink.
const (
	LinkSuggest LinkAction = "suggest"
	LinkConfirm LinkAction = "confirm"
	LinkReject  LinkAction = "reject"
	LinkUnlink  LinkAction = "unlink"
)

// LinkActions returns every action.
func LinkActions() []LinkAction {
	return []LinkAction{LinkSuggest, LinkConfirm, LinkReject, LinkUnlink}
}

// LinkState is where the link between a clip and an activity stands: the
// state its latest action leaves it in.
type LinkState string

// Link states.
const (
	LinkNone      LinkState = ""          // never suggested or linked
	LinkSuggested LinkState = "suggested" // 系统建议
	LinkConfirmed LinkState = "confirmed" // 已确认
	LinkRejected  LinkState = "rejected"  // 已驳回
	LinkUnlinked  LinkState = "unlinked"  // 已解除
)

var linkStateLabels = map[LinkState]string{
	LinkSuggested: "系统建议",
	LinkConfirmed: "已确认",
	LinkRejected:  "已驳回",
	LinkUnlinked:  "已解除",
}

// Label returns the Chinese name of the state, or the code for an unknown
// one.
func (s LinkState) Label() string { return labelOf(linkStateLabels, s) }

// State returns the state the action leaves a link in.
func (a LinkAction) State() LinkState {
	switch a {
	case LinkSuggest:
		return LinkSuggested
	case LinkConfirm:
		return LinkConfirmed
	case LinkReject:
		return LinkRejected
	case LinkUnlink:
		return LinkUnlinked
	}
	return LinkNone
}

// Valid reports whether a is one of LinkActions.
func (a LinkAction) Valid() bool { return a.State() != LinkNone }

// LinkSystem is who suggests links: the server, not an officer.
const LinkSystem = "system"

// DefaultSuggestMargin is how far before an activity's start and after its
// end a clip may lie and still be suggested for it: recorders are started
// on the way in and stopped on the way out, and clocks drift.
const DefaultSuggestMargin = 30 * time.Minute

// MaxSuggestMargin bounds the margin a caller may ask for.
const MaxSuggestMargin = 24 * time.Hour

// MaxClipDuration is the longest clip SuggestLinks matches by its whole
// span: a longer clip is found only if it starts within
// MaxClipDuration before the window. Recorders split footage into files of
// well under an hour.
const MaxClipDuration = 24 * time.Hour

// LinkEntry is one entry in the history of a clip's link to an activity.
// Entries are only ever added; the latest per clip and activity is the
// link's state.
type LinkEntry struct {
	ID         int64      `json:"id"`
	ClipID     int64      `json:"clip_id"`
	Digest     Digest     `json:"blake3"`
	ActivityID int64      `json:"activity_id"`
	Seq        int        `json:"seq"` // 1, 2, ... per clip and activity
	Action     LinkAction `json:"action"`
	By         string     `json:"by"` // an officer number, or LinkSystem
	At         time.Time  `json:"at"`
	Reason     string     `json:"reason,omitempty"`
}

// Validate returns an EINVALID error naming the first malformed field of a
// change an officer asks for: only the system suggests.
func (e *LinkEntry) Validate() error {
	switch {
	case e.ActivityID <= 0:
		return Errorf(EINVALID, "link: activity_id is required")
	case e.Digest.IsZero() && e.ClipID <= 0:
		return Errorf(EINVALID, "link: blake3 is required: name the clip")
	case e.Action == LinkSuggest:
		return Errorf(EINVALID, "link: action suggest is the server's; an officer confirms, rejects or unlinks")
	case !e.Action.Valid():
		return Errorf(EINVALID, "link: action %q is unknown; use confirm, reject or unlink", e.Action)
	case !IsOfficerNo(e.By):
		return Errorf(EINVALID, "link: by %q must be the %d-digit number of the officer making the change", e.By, OfficerNoLen)
	case !isLongText(e.Reason, 0, 1000):
		return Errorf(EINVALID, "link: reason must be at most 1000 characters")
	case e.Action != LinkConfirm && strings.TrimSpace(e.Reason) == "":
		return Errorf(EINVALID, "link: reason is required to %s a link: the history must say why", e.Action)
	}
	return nil
}

// CheckTransition returns ECONFLICT if action may not follow a link in
// state from: a clip is confirmed from any state but confirmed, rejected
// only while not confirmed (a confirmed link is unlinked instead), and
// unlinked only while confirmed.
func CheckTransition(from LinkState, action LinkAction) error {
	switch {
	case action == LinkSuggest && from != LinkNone:
		return Errorf(ECONFLICT, "link: already %s; the server suggests a clip only once", from)
	case action == LinkConfirm && from == LinkConfirmed:
		return Errorf(ECONFLICT, "link: the clip is confirmed for this activity already")
	case action == LinkReject && from == LinkConfirmed:
		return Errorf(ECONFLICT, "link: the clip is confirmed for this activity; unlink it instead, with a reason")
	case action == LinkReject && from == LinkRejected:
		return Errorf(ECONFLICT, "link: the clip is rejected for this activity already")
	case action == LinkUnlink && from != LinkConfirmed:
		state := string(from)
		if state == "" {
			state = "not linked"
		}
		return Errorf(ECONFLICT, "link: only a confirmed link can be unlinked; this one is %s", state)
	}
	return nil
}

// ClipLink is where the link between a clip and an activity stands, with
// the clip and the latest entry of its history.
type ClipLink struct {
	ActivityID int64      `json:"activity_id"`
	State      LinkState  `json:"state"`
	Clip       *Clip      `json:"clip"`
	Last       *LinkEntry `json:"last"`
}

// LinkFilter selects links; exactly one of CaseID, ActivityID and Digest
// is set.
type LinkFilter struct {
	CaseID     int64
	ActivityID int64
	Digest     Digest
}

// Validate returns EINVALID unless exactly one field is set.
func (f *LinkFilter) Validate() error {
	n := 0
	for _, set := range []bool{f.CaseID > 0, f.ActivityID > 0, !f.Digest.IsZero()} {
		if set {
			n++
		}
	}
	if n != 1 || f.CaseID < 0 || f.ActivityID < 0 {
		return Errorf(EINVALID, "link filter: give exactly one of a case, an activity or a clip")
	}
	return nil
}

// ClipOverlaps reports whether the clip's corrected span, [start, start +
// duration), meets [from, to]. A clip of unknown duration is a point at
// its start.
func ClipOverlaps(c *Clip, from, to time.Time) bool {
	start := c.CorrectedStartedAt
	end := start.Add(time.Duration(c.DurationMS) * time.Millisecond)
	if c.DurationMS <= 0 {
		return !start.Before(from) && !start.After(to)
	}
	return !start.After(to) && end.After(from)
}

// SuggestionReason reports whether clip c may record activity a, and
// gives the reason to keep with the suggestion: c's corrected span must
// overlap [from, to] (see ClipOverlaps), and c must come from one of a's
// officers, either by the officer number its recorder carried or by the
// recorder's assignment to one of them when c started. history holds the
// assignments of the officers' recorders, with To filled in.
func SuggestionReason(a *Activity, c *Clip, history []*RecorderAssignment, from, to time.Time) (string, bool) {
	if !ClipOverlaps(c, from, to) {
		return "", false
	}
	span := fmt.Sprintf("its corrected time overlaps the activity's %s to %s",
		from.In(ChinaTime).Format("2006-01-02 15:04"), to.In(ChinaTime).Format("2006-01-02 15:04"))
	if a.HasOfficer(c.OfficerNo) {
		return fmt.Sprintf("recorded under officer %s, who was present; %s", c.OfficerNo, span), true
	}
	for _, as := range history {
		if as.DeviceSerial == c.DeviceSerial && as.OfficerNo != "" && a.HasOfficer(as.OfficerNo) && as.Covers(c.CorrectedStartedAt) {
			return fmt.Sprintf("recorder %s was assigned to officer %s, who was present; %s", c.DeviceSerial, as.OfficerNo, span), true
		}
	}
	return "", false
}

// SortLinks orders links by activity, then by their clips' corrected start.
func SortLinks(links []*ClipLink) {
	slices.SortStableFunc(links, func(x, y *ClipLink) int {
		if c := cmp.Compare(x.ActivityID, y.ActivityID); c != 0 {
			return c
		}
		if x.Clip == nil || y.Clip == nil {
			return 0
		}
		if c := x.Clip.CorrectedStartedAt.Compare(y.Clip.CorrectedStartedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.Clip.ID, y.Clip.ID)
	})
}

// MissingRecordingsOf returns the activities among acts whose recording is
// mandatory and whose links, by their latest entries in latest, include no
// confirmed clip; in the order of acts.
func MissingRecordingsOf(acts []*Activity, latest []*LinkEntry) []*Activity {
	confirmed := map[int64]bool{}
	for _, e := range latest {
		if e.Action == LinkConfirm {
			confirmed[e.ActivityID] = true
		}
	}
	missing := []*Activity{}
	for _, a := range acts {
		if RecordingMandatory(a) && !confirmed[a.ID] {
			missing = append(missing, a)
		}
	}
	return missing
}

// LinkService links clips to the activities they record.
type LinkService interface {
	// SuggestLinks returns the clips that may record the activity and
	// are not decided on: clips of its officers (by the officer number
	// the recorder carried, or by the recorder's assignment to one of
	// them at the time) whose corrected span overlaps the activity's
	// [StartedAt - margin, EndedAt + margin]. Each clip it suggests for
	// the first time gets a suggest entry by LinkSystem; clips already
	// suggested are returned again, and clips confirmed, rejected or
	// unlinked for the activity are left out. It returns ENOTFOUND for an
	// unknown activity and EINVALID for a margin outside [0,
	// MaxSuggestMargin].
	SuggestLinks(ctx context.Context, activityID int64, margin time.Duration) ([]*ClipLink, error)

	// ChangeLink adds e, an officer's confirm, reject or unlink, to the
	// history of the clip's link to the activity, and fills in its ID,
	// ClipID, Digest, Seq and At. It returns EINVALID for a malformed
	// change or an unknown officer, ENOTFOUND for an unknown clip or
	// activity, and ECONFLICT if the action may not follow the link's
	// state (see CheckTransition) or another change was made at the same
	// moment.
	ChangeLink(ctx context.Context, e *LinkEntry) error

	// FindLinks returns where each link matching f stands, by activity
	// and the clip's corrected start; never a nil slice. It returns
	// EINVALID for a malformed filter.
	FindLinks(ctx context.Context, f LinkFilter) ([]*ClipLink, error)

	// LinkHistory returns every entry of the links matching f in the
	// order they were made; never a nil slice.
	LinkHistory(ctx context.Context, f LinkFilter) ([]*LinkEntry, error)

	// MissingRecordings returns the activities of the case whose
	// recording is mandatory (RecordingMandatory) and that have no
	// confirmed clip, in StartedAt order: what the legal review must find
	// complete (Art. 10(7) of the legal review rules). It returns
	// ENOTFOUND for an unknown case.
	MissingRecordings(ctx context.Context, caseID int64) ([]*Activity, error)
}

// CaseDetail is a case with its activities, each with its links, and the
// activities whose mandatory recording is missing: what a case page and
// 'evidock case' show.
type CaseDetail struct {
	*Case
	Activities []*ActivityDetail `json:"activities"`
	// MissingRecordings lists the IDs of the activities whose mandatory
	// recording has no confirmed clip.
	MissingRecordings []int64 `json:"missing_recordings"`
}

// ActivityDetail is an activity with where its links stand.
type ActivityDetail struct {
	*Activity
	Links []*ClipLink `json:"links"`
}
