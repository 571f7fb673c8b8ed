package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"evidock"
)

// UnitStore is what RunUnitService holds to its contract: the tree of
// units, the officers in it, and the assignment of recorders to them, with
// the audit log that records each unit's creation.
type UnitStore interface {
	evidock.UnitService
	evidock.OfficerService
	evidock.AuditService
}

// The tree SeedOrg builds: a city bureau with two districts of one
// enforcement unit each.
const (
	BureauCode    = "CZ"      // 常州市人社局
	DistrictTN    = "CZ-TN"   // 天宁区
	DistrictWJ    = "CZ-WJ"   // 武进区
	UnitTN1       = "CZ-TN-1" // 天宁区劳动保障监察大队
	UnitWJ1       = "CZ-WJ-1" // 武进区劳动保障监察大队
	OfficerZhang  = "100001"  // in UnitTN1
	OfficerWang   = "100002"  // in UnitTN1
	OfficerLi     = "100003"  // in UnitWJ1
	OfficerDistTN = "100004"  // in DistrictTN itself
)

// SeedOrg creates the tree of units above and the officers in it, failing
// tb if the store refuses any of them.
func SeedOrg(tb testing.TB, svc UnitStore) {
	tb.Helper()
	ctx := context.Background()
	for _, u := range []*evidock.Unit{
		{Code: BureauCode, Name: "常州市人力资源和社会保障局", Level: evidock.UnitBureau},
		{Code: DistrictTN, Name: "天宁区人社局", Level: evidock.UnitDistrict, ParentCode: BureauCode},
		{Code: DistrictWJ, Name: "武进区人社局", Level: evidock.UnitDistrict, ParentCode: BureauCode},
		{Code: UnitTN1, Name: "天宁区劳动保障监察大队", Level: evidock.UnitTeam, ParentCode: DistrictTN},
		{Code: UnitWJ1, Name: "武进区劳动保障监察大队", Level: evidock.UnitTeam, ParentCode: DistrictWJ},
	} {
		MustCreateUnit(tb, svc, u)
	}
	for _, o := range []*evidock.Officer{
		NewOfficer(OfficerZhang, "张伟", UnitTN1),
		NewOfficer(OfficerWang, "王芳", UnitTN1),
		NewOfficer(OfficerLi, "李强", UnitWJ1),
		NewOfficer(OfficerDistTN, "赵敏", DistrictTN),
	} {
		if err := svc.CreateOfficer(ctx, o); err != nil {
			tb.Fatalf("CreateOfficer %s: %v", o.No, err)
		}
	}
}

// MustCreateUnit stores u with an audit event of the test as the actor,
// failing tb on error.
func MustCreateUnit(tb testing.TB, svc evidock.UnitService, u *evidock.Unit) *evidock.Unit {
	tb.Helper()
	if err := svc.CreateUnit(context.Background(), u, NewUnitEvent()); err != nil {
		tb.Fatalf("CreateUnit %s: %v", u.Code, err)
	}
	return u
}

// NewUnitEvent returns the audit event of a unit created by a test: who and
// from where, allowed; the store fills in the unit.
func NewUnitEvent() *evidock.AuditEvent {
	return &evidock.AuditEvent{Actor: "system:test", Action: evidock.AuditCreateUnit, Reason: "storetest",
		RemoteAddr: "local", UserAgent: "storetest", Outcome: evidock.AuditAllowed}
}

// NewOfficer returns a valid officer whose certificate number derives from
// its officer number.
func NewOfficer(no, name, unit string) *evidock.Officer {
	return &evidock.Officer{No: no, CertificateNo: "JS32040" + no, Name: name, UnitCode: unit}
}

// RunUnitService runs the contract of evidock.UnitService and
// evidock.OfficerService against stores made by open, which must return a
// new empty store for every call.
func RunUnitService(t *testing.T, open func(t *testing.T) UnitStore) {
	ctx := context.Background()

	t.Run("Tree", func(t *testing.T) {
		svc := open(t)
		before := time.Now()
		SeedOrg(t, svc)
		units, err := svc.FindUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, u := range units {
			codes = append(codes, u.Code)
			if u.CreatedAt.Location().String() != evidock.ChinaTime.String() || u.CreatedAt.Nanosecond()%1000 != 0 ||
				u.CreatedAt.Before(before.Add(-time.Minute)) || u.CreatedAt.After(time.Now().Add(time.Minute)) {
				t.Errorf("unit %s created_at = %v; want about now, in China time, in whole microseconds", u.Code, u.CreatedAt)
			}
		}
		if want := "[CZ CZ-TN CZ-WJ CZ-TN-1 CZ-WJ-1]"; fmt.Sprint(codes) != want {
			t.Fatalf("FindUnits = %v; want %s, parents first", codes, want)
		}
		tree := evidock.BuildUnitTree(units)
		if got := treeString(tree); got != "CZ(CZ-TN(CZ-TN-1) CZ-WJ(CZ-WJ-1))" {
			t.Fatalf("tree = %s", got)
		}
		u, err := svc.FindUnit(ctx, UnitTN1)
		if err != nil || u.Name != "天宁区劳动保障监察大队" || u.Level != evidock.UnitTeam || u.ParentCode != DistrictTN {
			t.Fatalf("FindUnit = %+v, %v", u, err)
		}
		b, err := svc.FindUnit(ctx, BureauCode)
		if err != nil || b.ParentCode != "" || b.Level != evidock.UnitBureau {
			t.Fatalf("FindUnit(bureau) = %+v, %v", b, err)
		}
		if _, err := svc.FindUnit(ctx, "XX"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindUnit(unknown) = %v; want ENOTFOUND", err)
		}
	})

	t.Run("UnitInvalid", func(t *testing.T) {
		svc := open(t)
		if units, err := svc.FindUnits(ctx); err != nil || units == nil || len(units) != 0 {
			t.Fatalf("FindUnits of an empty store = %v, %v; want an empty slice", units, err)
		}
		SeedOrg(t, svc)
		for _, tt := range []struct {
			name string
			u    evidock.Unit
			code string
		}{
			{"unknown parent", evidock.Unit{Code: "X1", Name: "x", Level: evidock.UnitDistrict, ParentCode: "NOPE"}, evidock.EINVALID},
			{"unit under the bureau", evidock.Unit{Code: "X2", Name: "x", Level: evidock.UnitTeam, ParentCode: BureauCode}, evidock.EINVALID},
			{"district under a district", evidock.Unit{Code: "X3", Name: "x", Level: evidock.UnitDistrict, ParentCode: DistrictTN}, evidock.EINVALID},
			{"district without parent", evidock.Unit{Code: "X4", Name: "x", Level: evidock.UnitDistrict}, evidock.EINVALID},
			{"bureau with parent", evidock.Unit{Code: "X5", Name: "x", Level: evidock.UnitBureau, ParentCode: BureauCode}, evidock.EINVALID},
			{"bad code", evidock.Unit{Code: "a b", Name: "x", Level: evidock.UnitBureau}, evidock.EINVALID},
			{"no name", evidock.Unit{Code: "X6", Level: evidock.UnitBureau}, evidock.EINVALID},
			{"bad level", evidock.Unit{Code: "X7", Name: "x", Level: "team"}, evidock.EINVALID},
			{"taken", evidock.Unit{Code: UnitTN1, Name: "x", Level: evidock.UnitTeam, ParentCode: DistrictWJ}, evidock.ECONFLICT},
		} {
			u := tt.u
			ev := NewUnitEvent()
			if err := svc.CreateUnit(ctx, &u, ev); evidock.ErrorCode(err) != tt.code {
				t.Errorf("%s: CreateUnit = %v; want %s", tt.name, err, tt.code)
			}
			if ev.Seq != 0 {
				t.Errorf("%s: the refused unit's event was given seq %d", tt.name, ev.Seq)
			}
		}
		if err := svc.CreateUnit(ctx, &evidock.Unit{Code: "X8", Name: "x", Level: evidock.UnitBureau}, nil); evidock.ErrorCode(err) != evidock.EINTERNAL {
			t.Errorf("CreateUnit without an audit event = %v; want EINTERNAL", err)
		}
		if units, _ := svc.FindUnits(ctx); len(units) != 5 {
			t.Fatalf("%d units after the refusals; want the 5 seeded", len(units))
		}
		// A refused unit leaves no audit record: the log holds the five
		// seeded creations and nothing else.
		events, err := svc.FindAuditEvents(ctx, evidock.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 5 || events[4].Seq != 5 || events[4].Object != "unit:"+UnitWJ1 {
			t.Fatalf("audit after the refusals = %v; want only the 5 seeded create_unit events", eventObjects(events))
		}
		if u, _ := svc.FindUnit(ctx, UnitTN1); u.ParentCode != DistrictTN {
			t.Fatalf("a refused unit changed %s: %+v", UnitTN1, u)
		}
	})

	t.Run("UnitAudit", func(t *testing.T) {
		svc := open(t)
		SeedOrg(t, svc)
		before := time.Now()
		ev := &evidock.AuditEvent{Actor: "station:dock-01", Action: evidock.AuditCreateUnit, Reason: "station token",
			RemoteAddr: "10.0.0.7:5000", UserAgent: "evidock/1.0", Outcome: evidock.AuditAllowed}
		u := &evidock.Unit{Code: "CZ-TN-2", Name: "天宁区二中队", Level: evidock.UnitTeam, ParentCode: DistrictTN}
		if err := svc.CreateUnit(ctx, u, ev); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != 6 || ev.Object != "unit:CZ-TN-2" || ev.Unit != "CZ/CZ-TN/CZ-TN-2" {
			t.Fatalf("event filled in as seq %d, object %q, unit %q; want 6, unit:CZ-TN-2, CZ/CZ-TN/CZ-TN-2", ev.Seq, ev.Object, ev.Unit)
		}
		events, err := svc.FindAuditEvents(ctx, evidock.AuditFilter{Action: evidock.AuditCreateUnit})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			got = append(got, fmt.Sprintf("%d %s %s %s %s", e.Seq, e.Actor, e.Object, e.Unit, e.Outcome))
		}
		want := []string{
			"1 system:test unit:CZ CZ allowed",
			"2 system:test unit:CZ-TN CZ/CZ-TN allowed",
			"3 system:test unit:CZ-WJ CZ/CZ-WJ allowed",
			"4 system:test unit:CZ-TN-1 CZ/CZ-TN/CZ-TN-1 allowed",
			"5 system:test unit:CZ-WJ-1 CZ/CZ-WJ/CZ-WJ-1 allowed",
			"6 station:dock-01 unit:CZ-TN-2 CZ/CZ-TN/CZ-TN-2 allowed",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("create_unit events =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		e := events[5]
		if e.Action != evidock.AuditCreateUnit || e.Reason != "station token" || e.RemoteAddr != "10.0.0.7:5000" || e.UserAgent != "evidock/1.0" ||
			e.Hash != ev.Hash || e.PrevHash != events[4].Hash ||
			e.Time.Before(before.Add(-time.Minute)) || e.Time.After(time.Now().Add(time.Minute)) {
			t.Fatalf("stored event %+v; want what was given, chained after event 5, at about now", e)
		}
		// Those who read the audit of the district read the creation of
		// a unit below it; those of the other district do not.
		for _, tt := range []struct {
			scope string
			want  []int64
		}{
			{DistrictTN, []int64{2, 4, 6}},
			{DistrictWJ, []int64{3, 5}},
		} {
			path := BureauCode + "/" + tt.scope
			events, err := svc.FindAuditEvents(ctx, evidock.AuditFilter{Scopes: []string{path}})
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range events {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tt.want) {
				t.Errorf("audit within %s = %v; want %v", path, seqs, tt.want)
			}
		}
	})

	t.Run("Officers", func(t *testing.T) {
		svc := open(t)
		if os, err := svc.FindOfficers(ctx, evidock.OfficerFilter{}); err != nil || os == nil || len(os) != 0 {
			t.Fatalf("FindOfficers of an empty store = %v, %v; want an empty slice", os, err)
		}
		SeedOrg(t, svc)
		o, err := svc.FindOfficer(ctx, OfficerZhang)
		if err != nil {
			t.Fatal(err)
		}
		want := NewOfficer(OfficerZhang, "张伟", UnitTN1)
		if o.No != want.No || o.CertificateNo != want.CertificateNo || o.Name != want.Name || o.UnitCode != want.UnitCode ||
			o.CreatedAt.IsZero() || o.CreatedAt.Location().String() != evidock.ChinaTime.String() {
			t.Fatalf("FindOfficer = %+v; want %+v", o, want)
		}
		if _, err := svc.FindOfficer(ctx, "999999"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindOfficer(unknown) = %v; want ENOTFOUND", err)
		}
		for _, tt := range []struct {
			name string
			o    *evidock.Officer
			code string
		}{
			{"number taken", &evidock.Officer{No: OfficerZhang, CertificateNo: "NEW1", Name: "x", UnitCode: UnitTN1}, evidock.ECONFLICT},
			{"certificate taken", &evidock.Officer{No: "200001", CertificateNo: "JS32040" + OfficerWang, Name: "x", UnitCode: UnitTN1}, evidock.ECONFLICT},
			{"unknown unit", &evidock.Officer{No: "200002", CertificateNo: "NEW2", Name: "x", UnitCode: "NOPE"}, evidock.EINVALID},
			{"short number", &evidock.Officer{No: "12345", CertificateNo: "NEW3", Name: "x", UnitCode: UnitTN1}, evidock.EINVALID},
			{"no certificate", &evidock.Officer{No: "200003", Name: "x", UnitCode: UnitTN1}, evidock.EINVALID},
			{"no name", &evidock.Officer{No: "200004", CertificateNo: "NEW4", UnitCode: UnitTN1}, evidock.EINVALID},
		} {
			if err := svc.CreateOfficer(ctx, tt.o); evidock.ErrorCode(err) != tt.code {
				t.Errorf("%s: CreateOfficer = %v; want %s", tt.name, err, tt.code)
			}
		}
		for _, tt := range []struct {
			unit string
			want string
		}{
			{"", "[100001 100002 100003 100004]"},
			{BureauCode, "[100001 100002 100003 100004]"},
			{DistrictTN, "[100001 100002 100004]"},
			{UnitTN1, "[100001 100002]"},
			{UnitWJ1, "[100003]"},
		} {
			os, err := svc.FindOfficers(ctx, evidock.OfficerFilter{UnitCode: tt.unit})
			if err != nil {
				t.Fatal(err)
			}
			var nos []string
			for _, o := range os {
				nos = append(nos, o.No)
			}
			if fmt.Sprint(nos) != tt.want {
				t.Errorf("FindOfficers(unit %q) = %v; want %s", tt.unit, nos, tt.want)
			}
		}
		if _, err := svc.FindOfficers(ctx, evidock.OfficerFilter{UnitCode: "NOPE"}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("FindOfficers(unknown unit) = %v; want ENOTFOUND", err)
		}
	})

	t.Run("Assignments", func(t *testing.T) {
		svc := open(t)
		SeedOrg(t, svc)
		if h, err := svc.FindRecorderAssignments(ctx, "A000001"); err != nil || h == nil || len(h) != 0 {
			t.Fatalf("history of an unassigned recorder = %v, %v; want an empty slice", h, err)
		}
		// Nanoseconds and UTC in, microseconds and China time out.
		first := time.Date(2024, 5, 1, 0, 30, 0, 123_456_789, time.UTC)
		steps := []*evidock.RecorderAssignment{
			{DeviceSerial: "A000001", OfficerNo: OfficerZhang, From: first, AssignedBy: "装备管理员", Reason: "新配发"},
			{DeviceSerial: "A000001", OfficerNo: OfficerWang, From: day(3, 8), AssignedBy: "装备管理员"},
			{DeviceSerial: "A000001", OfficerNo: "", From: day(9, 17), AssignedBy: "装备管理员", Reason: "送修"},
			{DeviceSerial: "B000002", OfficerNo: OfficerZhang, From: day(2, 8), AssignedBy: "装备管理员"},
		}
		for _, a := range steps {
			if err := svc.AssignRecorder(ctx, a); err != nil {
				t.Fatalf("AssignRecorder %+v: %v", a, err)
			}
			if a.ID == 0 || a.RecordedAt.IsZero() || a.From.Location().String() != evidock.ChinaTime.String() {
				t.Fatalf("AssignRecorder did not fill in the assignment: %+v", a)
			}
		}
		if want := time.Date(2024, 5, 1, 8, 30, 0, 123_456_000, evidock.ChinaTime); !steps[0].From.Equal(want) {
			t.Fatalf("from = %v; want %v (microseconds)", steps[0].From, want)
		}
		h, err := svc.FindRecorderAssignments(ctx, "A000001")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range h {
			to := "-"
			if !a.To.IsZero() {
				to = a.To.Format("01-02T15")
			}
			got = append(got, fmt.Sprintf("%s %s..%s %s", orNone(a.OfficerNo), a.From.Format("01-02T15"), to, a.Reason))
		}
		want := []string{"100001 05-01T08..05-04T08 新配发", "100002 05-04T08..05-10T17 ", "none 05-10T17..- 送修"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("history = %q; want %q", got, want)
		}
		if !h[1].Covers(day(5, 0)) || h[1].Covers(day(9, 17)) || !h[2].Covers(day(400, 0)) {
			t.Fatalf("Covers is wrong for %+v", h)
		}
		for _, tt := range []struct {
			name string
			a    *evidock.RecorderAssignment
			code string
		}{
			{"same from", &evidock.RecorderAssignment{DeviceSerial: "A000001", OfficerNo: OfficerLi, From: day(9, 17), AssignedBy: "x"}, evidock.ECONFLICT},
			{"earlier", &evidock.RecorderAssignment{DeviceSerial: "A000001", OfficerNo: OfficerLi, From: day(5, 0), AssignedBy: "x"}, evidock.ECONFLICT},
			{"unknown officer", &evidock.RecorderAssignment{DeviceSerial: "A000001", OfficerNo: "999999", From: day(20, 0), AssignedBy: "x"}, evidock.EINVALID},
			{"bad serial", &evidock.RecorderAssignment{DeviceSerial: "a1", OfficerNo: OfficerLi, From: day(20, 0), AssignedBy: "x"}, evidock.EINVALID},
			{"no from", &evidock.RecorderAssignment{DeviceSerial: "A000001", OfficerNo: OfficerLi, AssignedBy: "x"}, evidock.EINVALID},
			{"no one assigning", &evidock.RecorderAssignment{DeviceSerial: "A000001", OfficerNo: OfficerLi, From: day(20, 0)}, evidock.EINVALID},
		} {
			if err := svc.AssignRecorder(ctx, tt.a); evidock.ErrorCode(err) != tt.code {
				t.Errorf("%s: AssignRecorder = %v; want %s", tt.name, err, tt.code)
			}
		}
		if h2, _ := svc.FindRecorderAssignments(ctx, "A000001"); len(h2) != 3 {
			t.Fatalf("history after refusals has %d entries; want 3", len(h2))
		}
		if h, _ := svc.FindRecorderAssignments(ctx, "B000002"); len(h) != 1 || !h[0].To.IsZero() {
			t.Fatalf("history of B000002 = %+v; want one current assignment", h)
		}
	})
}

// RunUnitAuditAtomic shows that a unit whose audit event cannot be
// appended is not created: the event goes in the unit's transaction. exec
// runs a statement on the store's database; refuseAudit are the statements
// that make it refuse every new audit event (a trigger), which no store
// method can do.
func RunUnitAuditAtomic(t *testing.T, s UnitStore, exec func(stmt string) error, refuseAudit ...string) {
	ctx := context.Background()
	SeedOrg(t, s)
	for _, stmt := range refuseAudit {
		if err := exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	u := &evidock.Unit{Code: "CZ-TN-2", Name: "天宁区二中队", Level: evidock.UnitTeam, ParentCode: DistrictTN}
	if err := s.CreateUnit(ctx, u, NewUnitEvent()); err == nil {
		t.Fatal("CreateUnit succeeded although its audit event was refused")
	}
	if got, err := s.FindUnit(ctx, u.Code); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("after the refused audit event FindUnit = %+v, %v; want ENOTFOUND: a unit without its audit record", got, err)
	}
	if events, err := s.FindAuditEvents(ctx, evidock.AuditFilter{}); err != nil || len(events) != 5 {
		t.Fatalf("audit after the refused unit = %v, %v; want the 5 seeded events", eventObjects(events), err)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// treeString renders a unit tree as CODE(CHILD CHILD) for comparison.
func treeString(nodes []*evidock.UnitNode) string {
	s := ""
	for i, n := range nodes {
		if i > 0 {
			s += " "
		}
		s += n.Code
		if len(n.Children) > 0 {
			s += "(" + treeString(n.Children) + ")"
		}
	}
	return s
}
