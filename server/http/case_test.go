package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server"
	"evidock/server/auth"
	evhttp "evidock/server/http"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// caseEnv is a case server on a real SQLite database, with the units and
// officers of storetest.SeedOrg, one case with one inspection 09:00 to
// 10:00 on 2 May 2024 by Zhang and Wang, and clips around it. Clips go
// straight into the database: linking is about the registry, not about
// verifying footage.
type caseEnv struct {
	db     *sqlite.DB
	ts     *httptest.Server
	token  string
	client *evhttp.Client
	kase   *evidock.Case
	act    *evidock.Activity
	clips  []*evidock.Clip // 09:05 Zhang, 09:40 Wang, 12:00 Zhang

	sessions map[string]string // login → session token
}

const caseNumber = "常人社监罚〔2024〕7号"

func newCaseEnv(t *testing.T) *caseEnv {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "evidock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	storetest.SeedOrg(t, db)
	e := &caseEnv{db: db, token: token}
	e.kase = storetest.MustCreateCase(t, db, storetest.NewCase(caseNumber, storetest.UnitTN1, time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
	e.act = storetest.MustCreateActivity(t, db, storetest.NewActivity(e.kase.ID, evidock.ActivityInspection,
		at(9, 0), at(10, 0), storetest.OfficerZhang, storetest.OfficerWang))
	for i, c := range []*evidock.Clip{
		storetest.NewClip([]byte("zhang 09:05"), "A000001", storetest.OfficerZhang, at(9, 5), 1),
		storetest.NewClip([]byte("wang 09:40"), "B000002", storetest.OfficerWang, at(9, 40), 1),
		storetest.NewClip([]byte("zhang 12:00"), "A000001", storetest.OfficerZhang, at(12, 0), 2),
	} {
		if _, err := db.RegisterClip(ctx, c); err != nil {
			t.Fatalf("clip %d: %v", i, err)
		}
		e.clips = append(e.clips, c)
	}
	// Users for the link changes, which are an officer's: the officers'
	// roles are held in unit paths of the seeded tree.
	for _, u := range []*evidock.User{
		storetest.NewUser("zhang.wei", storetest.OfficerZhang, "officer@CZ/CZ-TN/CZ-TN-1"),
		storetest.NewUser("wang.fang", storetest.OfficerWang, "officer@CZ/CZ-TN/CZ-TN-1"),
		storetest.NewUser("li.qiang", storetest.OfficerLi, "officer@CZ/CZ-WJ/CZ-WJ-1"),
		storetest.NewUser("chen.jie", "", "supervisor@CZ/CZ-TN"),
	} {
		storetest.MustCreateUser(t, db, u)
	}
	policy := auth.DefaultPolicy
	policy.Params = auth.TestParams
	authSvc, err := auth.New(db, policy)
	if err != nil {
		t.Fatal(err)
	}
	srv := evhttp.NewServer(&server.Registry{Clips: db}, db, db, db.Ping, slog.New(slog.DiscardHandler))
	srv.SetCases(evhttp.CaseServices{Units: db, Officers: db, Cases: db, Links: db})
	if err := srv.SetPeople(&evhttp.PeopleConfig{Auth: authSvc, Access: db, Audit: db, Scope: server.NewRegistryScope(db, db, db)}); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(srv)
	t.Cleanup(e.ts.Close)
	e.client = evhttp.NewClient(e.ts.URL, token)
	return e
}

func at(h, m int) time.Time { return time.Date(2024, 5, 2, h, m, 0, 0, evidock.ChinaTime) }

// call sends a request with the station token and returns the status and
// body.
func (e *caseEnv) call(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return e.callAs(t, "", method, path, body)
}

// callAs sends a request as the user login (logged in for it), or with the
// station token if login is "", and returns the status and body.
func (e *caseEnv) callAs(t *testing.T, login, method, path, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if login == "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	} else {
		req.AddCookie(&http.Cookie{Name: evhttp.SessionCookie, Value: e.session(t, login)})
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// session returns a session token of login, logging in the first time.
func (e *caseEnv) session(t *testing.T, login string) string {
	t.Helper()
	if tok, ok := e.sessions[login]; ok {
		return tok
	}
	resp, err := e.ts.Client().Post(e.ts.URL+"/api/v1/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"login":%q,"password":%q}`, login, storetest.TestPassword)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == evhttp.SessionCookie {
			if e.sessions == nil {
				e.sessions = map[string]string{}
			}
			e.sessions[login] = ck.Value
			return ck.Value
		}
	}
	t.Fatalf("login %s = %s, no session cookie", login, resp.Status)
	return ""
}

// apiCase is one request and what must come back: the status and, for
// errors, the code and words the message must hold.
type apiCase struct {
	name, method, path, body string
	status                   int
	want                     []string // in the body
}

// userCase is an apiCase sent as a user.
type userCase struct {
	apiCase
	as string // the user sending it; "" is the station
}

func (e *caseEnv) run(t *testing.T, cases []apiCase) {
	t.Helper()
	var ucs []userCase
	for _, tt := range cases {
		ucs = append(ucs, userCase{apiCase: tt})
	}
	e.runAs(t, ucs)
}

func (e *caseEnv) runAs(t *testing.T, cases []userCase) {
	t.Helper()
	for _, tt := range cases {
		status, b := e.callAs(t, tt.as, tt.method, tt.path, tt.body)
		if status != tt.status {
			t.Errorf("%s: %s %s = %d %s; want %d", tt.name, tt.method, tt.path, status, b, tt.status)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: body %s lacks %q", tt.name, b, w)
			}
		}
		if status >= 400 {
			apiError(t, b)
		}
	}
}

func TestUnitsAPI(t *testing.T) {
	e := newCaseEnv(t)
	e.run(t, []apiCase{
		{"create", "POST", "/api/v1/units", `{"code":"CZ-XB","name":"新北区人社局","level":"district","parent_code":"CZ"}`, 201, []string{`"code":"CZ-XB"`, `"created_at"`}},
		{"create under it", "POST", "/api/v1/units", `{"code":"CZ-XB-1","name":"新北区大队","level":"unit","parent_code":"CZ-XB"}`, 201, nil},
		{"taken", "POST", "/api/v1/units", `{"code":"CZ-XB","name":"x","level":"district","parent_code":"CZ"}`, 409, []string{"conflict"}},
		{"unknown parent", "POST", "/api/v1/units", `{"code":"CZ-YY","name":"x","level":"district","parent_code":"ZZ"}`, 400, []string{"parent_code"}},
		{"wrong level", "POST", "/api/v1/units", `{"code":"CZ-YY","name":"x","level":"unit","parent_code":"CZ"}`, 400, []string{"district"}},
		{"unknown field", "POST", "/api/v1/units", `{"code":"CZ-YY","nmae":"x"}`, 400, []string{"nmae", "code, name, level, parent_code"}},
		{"server's field", "POST", "/api/v1/units", `{"code":"CZ-YY","created_at":"2024-01-01T00:00:00Z"}`, 400, []string{"created_at"}},
		{"not JSON", "POST", "/api/v1/units", `{"code":`, 400, []string{"cut off"}},
		{"two objects", "POST", "/api/v1/units", `{} {}`, 400, []string{"exactly one"}},
		{"tree", "GET", "/api/v1/units", "", 200, []string{`"code":"CZ-XB","name":"新北区人社局"`, `"children":[{"code":"CZ-XB-1"`}},
		{"tree with a query", "GET", "/api/v1/units?all=1", "", 400, []string{"all"}},
		{"one", "GET", "/api/v1/units/CZ-TN-1", "", 200, []string{`"parent_code":"CZ-TN"`}},
		{"unknown", "GET", "/api/v1/units/NOPE", "", 404, []string{"NOPE"}},
	})
	tree, err := e.client.UnitTree(context.Background())
	if err != nil || len(tree) != 1 || tree[0].Code != "CZ" || len(tree[0].Children) != 3 {
		t.Fatalf("client UnitTree = %+v, %v; want CZ with three districts", tree, err)
	}
	// The two units made are audited as the station's doing, from the
	// request's address; the refused ones left nothing (5 seeded + 2).
	events, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Action: evidock.AuditCreateUnit})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 7 {
		t.Fatalf("%d create_unit events; want 7: the 5 seeded and the 2 made", len(events))
	}
	for i, want := range []struct{ object, unit string }{{"unit:CZ-XB", "CZ/CZ-XB"}, {"unit:CZ-XB-1", "CZ/CZ-XB/CZ-XB-1"}} {
		ev := events[5+i]
		if ev.Actor != "station:dock-01" || ev.Object != want.object || ev.Unit != want.unit || ev.Outcome != evidock.AuditAllowed ||
			ev.Reason != "station token" || !strings.HasPrefix(ev.RemoteAddr, "127.0.0.1:") || !strings.HasPrefix(ev.UserAgent, "Go-http-client/") {
			t.Errorf("event of %s = %+v; want station:dock-01 creating it in %s from 127.0.0.1", want.object, ev, want.unit)
		}
	}
}

func TestOfficersAPI(t *testing.T) {
	e := newCaseEnv(t)
	e.run(t, []apiCase{
		{"create", "POST", "/api/v1/officers", `{"officer_no":"100009","certificate_no":"JS3204009","name":"孙丽","unit_code":"CZ-WJ-1"}`, 201, []string{`"officer_no":"100009"`}},
		{"number taken", "POST", "/api/v1/officers", `{"officer_no":"100009","certificate_no":"JS0","name":"x","unit_code":"CZ-WJ-1"}`, 409, nil},
		{"certificate taken", "POST", "/api/v1/officers", `{"officer_no":"100010","certificate_no":"JS3204009","name":"x","unit_code":"CZ-WJ-1"}`, 409, nil},
		{"unknown unit", "POST", "/api/v1/officers", `{"officer_no":"100010","certificate_no":"JS10","name":"x","unit_code":"NOPE"}`, 400, []string{"unit_code"}},
		{"bad number", "POST", "/api/v1/officers", `{"officer_no":"10010","certificate_no":"JS10","name":"x","unit_code":"CZ"}`, 400, []string{"officer_no"}},
		{"number as a number", "POST", "/api/v1/officers", `{"officer_no":100010}`, 400, []string{"officer_no", "string"}},
		{"list a district", "GET", "/api/v1/officers?unit=CZ-TN", "", 200, []string{`"100001"`, `"100002"`, `"100004"`}},
		{"unknown unit", "GET", "/api/v1/officers?unit=NOPE", "", 404, nil},
		{"unknown parameter", "GET", "/api/v1/officers?units=CZ", "", 400, []string{"units"}},
		{"one", "GET", "/api/v1/officers/100001", "", 200, []string{`"name":"张伟"`}},
		{"malformed", "GET", "/api/v1/officers/1001", "", 400, []string{"6-digit"}},
		{"unknown", "GET", "/api/v1/officers/999999", "", 404, nil},
	})
	status, b := e.call(t, "GET", "/api/v1/officers?unit=CZ-WJ", "")
	if status != 200 || strings.Contains(string(b), `"100001"`) {
		t.Fatalf("officers of CZ-WJ = %d %s; want only its own", status, b)
	}
	os, err := e.client.FindOfficers(context.Background(), evidock.OfficerFilter{UnitCode: storetest.UnitWJ1})
	if err != nil || len(os) != 2 {
		t.Fatalf("client FindOfficers = %v, %v; want Li and Sun", os, err)
	}
}

func TestAssignmentsAPI(t *testing.T) {
	e := newCaseEnv(t)
	e.run(t, []apiCase{
		{"assign", "POST", "/api/v1/recorders/A000001/assignments", `{"officer_no":"100001","from":"2024-05-01T08:00:00+08:00","assigned_by":"装备管理员","reason":"配发"}`, 201,
			[]string{`"device_serial":"A000001"`, `"from":"2024-05-01T08:00:00+08:00"`}},
		{"lower-case serial", "POST", "/api/v1/recorders/a000001/assignments", `{"officer_no":"100002","from":"2024-05-03T08:00:00+08:00","assigned_by":"x"}`, 201, []string{`"device_serial":"A000001"`}},
		{"back to the store", "POST", "/api/v1/recorders/A000001/assignments", `{"from":"2024-05-09T08:00:00+08:00","assigned_by":"x","reason":"送修"}`, 201, nil},
		{"earlier", "POST", "/api/v1/recorders/A000001/assignments", `{"officer_no":"100001","from":"2024-05-02T08:00:00+08:00","assigned_by":"x"}`, 409, []string{"never rewritten"}},
		{"unknown officer", "POST", "/api/v1/recorders/A000001/assignments", `{"officer_no":"999999","from":"2024-06-01T08:00:00+08:00","assigned_by":"x"}`, 400, []string{"999999"}},
		{"bad time", "POST", "/api/v1/recorders/A000001/assignments", `{"officer_no":"100001","from":"tomorrow","assigned_by":"x"}`, 400, []string{"field from"}},
		{"serial in body", "POST", "/api/v1/recorders/A000001/assignments", `{"device_serial":"B000002"}`, 400, []string{"device_serial"}},
		{"bad serial", "POST", "/api/v1/recorders/A1/assignments", `{}`, 400, []string{"serial"}},
		{"history", "GET", "/api/v1/recorders/A000001/assignments", "", 200, []string{`"to":"2024-05-03T08:00:00+08:00"`, `"reason":"送修"`}},
		{"nothing assigned", "GET", "/api/v1/recorders/Z000009/assignments", "", 200, []string{`{"assignments":[]}`}},
	})
	h, err := e.client.FindRecorderAssignments(context.Background(), "A000001")
	if err != nil || len(h) != 3 || h[2].OfficerNo != "" || !h[0].To.Equal(h[1].From) {
		t.Fatalf("client history = %+v, %v", h, err)
	}
}

func TestCasesAPI(t *testing.T) {
	e := newCaseEnv(t)
	esc := url.PathEscape
	e.run(t, []apiCase{
		{"create", "POST", "/api/v1/cases", `{"number":"常人社监检〔2024〕3号","kind":"administrative_inspection","title":"工资支付检查","unit_code":"CZ-WJ-1",
			"parties":[{"role":"employer","name":"某公司"}],"filed_at":"2024-05-03"}`, 201,
			[]string{`"filed_at":"2024-05-03T00:00:00+08:00"`, `"stage":"filed"`, `"parties":[{"role":"employer","name":"某公司"}]`}},
		{"taken", "POST", "/api/v1/cases", `{"number":"常人社监检〔2024〕3号","kind":"administrative_inspection","title":"x","unit_code":"CZ-WJ-1","parties":[{"role":"employer","name":"x"}],"filed_at":"2024-05-03"}`, 409, nil},
		{"bad kind", "POST", "/api/v1/cases", `{"number":"B-1","kind":"penalty","title":"x","unit_code":"CZ","parties":[{"role":"employer","name":"x"}],"filed_at":"2024-05-03"}`, 400, []string{"kind", "administrative_penalty"}},
		{"bad date", "POST", "/api/v1/cases", `{"number":"B-1","filed_at":"yesterday"}`, 400, []string{"field filed_at"}},
		{"unknown party field", "POST", "/api/v1/cases", `{"number":"B-1","parties":[{"role":"employer","name":"x","id_no":"1"}]}`, 400, []string{"id_no"}},
		{"server's stage", "POST", "/api/v1/cases", `{"number":"B-1","stage":"closed"}`, 400, []string{"stage"}},
		{"list", "GET", "/api/v1/cases", "", 200, []string{`"total":2`, `"number":"常人社监检〔2024〕3号"`}},
		{"list a district", "GET", "/api/v1/cases?unit=CZ-TN&kind=administrative_penalty&stage=filed&officer=100002", "", 200, []string{`"total":1`, caseNumber}},
		{"list by date", "GET", "/api/v1/cases?filed_from=2024-05-02&filed_to=2024-05-03", "", 200, []string{`"total":1`, `"CZ-WJ-1"`}},
		{"unknown parameter", "GET", "/api/v1/cases?status=open", "", 400, []string{"status"}},
		{"bad stage", "GET", "/api/v1/cases?stage=open", "", 400, []string{"stage"}},
		{"bad limit", "GET", "/api/v1/cases?limit=5000", "", 400, []string{"limit"}},
		{"bad date", "GET", "/api/v1/cases?filed_from=May", "", 400, []string{"filed_from"}},
		{"unknown unit", "GET", "/api/v1/cases?unit=NOPE", "", 404, nil},
		{"get", "GET", "/api/v1/cases/" + esc(caseNumber), "", 200, []string{`"activities":[{"id":`, `"type":"inspection"`, `"missing_recordings":[]`, `"links":[]`}},
		{"unknown", "GET", "/api/v1/cases/" + esc("no such"), "", 404, nil},
		{"record dates", "POST", "/api/v1/cases/" + esc(caseNumber) + "/dates", `{"decided_at":"2024-05-10","served_at":"2024-05-11T10:00:00+08:00"}`, 200, []string{`"stage":"served"`}},
		{"change a date", "POST", "/api/v1/cases/" + esc(caseNumber) + "/dates", `{"decided_at":"2024-05-12"}`, 409, []string{"never changed"}},
		{"out of order", "POST", "/api/v1/cases/" + esc(caseNumber) + "/dates", `{"closed_at":"2024-05-09"}`, 400, []string{"closed_at"}},
		{"no dates", "POST", "/api/v1/cases/" + esc(caseNumber) + "/dates", `{}`, 400, []string{"at least one"}},
		{"dates of an unknown case", "POST", "/api/v1/cases/nope/dates", `{"decided_at":"2024-05-10"}`, 404, nil},
	})
	ctx := context.Background()
	cs, total, err := e.client.FindCases(ctx, evidock.CaseFilter{UnitCode: storetest.BureauCode, Stage: evidock.StageServed})
	if err != nil || total != 1 || cs[0].Number != caseNumber || !cs[0].ServedAt.Equal(time.Date(2024, 5, 11, 10, 0, 0, 0, evidock.ChinaTime)) {
		t.Fatalf("client FindCases = %+v, %d, %v", cs, total, err)
	}
	c := storetest.NewCase("常人社监罚〔2024〕8号", storetest.UnitTN1, time.Date(2024, 5, 6, 9, 0, 0, 0, evidock.ChinaTime))
	if err := e.client.CreateCase(ctx, c); err != nil || c.ID == 0 || c.Stage != evidock.StageFiled {
		t.Fatalf("client CreateCase = %+v, %v", c, err)
	}
	got, err := e.client.RecordCaseDates(ctx, c.Number, evidock.CaseDates{ClosedAt: time.Date(2024, 5, 7, 9, 0, 0, 0, evidock.ChinaTime)})
	if err != nil || got.Stage != evidock.StageClosed {
		t.Fatalf("client RecordCaseDates = %+v, %v", got, err)
	}
	if _, err := e.client.RecordCaseDates(ctx, c.Number, evidock.CaseDates{ClosedAt: time.Date(2024, 5, 8, 9, 0, 0, 0, evidock.ChinaTime)}); evidock.ErrorCode(err) != evidock.ECONFLICT {
		t.Fatalf("client RecordCaseDates changing a date = %v; want ECONFLICT", err)
	}
}

func TestActivitiesAPI(t *testing.T) {
	e := newCaseEnv(t)
	path := "/api/v1/cases/" + url.PathEscape(caseNumber) + "/activities"
	e.run(t, []apiCase{
		{"service by leaving", "POST", path, `{"type":"service","service_method":"leaving","officers":["100002","100001"],
			"started_at":"2024-05-12T14:00:00+08:00","ended_at":"2024-05-12T14:30:00+08:00","place":"公司前台","note":"拒收"}`, 201,
			[]string{`"officers":["100001","100002"]`, `"recording_mandatory":true`, `"code":"service_by_leaving"`, `"article":"第十二条第（三）项"`}},
		{"interview", "POST", path, `{"type":"interview","officers":["100001"],"started_at":"2024-05-03T09:00:00+08:00","ended_at":"2024-05-03T10:00:00+08:00"}`, 201,
			[]string{`"recording_mandatory":false`, `"recording_rules":[]`}},
		{"unknown case", "POST", "/api/v1/cases/nope/activities", `{"type":"interview","officers":["100001"],"started_at":"2024-05-03T09:00:00+08:00","ended_at":"2024-05-03T10:00:00+08:00"}`, 404, nil},
		{"unknown officer", "POST", path, `{"type":"interview","officers":["999999"],"started_at":"2024-05-03T09:00:00+08:00","ended_at":"2024-05-03T10:00:00+08:00"}`, 400, []string{"999999"}},
		{"service without method", "POST", path, `{"type":"service","officers":["100001"],"started_at":"2024-05-03T09:00:00+08:00","ended_at":"2024-05-03T10:00:00+08:00"}`, 400, []string{"service_method"}},
		{"bad time", "POST", path, `{"type":"interview","officers":["100001"],"started_at":"9:00","ended_at":"2024-05-03T10:00:00+08:00"}`, 400, []string{"field started_at"}},
		{"derived field sent", "POST", path, `{"type":"interview","recording_mandatory":false}`, 400, []string{"recording_mandatory"}},
		{"officers not a list", "POST", path, `{"type":"interview","officers":"100001"}`, 400, []string{"officers", "array"}},
		{"missing recordings", "GET", "/api/v1/cases/" + url.PathEscape(caseNumber) + "/missing-recordings", "", 200, []string{`"type":"service"`, `"service_method":"leaving"`}},
		{"missing of an unknown case", "GET", "/api/v1/cases/nope/missing-recordings", "", 404, nil},
		{"get", "GET", fmt.Sprintf("/api/v1/activities/%d", e.act.ID), "", 200, []string{`"type":"inspection"`, `"links":[]`}},
		{"unknown", "GET", "/api/v1/activities/999999", "", 404, nil},
		{"not an id", "GET", "/api/v1/activities/abc", "", 400, []string{"activity id"}},
	})
	ctx := context.Background()
	a := storetest.NewActivity(0, evidock.ActivitySampling, at(15, 0), at(15, 30), storetest.OfficerLi)
	if err := e.client.CreateActivity(ctx, caseNumber, a); err != nil || a.ID == 0 || a.CaseID != e.kase.ID || !a.RecordingMandatory {
		t.Fatalf("client CreateActivity = %+v, %v", a, err)
	}
	missing, err := e.client.MissingRecordings(ctx, caseNumber)
	if err != nil || len(missing) != 2 {
		t.Fatalf("client MissingRecordings = %v, %v; want the sampling and the service", missing, err)
	}
}

func TestLinksAPI(t *testing.T) {
	e := newCaseEnv(t)
	act := fmt.Sprintf("/api/v1/activities/%d", e.act.ID)
	d0, d1, d2 := e.clips[0].Digest.String(), e.clips[1].Digest.String(), e.clips[2].Digest.String()
	e.run(t, []apiCase{
		{"suggest", "GET", act + "/suggestions", "", 200, []string{d0, d1, `"state":"suggested"`, `"by":"system"`}},
		{"suggest with a margin", "GET", act + "/suggestions?margin=3h", "", 200, []string{d2}},
		{"bad margin", "GET", act + "/suggestions?margin=forever", "", 400, []string{"margin"}},
		{"margin too large", "GET", act + "/suggestions?margin=25h", "", 400, []string{"margin"}},
		{"unknown parameter", "GET", act + "/suggestions?window=1h", "", 400, []string{"window"}},
		{"unknown activity", "GET", "/api/v1/activities/999999/suggestions", "", 404, nil},
	})
	e.runAs(t, []userCase{
		{apiCase{"confirm", "POST", act + "/links", `{"blake3":"` + d0 + `","action":"confirm"}`, 201, []string{`"action":"confirm"`, `"seq":2`, d0, `"by":"100001"`}}, "zhang.wei"},
		{apiCase{"confirm again", "POST", act + "/links", `{"blake3":"` + d0 + `","action":"confirm"}`, 409, []string{"already"}}, "wang.fang"},
		{apiCase{"reject without reason", "POST", act + "/links", `{"blake3":"` + d1 + `","action":"reject"}`, 400, []string{"reason"}}, "wang.fang"},
		{apiCase{"reject", "POST", act + "/links", `{"blake3":"` + d1 + `","action":"reject","reason":"与检查无关"}`, 201, []string{`"reason":"与检查无关"`, `"by":"100002"`}}, "wang.fang"},
		{apiCase{"unlink", "POST", act + "/links", `{"blake3":"` + d0 + `","action":"unlink","reason":"属于另一活动"}`, 201, []string{`"seq":3`, `"by":"100001"`}}, "zhang.wei"},
		{apiCase{"by in the body", "POST", act + "/links", `{"blake3":"` + d2 + `","action":"confirm","by":"100001"}`, 400, []string{"by", "the server records who made the change"}}, "zhang.wei"},
		{apiCase{"by in the body, even one's own", "POST", act + "/links", `{"blake3":"` + d2 + `","action":"confirm","by":""}`, 400, []string{"by"}}, "zhang.wei"},
		{apiCase{"a station is no officer", "POST", act + "/links", `{"blake3":"` + d2 + `","action":"confirm"}`, 403, []string{"station cannot change links"}}, ""},
		{apiCase{"a user who is no officer", "POST", act + "/links", `{"blake3":"` + d2 + `","action":"confirm"}`, 403, []string{"no officer number"}}, "chen.jie"},
		{apiCase{"an officer of another unit", "POST", act + "/links", `{"blake3":"` + d2 + `","action":"confirm"}`, 403, []string{"outside the roles of li.qiang"}}, "li.qiang"},
		{apiCase{"suggest is the server's", "POST", act + "/links", `{"blake3":"` + d2 + `","action":"suggest"}`, 400, []string{"suggest"}}, "zhang.wei"},
		{apiCase{"bad digest", "POST", act + "/links", `{"blake3":"abc","action":"confirm"}`, 400, []string{"blake3"}}, "zhang.wei"},
		{apiCase{"unknown clip", "POST", act + "/links", `{"blake3":"` + strings.Repeat("ab", 32) + `","action":"confirm"}`, 404, nil}, "zhang.wei"},
		{apiCase{"unknown activity", "POST", "/api/v1/activities/999999/links", `{"blake3":"` + d2 + `","action":"confirm"}`, 404, nil}, "zhang.wei"},
		{apiCase{"activity in body", "POST", act + "/links", `{"activity_id":1}`, 400, []string{"activity_id", "blake3, action, reason"}}, "zhang.wei"},
		// Suggested by the 3h search above, so its second entry.
		{apiCase{"confirm a far clip", "POST", act + "/links", `{"blake3":"` + d2 + `","action":"confirm","reason":"下午补录"}`, 201, []string{`"seq":2`}}, "zhang.wei"},
	})
	e.run(t, []apiCase{
		{"links", "GET", act + "/links", "", 200, []string{`"state":"unlinked"`, `"state":"rejected"`, `"state":"confirmed"`}},
		{"history", "GET", act + "/links/history", "", 200, []string{`"action":"suggest"`, `"action":"unlink"`}},
		{"clip links", "GET", "/api/v1/clips/" + d0 + "/links", "", 200, []string{`"state":"unlinked"`}},
		{"clip history", "GET", "/api/v1/clips/" + d0 + "/links/history", "", 200, []string{`"seq":1`, `"seq":2`, `"seq":3`}},
		{"clip history, bad digest", "GET", "/api/v1/clips/xyz/links/history", "", 400, []string{"blake3"}},
		{"case detail", "GET", "/api/v1/cases/" + url.PathEscape(caseNumber), "", 200, []string{`"links":[{"activity_id"`, `"state":"confirmed"`, `"file_name"`}},
	})

	// The client, end to end: suggestions, a change, the history.
	ctx := context.Background()
	sugg, err := e.client.SuggestLinks(ctx, e.act.ID, -1)
	if err != nil || len(sugg) != 0 {
		t.Fatalf("client SuggestLinks after every clip was decided = %v, %v; want none", sugg, err)
	}
	// The client: a station token alone is refused; logged in as Wang,
	// the change is Wang's, whatever By the caller filled in.
	change := &evidock.LinkEntry{ActivityID: e.act.ID, Digest: e.clips[0].Digest, Action: evidock.LinkConfirm, By: storetest.OfficerZhang, Reason: "复核后确认"}
	if err := e.client.ChangeLink(ctx, change); evidock.ErrorCode(err) != evidock.EFORBIDDEN {
		t.Fatalf("client ChangeLink with a station token = %v; want EFORBIDDEN", err)
	}
	officer := evhttp.NewClient(e.ts.URL, e.token)
	if _, err := officer.Login(ctx, "wang.fang", "wrong password"); evidock.ErrorCode(err) != evidock.EUNAUTHORIZED {
		t.Fatalf("client Login with a wrong password = %v; want EUNAUTHORIZED", err)
	}
	if u, err := officer.Login(ctx, "wang.fang", storetest.TestPassword); err != nil || u.OfficerNo != storetest.OfficerWang {
		t.Fatalf("client Login = %+v, %v", u, err)
	}
	if err := officer.ChangeLink(ctx, change); err != nil || change.Seq != 4 || change.ID == 0 || change.By != storetest.OfficerWang {
		t.Fatalf("client ChangeLink = %+v, %v; want seq 4 by %s", change, err, storetest.OfficerWang)
	}
	if err := officer.Logout(ctx); err != nil {
		t.Fatalf("client Logout = %v", err)
	}
	// Logged out, the client is the station again.
	if err := officer.ChangeLink(ctx, change); evidock.ErrorCode(err) != evidock.EFORBIDDEN {
		t.Fatalf("client ChangeLink after Logout = %v; want EFORBIDDEN", err)
	}
	denied, err := e.db.FindAuditEvents(ctx, evidock.AuditFilter{Actor: "user:li.qiang", Action: string(evidock.ActionLinkClips)})
	if err != nil || len(denied) != 1 || denied[0].Outcome != evidock.AuditDenied {
		t.Fatalf("li.qiang's link_clips events = %+v, %v; want one denied", denied, err)
	}
	history, err := e.client.LinkHistory(ctx, evidock.LinkFilter{Digest: e.clips[0].Digest})
	if err != nil || len(history) != 4 || history[3].Reason != "复核后确认" {
		t.Fatalf("client LinkHistory = %+v, %v", history, err)
	}
	detail, err := e.client.FindCaseDetail(ctx, caseNumber)
	if err != nil || detail.Number != caseNumber || len(detail.Activities) != 1 || len(detail.Activities[0].Links) != 3 {
		t.Fatalf("client FindCaseDetail = %+v, %v", detail, err)
	}
	links, err := e.client.FindLinks(ctx, evidock.LinkFilter{ActivityID: e.act.ID})
	if err != nil || len(links) != 3 || links[0].Clip == nil || links[0].Clip.Digest != e.clips[0].Digest || links[0].State != evidock.LinkConfirmed {
		t.Fatalf("client FindLinks = %+v, %v", links, err)
	}
	if _, err := e.client.FindLinks(ctx, evidock.LinkFilter{CaseID: e.kase.ID}); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Fatalf("client FindLinks by case = %v; want EINVALID", err)
	}
	var body struct {
		Suggestions []json.RawMessage `json:"suggestions"`
	}
	_, b := e.call(t, "GET", fmt.Sprintf("/api/v1/activities/%d/suggestions", e.act.ID), "")
	if err := json.Unmarshal(b, &body); err != nil || body.Suggestions == nil {
		t.Fatalf("suggestions body %s; want an empty list, not null", b)
	}
}

// TestCasesNeedSetupAndToken shows that the case routes answer 501 on a
// server given no case stores, and 401 without a station token.
func TestCasesNeedSetupAndToken(t *testing.T) {
	e := newCaseEnv(t)
	bare := httptest.NewServer(evhttp.NewServer(&server.Registry{Clips: e.db}, e.db, e.db, nil, slog.New(slog.DiscardHandler)))
	defer bare.Close()
	for _, path := range []string{"/api/v1/units", "/api/v1/cases", "/api/v1/officers/100001", "/api/v1/activities/1/suggestions"} {
		req, _ := http.NewRequest("GET", bare.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := bare.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented {
			t.Errorf("GET %s without case stores = %d; want 501", path, resp.StatusCode)
		}
		resp, err = e.ts.Client().Get(e.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a token = %d; want 401", path, resp.StatusCode)
		}
	}
}
