package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"evidock"
)

// CaseStore is what RunCaseService holds to its contract: cases and their
// activities, in a tree of units with officers.
type CaseStore interface {
	UnitStore
	evidock.CaseService
}

// NewCase returns a valid administrative penalty case of unit, filed at
// filed, with one party of each side.
func NewCase(number, unit string, filed time.Time) *evidock.Case {
	return &evidock.Case{
		Number:   number,
		Kind:     evidock.CasePenalty,
		Title:    "拖欠劳动者工资案",
		UnitCode: unit,
		Parties: []evidock.Party{
			{Role: evidock.PartyEmployer, Name: "常州某某机械有限公司"},
			{Role: evidock.PartyWorker, Name: "陈某"},
		},
		CaseDates: evidock.CaseDates{FiledAt: filed},
	}
}

// NewActivity returns a valid activity of the case from start to end with
// the officers present.
func NewActivity(caseID int64, typ evidock.ActivityType, start, end time.Time, officers ...string) *evidock.Activity {
	a := &evidock.Activity{CaseID: caseID, Type: typ, Officers: officers, StartedAt: start, EndedAt: end, Place: "常州市天宁区某路1号"}
	if typ == evidock.ActivityService {
		a.ServiceMethod = evidock.ServiceDirect
	}
	return a
}

// MustCreateCase creates c in svc, failing tb if it cannot.
func MustCreateCase(tb testing.TB, svc evidock.CaseService, c *evidock.Case) *evidock.Case {
	tb.Helper()
	if err := svc.CreateCase(context.Background(), c); err != nil {
		tb.Fatalf("CreateCase %s: %v", c.Number, err)
	}
	return c
}

// MustCreateActivity creates a in svc, failing tb if it cannot.
func MustCreateActivity(tb testing.TB, svc evidock.CaseService, a *evidock.Activity) *evidock.Activity {
	tb.Helper()
	if err := svc.CreateActivity(context.Background(), a); err != nil {
		tb.Fatalf("CreateActivity: %v", err)
	}
	return a
}

// RunCaseService runs the contract of evidock.CaseService against stores
// made by open, which must return a new empty store for every call.
func RunCaseService(t *testing.T, open func(t *testing.T) CaseStore) {
	ctx := context.Background()

	t.Run("CreateAndFind", func(t *testing.T) {
		svc := open(t)
		SeedOrg(t, svc)
		c := NewCase("常人社监罚〔2024〕12号", UnitTN1, time.Date(2024, 5, 1, 1, 30, 0, 123_456_789, time.UTC))
		c.DecidedAt = day(20, 10)
		c.Parties = append(c.Parties, evidock.Party{Role: evidock.PartyOther, Name: "某劳务派遣公司"})
		before := time.Now()
		if err := svc.CreateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || c.Stage != evidock.StageDecided || c.CreatedAt.Before(before.Add(-time.Minute)) {
			t.Fatalf("CreateCase did not fill in the case: %+v", c)
		}
		if want := time.Date(2024, 5, 1, 9, 30, 0, 123_456_000, evidock.ChinaTime); !c.FiledAt.Equal(want) ||
			c.FiledAt.Location().String() != evidock.ChinaTime.String() {
			t.Fatalf("filed_at = %v; want %v, in China time", c.FiledAt, want)
		}
		got, err := svc.FindCase(ctx, "常人社监罚〔2024〕12号")
		if err != nil {
			t.Fatal(err)
		}
		assertCase(t, "found", got, c)
		if len(got.Parties) != 3 || got.Parties[2].Name != "某劳务派遣公司" || got.Parties[0].Role != evidock.PartyEmployer {
			t.Fatalf("parties = %+v; want them in the order given", got.Parties)
		}
		if _, err := svc.FindCase(ctx, "no such case"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindCase(unknown) = %v; want ENOTFOUND", err)
		}
	})

	t.Run("CreateInvalid", func(t *testing.T) {
		svc := open(t)
		SeedOrg(t, svc)
		MustCreateCase(t, svc, NewCase("A-1", UnitTN1, day(0, 9)))
		for _, tt := range []struct {
			name   string
			change func(c *evidock.Case)
			code   string
		}{
			{"number taken", func(c *evidock.Case) { c.Number = "A-1" }, evidock.ECONFLICT},
			{"unknown unit", func(c *evidock.Case) { c.UnitCode = "NOPE" }, evidock.EINVALID},
			{"unknown kind", func(c *evidock.Case) { c.Kind = "penalty" }, evidock.EINVALID},
			{"no parties", func(c *evidock.Case) { c.Parties = nil }, evidock.EINVALID},
			{"bad party role", func(c *evidock.Case) { c.Parties[0].Role = "boss" }, evidock.EINVALID},
			{"no filing", func(c *evidock.Case) { c.FiledAt = time.Time{} }, evidock.EINVALID},
			{"decided before filed", func(c *evidock.Case) { c.DecidedAt = day(-1, 9) }, evidock.EINVALID},
			{"archived while open", func(c *evidock.Case) { c.ArchivedAt = day(9, 9) }, evidock.EINVALID},
			{"slash in number", func(c *evidock.Case) { c.Number = "A/2" }, evidock.EINVALID},
		} {
			c := NewCase("A-2", UnitTN1, day(0, 9))
			tt.change(c)
			if err := svc.CreateCase(ctx, c); evidock.ErrorCode(err) != tt.code {
				t.Errorf("%s: CreateCase = %v; want %s", tt.name, err, tt.code)
			}
		}
		if _, total, err := svc.FindCases(ctx, evidock.CaseFilter{}); err != nil || total != 1 {
			t.Fatalf("%d cases after the refusals (%v); want 1", total, err)
		}
	})

	t.Run("RecordDates", func(t *testing.T) {
		svc := open(t)
		SeedOrg(t, svc)
		c := MustCreateCase(t, svc, NewCase("A-1", UnitTN1, day(0, 9)))
		steps := []struct {
			dates evidock.CaseDates
			stage evidock.CaseStage
			code  string
		}{
			{evidock.CaseDates{ExecutedAt: day(5, 9)}, "", evidock.EINVALID}, // nothing to execute yet
			{evidock.CaseDates{DecidedAt: day(3, 9)}, evidock.StageDecided, ""},
			{evidock.CaseDates{DecidedAt: day(3, 9)}, evidock.StageDecided, ""},      // the same again
			{evidock.CaseDates{DecidedAt: day(4, 9)}, "", evidock.ECONFLICT},         // never changed
			{evidock.CaseDates{FiledAt: day(0, 10)}, "", evidock.ECONFLICT},          // nor the filing
			{evidock.CaseDates{ServedAt: day(2, 9)}, "", evidock.EINVALID},           // before the decision
			{evidock.CaseDates{ServedAt: day(4, 9).Add(7)}, evidock.StageServed, ""}, // nanoseconds dropped
			{evidock.CaseDates{ServedAt: day(4, 9)}, evidock.StageServed, ""},        // equal as stored
			{evidock.CaseDates{ArchivedAt: day(30, 9)}, "", evidock.EINVALID},        // not closed
			{evidock.CaseDates{ExecutedAt: day(10, 9)}, evidock.StageExecuted, ""},   //
			{evidock.CaseDates{ClosedAt: day(9, 9)}, "", evidock.EINVALID},           // before the execution
			{evidock.CaseDates{ClosedAt: day(12, 9), ArchivedAt: day(15, 9)}, evidock.StageArchived, ""},
		}
		for i, s := range steps {
			got, err := svc.RecordCaseDates(ctx, c.Number, s.dates)
			if evidock.ErrorCode(err) != s.code {
				t.Fatalf("step %d: RecordCaseDates(%+v) = %v; want %q", i, s.dates, err, s.code)
			}
			if err == nil && got.Stage != s.stage {
				t.Fatalf("step %d: stage = %s; want %s", i, got.Stage, s.stage)
			}
		}
		got, err := svc.FindCase(ctx, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		want := evidock.CaseDates{FiledAt: day(0, 9), DecidedAt: day(3, 9), ServedAt: day(4, 9), ExecutedAt: day(10, 9), ClosedAt: day(12, 9), ArchivedAt: day(15, 9)}
		if !sameDates(got.CaseDates, want) || got.Stage != evidock.StageArchived {
			t.Fatalf("dates = %+v (%s); want %+v", got.CaseDates, got.Stage, want)
		}
		if _, err := svc.RecordCaseDates(ctx, "nope", evidock.CaseDates{DecidedAt: day(1, 1)}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("RecordCaseDates(unknown) = %v; want ENOTFOUND", err)
		}
	})

	t.Run("FindCases", func(t *testing.T) {
		svc := open(t)
		SeedOrg(t, svc)
		if cs, total, err := svc.FindCases(ctx, evidock.CaseFilter{}); err != nil || cs == nil || len(cs) != 0 || total != 0 {
			t.Fatalf("FindCases of an empty store = %v, %d, %v; want an empty slice", cs, total, err)
		}
		mk := func(number, unit string, kind evidock.CaseKind, filed time.Time, dates evidock.CaseDates) *evidock.Case {
			c := NewCase(number, unit, filed)
			c.Kind = kind
			dates.FiledAt = filed
			c.CaseDates = dates
			return MustCreateCase(t, svc, c)
		}
		c1 := mk("TN-1", UnitTN1, evidock.CasePenalty, day(0, 9), evidock.CaseDates{})
		mk("TN-2", UnitTN1, evidock.CaseInspection, day(1, 9), evidock.CaseDates{ClosedAt: day(2, 9)})
		mk("TN-3", DistrictTN, evidock.CaseMediation, day(2, 9), evidock.CaseDates{})
		mk("WJ-1", UnitWJ1, evidock.CasePenalty, day(3, 9), evidock.CaseDates{DecidedAt: day(4, 9)})
		MustCreateActivity(t, svc, NewActivity(c1.ID, evidock.ActivityInspection, day(0, 10), day(0, 11), OfficerLi))
		for _, tt := range []struct {
			name  string
			f     evidock.CaseFilter
			want  string
			total int
		}{
			{"all, latest first", evidock.CaseFilter{}, "[WJ-1 TN-3 TN-2 TN-1]", 4},
			{"bureau", evidock.CaseFilter{UnitCode: BureauCode}, "[WJ-1 TN-3 TN-2 TN-1]", 4},
			{"district and below", evidock.CaseFilter{UnitCode: DistrictTN}, "[TN-3 TN-2 TN-1]", 3},
			{"unit", evidock.CaseFilter{UnitCode: UnitTN1}, "[TN-2 TN-1]", 2},
			{"kind", evidock.CaseFilter{Kind: evidock.CasePenalty}, "[WJ-1 TN-1]", 2},
			{"stage filed", evidock.CaseFilter{Stage: evidock.StageFiled}, "[TN-3 TN-1]", 2},
			{"stage closed", evidock.CaseFilter{Stage: evidock.StageClosed}, "[TN-2]", 1},
			{"stage decided", evidock.CaseFilter{Stage: evidock.StageDecided}, "[WJ-1]", 1},
			{"officer", evidock.CaseFilter{OfficerNo: OfficerLi}, "[TN-1]", 1},
			{"filed range", evidock.CaseFilter{FiledFrom: day(1, 9), FiledTo: day(3, 9)}, "[TN-3 TN-2]", 2},
			{"filed from, with nanoseconds", evidock.CaseFilter{FiledFrom: day(1, 9).Add(1)}, "[WJ-1 TN-3]", 2},
			{"page", evidock.CaseFilter{Limit: 2, Offset: 1}, "[TN-3 TN-2]", 4},
			{"combined", evidock.CaseFilter{UnitCode: DistrictTN, Kind: evidock.CaseInspection, Stage: evidock.StageClosed}, "[TN-2]", 1},
			{"nothing", evidock.CaseFilter{UnitCode: UnitWJ1, Kind: evidock.CaseMediation}, "[]", 0},
		} {
			cs, total, err := svc.FindCases(ctx, tt.f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var nums []string
			for _, c := range cs {
				nums = append(nums, c.Number)
				if len(c.Parties) != 2 {
					t.Errorf("%s: case %s listed with parties %+v", tt.name, c.Number, c.Parties)
				}
			}
			if fmt.Sprint(nums) != tt.want && !(len(nums) == 0 && tt.want == "[]") || total != tt.total {
				t.Errorf("%s: FindCases = %v (total %d); want %s (total %d)", tt.name, nums, total, tt.want, tt.total)
			}
		}
		for _, f := range []evidock.CaseFilter{
			{Kind: "penalty"}, {Stage: "open"}, {OfficerNo: "1"}, {Offset: -1}, {Limit: evidock.MaxCaseLimit + 1},
			{FiledFrom: day(2, 0), FiledTo: day(1, 0)},
		} {
			if _, _, err := svc.FindCases(ctx, f); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Errorf("FindCases(%+v) = %v; want EINVALID", f, err)
			}
		}
		if _, _, err := svc.FindCases(ctx, evidock.CaseFilter{UnitCode: "NOPE"}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Errorf("FindCases(unknown unit) = %v; want ENOTFOUND", err)
		}
	})

	t.Run("Activities", func(t *testing.T) {
		svc := open(t)
		SeedOrg(t, svc)
		c := MustCreateCase(t, svc, NewCase("A-1", UnitTN1, day(0, 9)))
		other := MustCreateCase(t, svc, NewCase("A-2", UnitTN1, day(0, 9)))
		if as, err := svc.FindActivities(ctx, c.ID); err != nil || as == nil || len(as) != 0 {
			t.Fatalf("FindActivities of a case without any = %v, %v; want an empty slice", as, err)
		}
		leave := NewActivity(c.ID, evidock.ActivityService, day(5, 14), day(5, 15), OfficerWang, OfficerZhang)
		leave.ServiceMethod, leave.Note = evidock.ServiceByLeaving, "当事人拒收\n见证人：社区工作人员"
		inspect := NewActivity(c.ID, evidock.ActivityInspection, time.Date(2024, 5, 2, 1, 0, 0, 999, time.UTC), day(1, 11), OfficerZhang, OfficerWang)
		inspect.Uncooperative = true
		interview := NewActivity(c.ID, evidock.ActivityInterview, day(3, 9), day(3, 10), OfficerZhang)
		for _, a := range []*evidock.Activity{leave, inspect, interview} {
			MustCreateActivity(t, svc, a)
			if a.ID == 0 || a.CreatedAt.IsZero() {
				t.Fatalf("CreateActivity did not fill in the activity: %+v", a)
			}
		}
		MustCreateActivity(t, svc, NewActivity(other.ID, evidock.ActivitySampling, day(0, 9), day(0, 10), OfficerLi))
		if fmt.Sprint(leave.Officers) != "[100001 100002]" {
			t.Fatalf("officers = %v; want them in number order", leave.Officers)
		}
		if !inspect.StartedAt.Equal(day(1, 9)) || inspect.StartedAt.Location().String() != evidock.ChinaTime.String() {
			t.Fatalf("started_at = %v; want %v (microseconds, China time)", inspect.StartedAt, day(1, 9))
		}
		for _, tt := range []struct {
			a     *evidock.Activity
			rules string
		}{
			{leave, "[service_by_leaving]"},
			{inspect, "[uncooperative]"},
			{interview, "[]"},
		} {
			if codes := ruleCodes(tt.a.RecordingRules); codes != tt.rules || tt.a.RecordingMandatory != (tt.rules != "[]") {
				t.Errorf("activity %s: rules %s, mandatory %v; want %s", tt.a.Type, codes, tt.a.RecordingMandatory, tt.rules)
			}
		}
		got, err := svc.FindActivity(ctx, leave.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, leave) {
			t.Fatalf("FindActivity =\n%+v\nwant\n%+v", got, leave)
		}
		as, err := svc.FindActivities(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, a := range as {
			order = append(order, a.ID)
		}
		if fmt.Sprint(order) != fmt.Sprint([]int64{inspect.ID, interview.ID, leave.ID}) {
			t.Fatalf("FindActivities = %v; want by start time", order)
		}
		if _, err := svc.FindActivity(ctx, 999999); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindActivity(unknown) = %v; want ENOTFOUND", err)
		}
		if _, err := svc.FindActivities(ctx, 999999); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindActivities(unknown case) = %v; want ENOTFOUND", err)
		}
		for _, tt := range []struct {
			name   string
			change func(a *evidock.Activity)
			code   string
		}{
			{"unknown case", func(a *evidock.Activity) { a.CaseID = 999999 }, evidock.ENOTFOUND},
			{"unknown officer", func(a *evidock.Activity) { a.Officers = []string{OfficerZhang, "999999"} }, evidock.EINVALID},
			{"no officers", func(a *evidock.Activity) { a.Officers = nil }, evidock.EINVALID},
			{"officer twice", func(a *evidock.Activity) { a.Officers = []string{OfficerZhang, OfficerZhang} }, evidock.EINVALID},
			{"service without method", func(a *evidock.Activity) { a.Type = evidock.ActivityService }, evidock.EINVALID},
			{"method without service", func(a *evidock.Activity) { a.ServiceMethod = evidock.ServiceByPost }, evidock.EINVALID},
			{"ends before it starts", func(a *evidock.Activity) { a.EndedAt = a.StartedAt.Add(-time.Second) }, evidock.EINVALID},
			{"bad type", func(a *evidock.Activity) { a.Type = "raid" }, evidock.EINVALID},
		} {
			a := NewActivity(c.ID, evidock.ActivityInspection, day(6, 9), day(6, 10), OfficerZhang)
			tt.change(a)
			if err := svc.CreateActivity(ctx, a); evidock.ErrorCode(err) != tt.code {
				t.Errorf("%s: CreateActivity = %v; want %s", tt.name, err, tt.code)
			}
		}
		if as, _ := svc.FindActivities(ctx, c.ID); len(as) != 3 {
			t.Fatalf("%d activities after the refusals; want 3", len(as))
		}
	})
}

// RunCaseHistoryKept shows that the database itself keeps the link
// history, the recorder assignments and the recorded case dates, and never
// deletes a case, whatever statement is tried; recording a date the case
// lacks is the one change allowed. exec runs a statement on s's database;
// more returns the refusals only that database can be asked for, given the
// IDs of the clip and the activity the test links.
func RunCaseHistoryKept(t *testing.T, s LinkStore, exec func(stmt string) error, more func(clipID, activityID int64) []Refusal) {
	ctx := context.Background()
	SeedOrg(t, s)
	c := MustCreateCase(t, s, NewCase("A-1", UnitTN1, time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
	if _, err := s.RecordCaseDates(ctx, c.Number, evidock.CaseDates{DecidedAt: time.Date(2024, 5, 3, 9, 0, 0, 0, evidock.ChinaTime)}); err != nil {
		t.Fatal(err)
	}
	a := MustCreateActivity(t, s, NewActivity(c.ID, evidock.ActivityInspection,
		time.Date(2024, 5, 2, 9, 0, 0, 0, evidock.ChinaTime), time.Date(2024, 5, 2, 10, 0, 0, 0, evidock.ChinaTime), OfficerZhang))
	clip := NewClip([]byte("x"), "A000001", OfficerZhang, time.Date(2024, 5, 2, 9, 5, 0, 0, evidock.ChinaTime), 1)
	if _, err := s.RegisterClip(ctx, clip); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SuggestLinks(ctx, a.ID, evidock.DefaultSuggestMargin); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignRecorder(ctx, &evidock.RecorderAssignment{DeviceSerial: "A000001", OfficerNo: OfficerZhang,
		From: time.Date(2024, 5, 1, 8, 0, 0, 0, evidock.ChinaTime), AssignedBy: "x"}); err != nil {
		t.Fatal(err)
	}
	// Times are written as SQLite stores them, which PostgreSQL reads too.
	assertRefused(t, exec, append([]Refusal{
		{"UPDATE clip_links SET action = 'confirm', actor = '100001'", "never edited"},
		{"DELETE FROM clip_links", "never deleted"},
		{"UPDATE recorder_assignments SET officer_no = NULL", "never edited"},
		{"DELETE FROM recorder_assignments", "never deleted"},
		{"DELETE FROM cases", "never deleted"},
		{"UPDATE cases SET decided_at = NULL", "Art. 20"},
		{"UPDATE cases SET decided_at = '2024-05-04T01:00:00.000000000Z'", "Art. 20"},
		{"UPDATE cases SET number = 'B-1'", "Art. 20"},
		{"UPDATE cases SET filed_at = '2024-04-01T01:00:00.000000000Z'", "Art. 20"},
	}, more(clip.ID, a.ID)...))
	if err := exec("UPDATE cases SET served_at = '2024-05-04T01:00:00.000000000Z'"); err != nil {
		t.Fatalf("recording a new date: %v", err)
	}
	if h, err := s.LinkHistory(ctx, evidock.LinkFilter{CaseID: c.ID}); err != nil || len(h) != 1 || h[0].Action != evidock.LinkSuggest {
		t.Fatalf("history after the attempts = %+v, %v", h, err)
	}
}

// ruleCodes lists the codes of rules, for comparison.
func ruleCodes(rules []evidock.RecordingRule) string {
	codes := []string{}
	for _, r := range rules {
		codes = append(codes, r.Code)
	}
	return fmt.Sprint(codes)
}

// sameDates reports whether two sets of case dates are the same instants.
func sameDates(a, b evidock.CaseDates) bool {
	return a.FiledAt.Equal(b.FiledAt) && a.DecidedAt.Equal(b.DecidedAt) && a.ServedAt.Equal(b.ServedAt) &&
		a.ExecutedAt.Equal(b.ExecutedAt) && a.ClosedAt.Equal(b.ClosedAt) && a.ArchivedAt.Equal(b.ArchivedAt)
}

// assertCase fails t unless got is want, times compared as instants.
func assertCase(t *testing.T, what string, got, want *evidock.Case) {
	t.Helper()
	if got.ID != want.ID || got.Number != want.Number || got.Kind != want.Kind || got.Title != want.Title ||
		got.UnitCode != want.UnitCode || !reflect.DeepEqual(got.Parties, want.Parties) ||
		!sameDates(got.CaseDates, want.CaseDates) || got.Stage != want.Stage || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("%s case =\n%+v\nwant\n%+v", what, got, want)
	}
}
