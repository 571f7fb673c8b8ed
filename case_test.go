package evidock

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRecordingRules pins the rule table of Art. 12 and 14: which
// activities must be recorded on audio-video, and under which article.
func TestRecordingRules(t *testing.T) {
	for _, tt := range []struct {
		name string
		a    Activity
		want string // rule codes
	}{
		{"inspection", Activity{Type: ActivityInspection}, ""},
		{"interview", Activity{Type: ActivityInterview}, ""},
		{"evidence collection", Activity{Type: ActivityEvidenceCollection}, ""},
		{"hearing", Activity{Type: ActivityHearing}, ""},
		{"other", Activity{Type: ActivityOther}, ""},
		{"direct service", Activity{Type: ActivityService, ServiceMethod: ServiceDirect}, ""},
		{"service by post", Activity{Type: ActivityService, ServiceMethod: ServiceByPost}, ""},
		{"service by leaving, Art. 12(3)", Activity{Type: ActivityService, ServiceMethod: ServiceByLeaving}, "service_by_leaving"},
		{"service by announcement, Art. 12(4)", Activity{Type: ActivityService, ServiceMethod: ServiceAnnouncement}, "service_by_announcement"},
		{"mass incident, Art. 14(1)", Activity{Type: ActivityInspection, Emergency: true}, "emergency"},
		{"uncooperative party, Art. 14(2)", Activity{Type: ActivityInspection, Uncooperative: true}, "uncooperative"},
		{"sampling, Art. 14(3)", Activity{Type: ActivitySampling}, "sampling"},
		{"evidence preservation, Art. 14(3)", Activity{Type: ActivityEvidencePreservation}, "evidence_preservation"},
		{"ordered, Art. 14(4)", Activity{Type: ActivityInterview, RecordingOrdered: true}, "ordered"},
		{"several at once", Activity{Type: ActivityService, ServiceMethod: ServiceByLeaving, Uncooperative: true, RecordingOrdered: true},
			"service_by_leaving uncooperative ordered"},
	} {
		rules := RecordingRules(&tt.a)
		var codes []string
		for _, r := range rules {
			codes = append(codes, r.Code)
			if !strings.HasPrefix(r.Article, "第十二条") && !strings.HasPrefix(r.Article, "第十四条") || r.Label == "" {
				t.Errorf("%s: rule %+v lacks its article or label", tt.name, r)
			}
		}
		if got := strings.Join(codes, " "); got != tt.want {
			t.Errorf("%s: rules %q; want %q", tt.name, got, tt.want)
		}
		if RecordingMandatory(&tt.a) != (tt.want != "") {
			t.Errorf("%s: RecordingMandatory = %v", tt.name, RecordingMandatory(&tt.a))
		}
		if rules == nil {
			t.Errorf("%s: RecordingRules returned nil; want an empty slice so that JSON shows []", tt.name)
		}
	}
	if RuleServiceByLeaving.Article != "第十二条第（三）项" || RuleSampling.Article != "第十四条第（三）项" {
		t.Errorf("articles: %s, %s", RuleServiceByLeaving.Article, RuleSampling.Article)
	}
}

// TestEnumLabels holds every code to a Chinese label and a stable English
// code, so that a code added without a label is caught.
func TestEnumLabels(t *testing.T) {
	check := func(kind, code, label string, valid bool) {
		t.Helper()
		if !valid || label == code || label == "" || strings.ToLower(code) != code || strings.ContainsAny(code, " -") {
			t.Errorf("%s %q: label %q, valid %v", kind, code, label, valid)
		}
	}
	for _, k := range CaseKinds() {
		check("case kind", string(k), k.Label(), k.Valid())
	}
	for _, s := range CaseStages() {
		check("stage", string(s), s.Label(), s.Valid())
	}
	for _, a := range ActivityTypes() {
		check("activity type", string(a), a.Label(), a.Valid())
	}
	for _, m := range ServiceMethods() {
		check("service method", string(m), m.Label(), m.Valid())
	}
	for _, r := range PartyRoles() {
		check("party role", string(r), r.Label(), r.Valid())
	}
	for _, l := range UnitLevels() {
		check("unit level", string(l), l.Label(), l.Valid())
	}
	for _, a := range LinkActions() {
		check("link state", string(a.State()), a.State().Label(), a.Valid())
	}
	for code, label := range map[string]string{
		string(CasePenalty): "行政处罚", string(CaseHandling): "行政处理", string(CaseInspection): "行政检查", string(CaseMediation): "简易劳资纠纷调处",
	} {
		if got := CaseKind(code).Label(); got != label {
			t.Errorf("CaseKind(%q).Label() = %q; want %q", code, got, label)
		}
	}
	if CaseKind("nope").Valid() || CaseKind("nope").Label() != "nope" {
		t.Error("an unknown kind is valid or has a label")
	}
}

func validCase() *Case {
	filed := time.Date(2024, 5, 1, 9, 0, 0, 0, ChinaTime)
	return &Case{Number: "常人社监罚〔2024〕12号", Kind: CasePenalty, Title: "拖欠工资", UnitCode: "CZ-TN-1",
		Parties: []Party{{Role: PartyEmployer, Name: "某公司"}}, CaseDates: CaseDates{FiledAt: filed}}
}

// TestCaseValidate shows that each malformed field is named.
func TestCaseValidate(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 5, 1+d, 9, 0, 0, 0, ChinaTime) }
	if err := validCase().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		change func(c *Case)
		field  string
	}{
		{func(c *Case) { c.Number = "" }, "number"},
		{func(c *Case) { c.Number = " A-1" }, "number"},
		{func(c *Case) { c.Number = "A/1" }, "number"},
		{func(c *Case) { c.Number = strings.Repeat("号", MaxCaseNumberLen+1) }, "number"},
		{func(c *Case) { c.Kind = "penalty" }, "kind"},
		{func(c *Case) { c.Title = "" }, "title"},
		{func(c *Case) { c.Title = "a\x00b" }, "title"},
		{func(c *Case) { c.UnitCode = "" }, "unit_code"},
		{func(c *Case) { c.Parties = nil }, "parties"},
		{func(c *Case) { c.Parties[0].Role = "boss" }, "parties[0].role"},
		{func(c *Case) { c.Parties[0].Name = " " }, "parties[0].name"},
		{func(c *Case) { c.FiledAt = time.Time{} }, "filed_at"},
		{func(c *Case) { c.DecidedAt = day(-1) }, "decided_at"},
		{func(c *Case) { c.DecidedAt, c.ServedAt = day(3), day(2) }, "served_at"},
		{func(c *Case) { c.ExecutedAt = day(3) }, "executed_at needs decided_at"},
		{func(c *Case) { c.ArchivedAt = day(3) }, "archived_at needs closed_at"},
		{func(c *Case) { c.DecidedAt, c.ClosedAt = day(3), day(2) }, "closed_at"},
		{func(c *Case) { c.ClosedAt, c.ArchivedAt = day(3), day(2) }, "archived_at"},
	} {
		c := validCase()
		tt.change(c)
		err := c.Validate()
		if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("Validate of %+v = %v; want EINVALID naming %s", c, err, tt.field)
		}
	}
}

func TestCaseStage(t *testing.T) {
	d := time.Date(2024, 5, 1, 9, 0, 0, 0, ChinaTime)
	var dates CaseDates
	for _, tt := range []struct {
		set  *time.Time
		want CaseStage
	}{
		{&dates.FiledAt, StageFiled}, {&dates.DecidedAt, StageDecided}, {&dates.ServedAt, StageServed},
		{&dates.ExecutedAt, StageExecuted}, {&dates.ClosedAt, StageClosed}, {&dates.ArchivedAt, StageArchived},
	} {
		*tt.set = d
		if got := dates.Stage(); got != tt.want {
			t.Errorf("stage = %s; want %s", got, tt.want)
		}
	}
}

func TestCaseDatesMerge(t *testing.T) {
	d := func(n int) time.Time { return time.Date(2024, 5, n, 9, 0, 0, 0, ChinaTime) }
	have := CaseDates{FiledAt: d(1), DecidedAt: d(3)}
	got, err := have.Merge(CaseDates{DecidedAt: d(3).UTC(), ServedAt: d(4)})
	if err != nil || !got.ServedAt.Equal(d(4)) || !got.DecidedAt.Equal(d(3)) || !got.FiledAt.Equal(d(1)) {
		t.Fatalf("Merge = %+v, %v", got, err)
	}
	if _, err := have.Merge(CaseDates{DecidedAt: d(5)}); ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "decided_at") {
		t.Fatalf("Merge changing a recorded date = %v; want ECONFLICT naming decided_at", err)
	}
}

func validActivity() *Activity {
	start := time.Date(2024, 5, 2, 9, 0, 0, 0, ChinaTime)
	return &Activity{CaseID: 1, Type: ActivityInspection, Officers: []string{"100001", "100002"}, StartedAt: start, EndedAt: start.Add(time.Hour)}
}

func TestActivityValidate(t *testing.T) {
	if err := validActivity().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		change func(a *Activity)
		field  string
	}{
		{func(a *Activity) { a.CaseID = 0 }, "case_id"},
		{func(a *Activity) { a.Type = "" }, "type"},
		{func(a *Activity) { a.Type = ActivityService }, "service_method"},
		{func(a *Activity) { a.Type, a.ServiceMethod = ActivityService, "fax" }, "service_method"},
		{func(a *Activity) { a.ServiceMethod = ServiceByPost }, "service_method"},
		{func(a *Activity) { a.Officers = nil }, "officers"},
		{func(a *Activity) { a.Officers = []string{"100001", "12345"} }, "officers[1]"},
		{func(a *Activity) { a.Officers = []string{"100001", "100001"} }, "officers[1]"},
		{func(a *Activity) { a.StartedAt = time.Time{} }, "started_at"},
		{func(a *Activity) { a.EndedAt = time.Time{} }, "ended_at"},
		{func(a *Activity) { a.EndedAt = a.StartedAt.Add(-1) }, "ended_at"},
		{func(a *Activity) { a.EndedAt = a.StartedAt.Add(MaxActivitySpan + time.Second) }, "lasts"},
		{func(a *Activity) { a.Place = "a\nb" }, "place"},
		{func(a *Activity) { a.Note = strings.Repeat("x", 2001) }, "note"},
	} {
		a := validActivity()
		tt.change(a)
		err := a.Validate()
		if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("Validate = %v; want EINVALID naming %s", err, tt.field)
		}
	}
	a := validActivity()
	a.Note = "第一行\n第二行\t附注"
	if err := a.Validate(); err != nil {
		t.Errorf("a note with line breaks: %v", err)
	}
}

func TestUnitAndOfficerValidate(t *testing.T) {
	for _, tt := range []struct {
		u     Unit
		field string // "" for valid
	}{
		{Unit{Code: "CZ", Name: "市局", Level: UnitBureau}, ""},
		{Unit{Code: "CZ-TN", Name: "天宁", Level: UnitDistrict, ParentCode: "CZ"}, ""},
		{Unit{Code: "", Name: "x", Level: UnitBureau}, "code"},
		{Unit{Code: "CZ TN", Name: "x", Level: UnitBureau}, "code"},
		{Unit{Code: "CZ", Name: "", Level: UnitBureau}, "name"},
		{Unit{Code: "CZ", Name: "x", Level: "city"}, "level"},
		{Unit{Code: "CZ", Name: "x", Level: UnitBureau, ParentCode: "X"}, "parent_code"},
		{Unit{Code: "CZ-TN", Name: "x", Level: UnitDistrict}, "parent_code"},
		{Unit{Code: "CZ-TN", Name: "x", Level: UnitDistrict, ParentCode: "CZ-TN"}, "parent_code"},
	} {
		err := tt.u.Validate()
		if tt.field == "" && err != nil || tt.field != "" && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.field)) {
			t.Errorf("Validate(%+v) = %v; want %q", tt.u, err, tt.field)
		}
	}
	for _, tt := range []struct {
		o     Officer
		field string
	}{
		{Officer{No: "100001", CertificateNo: "JS3204001", Name: "张伟", UnitCode: "CZ"}, ""},
		{Officer{No: "10001", CertificateNo: "JS3204001", Name: "张伟", UnitCode: "CZ"}, "officer_no"},
		{Officer{No: "100001", CertificateNo: "JS 1", Name: "张伟", UnitCode: "CZ"}, "certificate_no"},
		{Officer{No: "100001", CertificateNo: "JS3204001", Name: "", UnitCode: "CZ"}, "name"},
		{Officer{No: "100001", CertificateNo: "JS3204001", Name: "张伟"}, "unit_code"},
	} {
		err := tt.o.Validate()
		if tt.field == "" && err != nil || tt.field != "" && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.field)) {
			t.Errorf("Validate(%+v) = %v; want %q", tt.o, err, tt.field)
		}
	}
}

func TestBuildUnitTree(t *testing.T) {
	units := []*Unit{
		{Code: "CZ-WJ-1", ParentCode: "CZ-WJ"}, {Code: "CZ"}, {Code: "CZ-TN", ParentCode: "CZ"},
		{Code: "CZ-WJ", ParentCode: "CZ"}, {Code: "ORPHAN", ParentCode: "GONE"},
	}
	var render func([]*UnitNode) string
	render = func(ns []*UnitNode) string {
		var parts []string
		for _, n := range ns {
			s := n.Code
			if len(n.Children) > 0 {
				s += "(" + render(n.Children) + ")"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	if got := render(BuildUnitTree(units)); got != "CZ(CZ-TN CZ-WJ(CZ-WJ-1)) ORPHAN" {
		t.Fatalf("tree = %s", got)
	}
	if tree := BuildUnitTree(nil); tree == nil || len(tree) != 0 {
		t.Fatalf("BuildUnitTree(nil) = %v; want an empty slice", tree)
	}
}

func TestCheckTransition(t *testing.T) {
	states := []LinkState{LinkNone, LinkSuggested, LinkConfirmed, LinkRejected, LinkUnlinked}
	want := map[LinkAction]string{
		// allowed from: none suggested confirmed rejected unlinked
		LinkSuggest: "yes no no no no",
		LinkConfirm: "yes yes no yes yes",
		LinkReject:  "yes yes no no yes",
		LinkUnlink:  "no no yes no no",
	}
	for action, w := range want {
		var got []string
		for _, s := range states {
			err := CheckTransition(s, action)
			if err != nil && ErrorCode(err) != ECONFLICT {
				t.Fatalf("CheckTransition(%q, %s) = %v; want ECONFLICT or nil", s, action, err)
			}
			got = append(got, map[bool]string{true: "yes", false: "no"}[err == nil])
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%s allowed from %v: %v; want %s", action, states, got, w)
		}
	}
}

func TestLinkEntryValidate(t *testing.T) {
	d, _, _ := DigestOf(strings.NewReader("x"))
	for _, tt := range []struct {
		e     LinkEntry
		field string
	}{
		{LinkEntry{ActivityID: 1, Digest: d, Action: LinkConfirm, By: "100001"}, ""},
		{LinkEntry{ActivityID: 1, Digest: d, Action: LinkReject, By: "100001", Reason: "不相关"}, ""},
		{LinkEntry{Digest: d, Action: LinkConfirm, By: "100001"}, "activity_id"},
		{LinkEntry{ActivityID: 1, Action: LinkConfirm, By: "100001"}, "blake3"},
		{LinkEntry{ActivityID: 1, Digest: d, Action: LinkSuggest, By: "100001"}, "suggest"},
		{LinkEntry{ActivityID: 1, Digest: d, Action: "approve", By: "100001"}, "action"},
		{LinkEntry{ActivityID: 1, Digest: d, Action: LinkConfirm, By: LinkSystem}, "by"},
		{LinkEntry{ActivityID: 1, Digest: d, Action: LinkReject, By: "100001"}, "reason"},
		{LinkEntry{ActivityID: 1, Digest: d, Action: LinkUnlink, By: "100001", Reason: "  "}, "reason"},
	} {
		err := tt.e.Validate()
		if tt.field == "" && err != nil || tt.field != "" && (ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.field)) {
			t.Errorf("Validate(%+v) = %v; want %q", tt.e, err, tt.field)
		}
	}
}

func TestClipOverlaps(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2024, 5, 2, h, m, 0, 0, ChinaTime) }
	from, to := at(9, 0), at(10, 0)
	for _, tt := range []struct {
		start    time.Time
		duration time.Duration
		want     bool
	}{
		{at(9, 30), time.Minute, true},
		{at(8, 0), 2 * time.Hour, true},           // covers the start
		{at(8, 0), time.Hour, false},              // ends as the window opens
		{at(8, 0), time.Hour + time.Second, true}, // a second into it
		{at(10, 0), time.Minute, true},            // starts as it closes
		{at(10, 0).Add(time.Millisecond), time.Minute, false},
		{at(9, 0), 0, true},   // unknown duration: a point
		{at(10, 0), 0, true},  //
		{at(8, 59), 0, false}, //
	} {
		c := &Clip{CorrectedStartedAt: tt.start, DurationMS: tt.duration.Milliseconds()}
		if got := ClipOverlaps(c, from, to); got != tt.want {
			t.Errorf("clip at %s for %s: overlaps = %v; want %v", tt.start.Format("15:04:05.000"), tt.duration, got, tt.want)
		}
	}
}

func TestSuggestionReason(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2024, 5, 2, h, 0, 0, 0, ChinaTime) }
	a := &Activity{Officers: []string{"100001"}, StartedAt: at(9), EndedAt: at(10)}
	history := []*RecorderAssignment{
		{DeviceSerial: "B000002", OfficerNo: "100001", From: at(0)},
		{DeviceSerial: "B000002", OfficerNo: "100009", From: at(9)},
	}
	FillAssignmentEnds(history)
	for _, tt := range []struct {
		c    Clip
		want string // in the reason; "" for no suggestion
	}{
		{Clip{OfficerNo: "100001", DeviceSerial: "A000001", CorrectedStartedAt: at(9)}, "officer 100001"},
		{Clip{OfficerNo: "100009", DeviceSerial: "B000002", CorrectedStartedAt: at(8)}, "recorder B000002 was assigned to officer 100001"},
		{Clip{OfficerNo: "100009", DeviceSerial: "B000002", CorrectedStartedAt: at(9)}, ""}, // reassigned at 09:00
		{Clip{OfficerNo: "100001", DeviceSerial: "A000001", CorrectedStartedAt: at(11)}, ""},
	} {
		reason, ok := SuggestionReason(a, &tt.c, history, at(8), at(10))
		if ok != (tt.want != "") || !strings.Contains(reason, tt.want) {
			t.Errorf("SuggestionReason(%+v) = %q, %v; want %q", tt.c, reason, ok, tt.want)
		}
	}
}

func TestMissingRecordingsOf(t *testing.T) {
	acts := []*Activity{
		{ID: 1, Type: ActivitySampling},
		{ID: 2, Type: ActivityInspection},
		{ID: 3, Type: ActivityService, ServiceMethod: ServiceAnnouncement},
		{ID: 4, Type: ActivityEvidencePreservation},
	}
	latest := []*LinkEntry{
		{ActivityID: 1, Action: LinkConfirm},
		{ActivityID: 3, Action: LinkSuggest},
		{ActivityID: 4, Action: LinkUnlink},
	}
	var ids []int64
	for _, a := range MissingRecordingsOf(acts, latest) {
		ids = append(ids, a.ID)
	}
	if fmt.Sprint(ids) != "[3 4]" {
		t.Fatalf("missing = %v; want [3 4]", ids)
	}
}
