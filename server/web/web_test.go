package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"evidock"
	"evidock/server/translog"
	"evidock/server/web"
)

func wantStatus(t *testing.T, what string, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s = %s; want %d\n%s", what, resp.Status, want, body)
	}
}

func wantContains(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s: missing %q", what, s)
		}
	}
}

func wantNot(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("%s: has %q", what, s)
		}
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)

	resp, b := e.get(t, c, "/cases")
	wantStatus(t, "cases without a session", resp, b, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/login?next=%2Fcases" {
		t.Errorf("redirect to %q", loc)
	}
	resp, b = e.get(t, c, "/login")
	wantStatus(t, "login page", resp, b, http.StatusOK)
	wantContains(t, "login page (zh-CN)", b, `lang="zh-CN"`, "用户名", "密码", `action="/login"`)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(b) || strings.Contains(b, " style=") || strings.Contains(b, "onclick") {
		t.Error("login page has inline script or style")
	}
	resp, b = e.get(t, c, "/login?lang=en")
	wantContains(t, "login page (en)", b, `lang="en"`, "Password", "Log in")
	// The choice is remembered.
	_, b = e.get(t, c, "/login")
	wantContains(t, "login page after ?lang=en", b, `lang="en"`)

	resp, b = e.post(t, c, "/login", url.Values{"login": {"zhang.wei"}, "password": {"wrong password"}})
	wantStatus(t, "wrong password", resp, b, http.StatusUnauthorized)
	wantContains(t, "wrong password", b, "Wrong login or password")

	// The API's limit on failed logins holds for the form too.
	for range 10 {
		resp, b = e.post(t, c, "/login", url.Values{"login": {"li.na"}, "password": {"wrong password"}})
	}
	wantStatus(t, "too many failed logins", resp, b, http.StatusTooManyRequests)

	resp, b = e.post(t, c, "/login", url.Values{"login": {"zhang.wei"}, "password": {"x"}}, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-origin login", resp, b, http.StatusForbidden)

	e.login(t, c, "zhang.wei")
	resp, b = e.get(t, c, "/cases")
	wantStatus(t, "cases", resp, b, http.StatusOK)
	wantContains(t, "layout", b, "用户 zhang.wei", "officer@city/d1/t2", `action="/logout"`)

	resp, b = e.post(t, c, "/logout", nil, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-origin logout", resp, b, http.StatusForbidden)
	resp, b = e.post(t, c, "/logout", nil)
	wantStatus(t, "logout", resp, b, http.StatusSeeOther)
	resp, b = e.get(t, c, "/cases")
	wantStatus(t, "cases after logout", resp, b, http.StatusSeeOther)

	// The open redirect is closed.
	resp, b = e.post(t, c, "/login", url.Values{"login": {"zhang.wei"}, "password": {"correct horse battery staple"}, "next": {"//evil.example/"}})
	wantStatus(t, "login with a foreign next", resp, b, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/cases" {
		t.Errorf("login sent to %q", loc)
	}
}

func TestAPIKeepsItsAnswers(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("DELETE", e.ts.URL+"/api/v1/clips", nil)
	resp, b := do(t, http.DefaultClient, req)
	wantStatus(t, "DELETE /api/v1/clips with the web UI mounted", resp, b, http.StatusMethodNotAllowed)
	resp, b = e.get(t, http.DefaultClient, "/healthz")
	wantStatus(t, "healthz", resp, b, http.StatusOK)
	resp, b = e.get(t, http.DefaultClient, "/api/v1/nothing")
	wantStatus(t, "unknown API path", resp, b, http.StatusNotFound)
	resp, b = e.get(t, http.DefaultClient, "/static/web.css")
	wantStatus(t, "static", resp, b, http.StatusOK)
}

func TestCases(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		login      string
		see, notSe []string
	}{
		{"zhang.wei", []string{caseNumber}, []string{otherCase}},
		{"chen.jie", []string{caseNumber}, []string{otherCase}},
		{"zhao.min", []string{otherCase}, []string{caseNumber}},
	} {
		c := e.browser(t)
		e.login(t, c, tt.login)
		resp, b := e.get(t, c, "/cases")
		wantStatus(t, tt.login+" cases", resp, b, http.StatusOK)
		wantContains(t, tt.login+" cases", b, tt.see...)
		wantNot(t, tt.login+" cases", b, tt.notSe...)
	}
	c := e.browser(t)
	e.login(t, c, "zhang.wei")
	_, b := e.get(t, c, "/cases?kind=administrative_inspection")
	wantNot(t, "cases of another kind", b, caseNumber)
	wantContains(t, "cases of another kind", b, "没有案件")
	_, b = e.get(t, c, "/cases?stage=filed&unit=d1&lang=en")
	wantContains(t, "cases filtered (en)", b, caseNumber, "Stage", "Filter", `href="/cases?lang=zh-CN&amp;stage=filed&amp;unit=d1"`)
	resp, b := e.get(t, c, "/cases?kind=bogus")
	wantStatus(t, "bad kind", resp, b, http.StatusBadRequest)
}

func TestCasePage(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	e.login(t, c, "zhang.wei")
	path := "/cases/" + url.PathEscape(caseNumber)
	resp, b := e.get(t, c, path)
	wantStatus(t, "case page", resp, b, http.StatusOK)
	wantContains(t, "case page", b, "第二十条", "立案", "2024-04-30 09:30", "现场检查", "必须全程音像记录",
		"缺少必须的音像记录", e.clip.FileName, "/clips/"+e.clip.Digest.String(), `name="action" value="confirm"`)

	form := url.Values{"activity": {activityID(t, b)}, "clip": {e.clip.Digest.String()}, "action": {"confirm"}, "reason": {"画面为本次检查"}}
	resp, b = e.post(t, c, path+"/links", form, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-origin link", resp, b, http.StatusForbidden)
	resp, b = e.post(t, c, path+"/links", form)
	wantStatus(t, "confirm link", resp, b, http.StatusSeeOther)
	_, b = e.get(t, c, resp.Header.Get("Location"))
	wantContains(t, "case page after confirming", b, "已记录关联变更", "必须的音像记录齐全", "画面为本次检查")
	wantNot(t, "case page after confirming", b, `value="confirm"`)

	_, b = e.get(t, c, path+"?lang=en")
	wantContains(t, "case page (en)", b, "Dates recorded (Art. 20)", "Mandatory recordings complete")

	// Another district's officer sees neither the case nor its links.
	other := e.browser(t)
	e.login(t, other, "li.na")
	resp, b = e.get(t, other, path)
	wantStatus(t, "case of another district", resp, b, http.StatusForbidden)
	wantNot(t, "refused case page", b, e.clip.FileName)
	resp, b = e.post(t, other, path+"/links", form)
	wantStatus(t, "link by another district", resp, b, http.StatusForbidden)
	resp, b = e.get(t, other, "/cases/"+url.PathEscape("no such case"))
	wantStatus(t, "unknown case", resp, b, http.StatusNotFound)
}

var activityRE = regexp.MustCompile(`name="activity" value="(\d+)"`)

func activityID(t *testing.T, page string) string {
	t.Helper()
	m := activityRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no link form on the case page")
	}
	return m[1]
}

func TestClipPageAndVideo(t *testing.T) {
	e := newEnv(t)
	body, err := e.objectBytes()
	must(t, err)
	c := e.browser(t)
	e.login(t, c, "zhang.wei")
	clipPath := "/clips/" + e.clip.Digest.String()
	resp, b := e.get(t, c, clipPath)
	wantStatus(t, "clip page", resp, b, http.StatusOK)
	wantContains(t, "clip page", b, `<video id="player"`, `src="`+clipPath+`/video"`, e.clip.Digest.String(), "A123456",
		"防篡改证明", `<dd id="log-index">0</dd>`, translog.DefaultOrigin)

	resp, got := e.get(t, c, clipPath+"/video", "Range", "bytes=100-199")
	wantStatus(t, "range of the video", resp, got, http.StatusPartialContent)
	if got != string(body[100:200]) {
		t.Errorf("range 100-199 = %d bytes, not the object's", len(got))
	}
	if cr := resp.Header.Get("Content-Range"); cr != "bytes 100-199/"+strconv.Itoa(len(body)) {
		t.Errorf("Content-Range = %q", cr)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "audio/wav" {
		t.Errorf("Content-Type = %q", ct)
	}
	resp, got = e.get(t, c, clipPath+"/video")
	wantStatus(t, "whole video", resp, "", http.StatusOK)
	if got != string(body) {
		t.Errorf("whole video = %d bytes, want %d", len(got), len(body))
	}
	events, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Actor: "user:zhang.wei", Action: "view_clip"})
	must(t, err)
	if len(events) != 3 {
		t.Errorf("view_clip events = %d; want 3 (page and two video requests)", len(events))
	}
	for _, ev := range events {
		if ev.Outcome != evidock.AuditAllowed || ev.Object != "clip:"+e.clip.Digest.String() {
			t.Errorf("event %+v", ev)
		}
	}

	other := e.browser(t)
	e.login(t, other, "li.na")
	resp, b = e.get(t, other, clipPath)
	wantStatus(t, "clip of another district", resp, b, http.StatusForbidden)
	wantContains(t, "refused clip page", b, `id="access-form"`, "申请访问")
	wantNot(t, "refused clip page", b, "<video", "log-index")
	resp, b = e.get(t, other, clipPath+"/video", "Range", "bytes=0-")
	wantStatus(t, "video of another district", resp, b, http.StatusForbidden)
	resp, b = e.get(t, e.browser(t), clipPath+"/video")
	wantStatus(t, "video without a session", resp, b, http.StatusUnauthorized)
	denied, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Actor: "user:li.na", Action: "view_clip"})
	must(t, err)
	if len(denied) != 2 || denied[0].Outcome != evidock.AuditDenied {
		t.Errorf("li.na's view_clip events = %d, want 2 denied", len(denied))
	}
}

// objectBytes returns the test clip's footage as the test stored it.
func (e *env) objectBytes() ([]byte, error) {
	return wav(3), nil
}

func TestAccessRequestAndApproval(t *testing.T) {
	e := newEnv(t)
	clipPath := "/clips/" + e.clip.Digest.String()
	req := e.browser(t)
	e.login(t, req, "li.na")
	form := url.Values{"reason": {"复核投诉需要查看"}, "hours": {"24"}}
	resp, b := e.post(t, req, clipPath+"/access", form, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-origin access request", resp, b, http.StatusForbidden)
	resp, b = e.post(t, req, clipPath+"/access", url.Values{"reason": {""}, "hours": {"24"}})
	wantStatus(t, "request without a reason", resp, b, http.StatusBadRequest)
	resp, b = e.post(t, req, clipPath+"/access", form)
	wantStatus(t, "access request", resp, b, http.StatusSeeOther)
	_, b = e.get(t, req, resp.Header.Get("Location"))
	wantContains(t, "clip page after the request", b, "已提交访问申请", "pending", "复核投诉需要查看")

	// The requester cannot decide; the head of another district sees nothing.
	resp, b = e.get(t, req, "/approvals")
	wantStatus(t, "requester's approvals", resp, b, http.StatusOK)
	wantContains(t, "requester's approvals", b, "没有待审批的申请", "复核投诉需要查看")
	id := "1"
	resp, b = e.post(t, req, "/approvals/"+id, url.Values{"decision": {"approve"}, "reason": {"自己批"}})
	wantStatus(t, "requester approving", resp, b, http.StatusForbidden)
	far := e.browser(t)
	e.login(t, far, "zhao.min")
	_, b = e.get(t, far, "/approvals")
	wantNot(t, "other head's approvals", b, "复核投诉需要查看")
	resp, b = e.post(t, far, "/approvals/"+id, url.Values{"decision": {"approve"}, "reason": {"越权"}})
	wantStatus(t, "other district's head approving", resp, b, http.StatusForbidden)

	head := e.browser(t)
	e.login(t, head, "wang.fang")
	resp, b = e.get(t, head, "/approvals?lang=en")
	wantStatus(t, "head's approvals", resp, b, http.StatusOK)
	wantContains(t, "head's approvals (en)", b, "Access approvals", "li.na", "复核投诉需要查看", `action="/approvals/1"`, "Approve")
	resp, b = e.post(t, head, "/approvals/"+id, url.Values{"decision": {"approve"}, "reason": {"同意"}}, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-origin approval", resp, b, http.StatusForbidden)
	resp, b = e.post(t, head, "/approvals/"+id, url.Values{"decision": {"approve"}, "reason": {"同意"}})
	wantStatus(t, "approval", resp, b, http.StatusSeeOther)
	resp, b = e.post(t, head, "/approvals/"+id, url.Values{"decision": {"refuse"}, "reason": {"改主意"}})
	wantStatus(t, "second decision", resp, b, http.StatusConflict)

	resp, b = e.get(t, req, clipPath)
	wantStatus(t, "clip page with the grant", resp, b, http.StatusOK)
	wantContains(t, "clip page with the grant", b, "<video")
	resp, b = e.get(t, req, clipPath+"/video", "Range", "bytes=0-43")
	wantStatus(t, "video with the grant", resp, b, http.StatusPartialContent)
}

func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	e.login(t, c, "zhang.wei")
	e.get(t, c, "/clips/"+e.clip.Digest.String())
	resp, b := e.get(t, c, "/audit")
	wantStatus(t, "officer reading the audit", resp, b, http.StatusForbidden)
	wantNot(t, "officer's nav", b, `href="/audit"`)

	sup := e.browser(t)
	e.login(t, sup, "chen.jie")
	resp, b = e.get(t, sup, "/audit?user=zhang.wei&action=view_clip&from=2000-01-01&to=2999-12-31")
	wantStatus(t, "supervisor reading the audit", resp, b, http.StatusOK)
	wantContains(t, "audit page", b, `href="/audit"`, "user:zhang.wei", "view_clip", "clip:"+e.clip.Digest.String(), "审计日志")
	_, b = e.get(t, sup, "/audit?user=li.na&lang=en")
	wantContains(t, "audit page (en)", b, "No events", "Audit log")
	resp, b = e.get(t, sup, "/audit?from=yesterday")
	wantStatus(t, "bad date", resp, b, http.StatusBadRequest)
}

func TestStaticAndTexts(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/static/web.css", "/static/web.js", "/static/icon.svg"} {
		resp, err := http.Get(e.ts.URL + p)
		must(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %s", p, resp.Status)
		}
	}
	zh, en := web.Texts(web.LangZH), web.Texts(web.LangEN)
	for k := range zh {
		if en[k] == "" {
			t.Errorf("text %q has no English", k)
		}
	}
	for k := range en {
		if zh[k] == "" {
			t.Errorf("text %q has no Chinese", k)
		}
	}
}
