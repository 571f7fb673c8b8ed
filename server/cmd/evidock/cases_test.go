package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server"
	evhttp "evidock/server/http"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// caseFixture is a real case server on SQLite with the units and officers
// of storetest.SeedOrg and three cases. The first, caseNo, has an
// inspection on 2 May 2024 09:00 to 10:00 with one clip confirmed and one
// only suggested, and a service by leaving documents, recording mandatory
// (Art. 12(3)), with no clip at all.
type caseFixture struct {
	url, tokenFile string
	leave          *evidock.Activity
	confirmed      *evidock.Clip
	suggested      *evidock.Clip
}

const caseNo = "常人社监罚〔2024〕12号"

func newCaseFixture(t *testing.T) *caseFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "evidock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	storetest.SeedOrg(t, db)
	day := func(d, h int) time.Time { return time.Date(2024, 5, 1+d, h, 0, 0, 0, evidock.ChinaTime) }
	c := storetest.MustCreateCase(t, db, storetest.NewCase(caseNo, storetest.UnitTN1, day(0, 9)))
	second := storetest.NewCase("常人社监检〔2024〕3号", storetest.UnitTN1, day(2, 9))
	second.Kind, second.Title = evidock.CaseInspection, "工资支付情况检查"
	second.DecidedAt = day(3, 9)
	storetest.MustCreateCase(t, db, second)
	storetest.MustCreateCase(t, db, storetest.NewCase("常人社监罚〔2024〕20号", storetest.UnitWJ1, day(4, 9)))

	inspect := storetest.MustCreateActivity(t, db, storetest.NewActivity(c.ID, evidock.ActivityInspection, day(1, 9), day(1, 10),
		storetest.OfficerZhang, storetest.OfficerWang))
	leave := storetest.NewActivity(c.ID, evidock.ActivityService, day(8, 14), day(8, 15), storetest.OfficerWang)
	leave.ServiceMethod, leave.Place = evidock.ServiceByLeaving, "公司前台"
	storetest.MustCreateActivity(t, db, leave)
	f := &caseFixture{tokenFile: tokenFile, leave: leave,
		confirmed: storetest.NewClip([]byte("confirmed"), "A000001", storetest.OfficerZhang, day(1, 9).Add(5*time.Minute), 1),
		suggested: storetest.NewClip([]byte("suggested"), "B000002", storetest.OfficerWang, day(1, 9).Add(20*time.Minute), 1),
	}
	for _, clip := range []*evidock.Clip{f.confirmed, f.suggested} {
		if _, err := db.RegisterClip(ctx, clip); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: inspect.ID, Digest: f.confirmed.Digest, Action: evidock.LinkConfirm,
		By: storetest.OfficerZhang, Reason: "现场检查全程录像"}); err != nil {
		t.Fatal(err)
	}
	srv := evhttp.NewServer(&server.Registry{Clips: db}, db, db, db.Ping, slog.New(slog.DiscardHandler))
	srv.SetCases(evhttp.CaseServices{Units: db, Officers: db, Cases: db, Links: db})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func (f *caseFixture) run(args ...string) (int, string, string) {
	return runCLI(append(args, "--server", f.url, "--token-file", f.tokenFile)...)
}

func TestCasesTable(t *testing.T) {
	f := newCaseFixture(t)
	code, stdout, stderr := f.run("cases", "--unit", storetest.DistrictTN)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	want := [][]string{
		{"NUMBER", "KIND", "STAGE", "UNIT", "FILED", "TITLE", "PARTIES"},
		{"常人社监检〔2024〕3号", "行政检查", "已作出决定", "CZ-TN-1", "2024-05-03", "工资支付情况检查", "常州某某机械有限公司,", "陈某"},
		{caseNo, "行政处罚", "已立案", "CZ-TN-1", "2024-05-01", "拖欠劳动者工资案", "常州某某机械有限公司,", "陈某"},
	}
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", stdout)
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("line %d = %q; want %q", i, got, w)
		}
	}
}

func TestCasesFilters(t *testing.T) {
	f := newCaseFixture(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "[常人社监罚〔2024〕20号 常人社监检〔2024〕3号 常人社监罚〔2024〕12号]"},
		{[]string{"--kind", "administrative_penalty"}, "[常人社监罚〔2024〕20号 常人社监罚〔2024〕12号]"},
		{[]string{"--stage", "decided"}, "[常人社监检〔2024〕3号]"},
		{[]string{"--officer", storetest.OfficerWang}, "[常人社监罚〔2024〕12号]"},
		{[]string{"--from", "2024-05-02", "--to", "2024-05-03"}, "[常人社监检〔2024〕3号]"},
		{[]string{"--unit", storetest.UnitWJ1}, "[常人社监罚〔2024〕20号]"},
		{[]string{"--limit", "1"}, "[常人社监罚〔2024〕20号]"},
	} {
		code, stdout, stderr := f.run(append([]string{"cases", "--json"}, tt.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, stderr)
		}
		var list struct {
			Cases []*evidock.Case `json:"cases"`
			Total int             `json:"total"`
		}
		if err := json.Unmarshal([]byte(stdout), &list); err != nil {
			t.Fatalf("%v: --json output %q: %v", tt.args, stdout, err)
		}
		var got []string
		for _, c := range list.Cases {
			got = append(got, c.Number)
		}
		if fmt.Sprint(got) != tt.want {
			t.Errorf("%v: cases %v; want %s", tt.args, got, tt.want)
		}
	}
	if code, _, stderr := f.run("cases", "--limit", "1"); code != 0 || !strings.Contains(stderr, "showing 1 of 3") {
		t.Errorf("a limited listing: exit %d, %q; want it to say how many match", code, stderr)
	}
	if code, _, stderr := f.run("cases", "--unit", "NOPE"); code != 1 || !strings.Contains(stderr, "NOPE") {
		t.Errorf("unknown unit: exit %d, %q; want 1", code, stderr)
	}
}

func TestCasesUsage(t *testing.T) {
	f := newCaseFixture(t)
	for _, args := range [][]string{
		{"cases", "extra"},
		{"cases", "--kind", "penalty"},
		{"cases", "--stage", "open"},
		{"cases", "--officer", "12"},
		{"cases", "--from", "May"},
		{"cases", "--limit", "-1"},
		{"case"},
		{"case", "a", "b"},
		{"case", "--margin", "48h", caseNo},
		{"case", "--margin", "soon", caseNo},
	} {
		if code, _, stderr := f.run(args...); code != 2 {
			t.Errorf("%q: exit %d (%s); want 2", args, code, stderr)
		}
	}
}

func TestCaseShow(t *testing.T) {
	f := newCaseFixture(t)
	code, stdout, stderr := f.run("case", caseNo)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"CASE      " + caseNo,
		"行政处罚 (administrative_penalty)",
		"已立案 (filed)",
		"FILED     2024-05-01 09:00:00",
		"ACTIVITIES (2)",
		"现场检查  2024-05-02 09:00:00 to 2024-05-02 10:00:00  officers 100001, 100002",
		"linked clips:\n    " + f.confirmed.FileName,
		"(confirm by 100001",
		": 现场检查全程录像)",
		"suggested clips (confirm or reject):\n    " + f.suggested.FileName,
		fmt.Sprintf("#%d 送达/留置送达", f.leave.ID),
		"at 公司前台",
		"recording mandatory: 第十二条第（三）项 留置送达应采用音视频记录等方式记录送达整个过程",
		"MISSING: no confirmed recording of this activity",
		fmt.Sprintf("MISSING RECORDINGS: 1 mandatory activities have no confirmed clip: #%d", f.leave.ID),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Count(stdout, "MISSING: no confirmed") != 1 {
		t.Errorf("only the service is missing its recording:\n%s", stdout)
	}

	code, stdout, _ = f.run("case", "--json", "--margin", "0s", caseNo)
	var report struct {
		Number            string                         `json:"number"`
		Activities        []*evidock.ActivityDetail      `json:"activities"`
		MissingRecordings []int64                        `json:"missing_recordings"`
		Suggestions       map[string][]*evidock.ClipLink `json:"suggestions"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); code != 0 || err != nil {
		t.Fatalf("--json: exit %d, %v, %q", code, err, stdout)
	}
	if report.Number != caseNo || len(report.Activities) != 2 || fmt.Sprint(report.MissingRecordings) != fmt.Sprintf("[%d]", f.leave.ID) ||
		len(report.Suggestions) != 2 || len(report.Suggestions[fmt.Sprint(report.Activities[0].ID)]) != 1 {
		t.Fatalf("--json report = %+v", report)
	}

	if code, _, stderr := f.run("case", "nope"); code != 1 || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("unknown case: exit %d, %q; want 1", code, stderr)
	}
}
