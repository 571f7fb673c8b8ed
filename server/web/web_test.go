package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server/storetest"
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
	forEachStore(t, func(t *testing.T, e *env) {
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
	})
}

func TestAPIKeepsItsAnswers(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		req, _ := http.NewRequest("DELETE", e.ts.URL+"/api/v1/clips", nil)
		resp, b := do(t, http.DefaultClient, req)
		wantStatus(t, "DELETE /api/v1/clips with the web UI mounted", resp, b, http.StatusMethodNotAllowed)
		resp, b = e.get(t, http.DefaultClient, "/healthz")
		wantStatus(t, "healthz", resp, b, http.StatusOK)
		resp, b = e.get(t, http.DefaultClient, "/api/v1/nothing")
		wantStatus(t, "unknown API path", resp, b, http.StatusNotFound)
		resp, b = e.get(t, http.DefaultClient, "/static/web.css")
		wantStatus(t, "static", resp, b, http.StatusOK)
	})
}

func TestCases(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
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
	})
}

func TestCasePage(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
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
	})
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
	forEachStore(t, func(t *testing.T, e *env) {
		body, err := e.objectBytes()
		must(t, err)
		c := e.browser(t)
		e.login(t, c, "zhang.wei")
		clipPath := "/clips/" + e.clip.Digest.String()
		resp, b := e.get(t, c, clipPath)
		wantStatus(t, "clip page", resp, b, http.StatusOK)
		wantContains(t, "clip page", b, `<video id="player"`, `src="`+clipPath+`/video?t=`, e.clip.Digest.String(), "A123456",
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
		// Without a playback ticket, each request is a view of its own.
		events, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Actor: "user:zhang.wei", Action: "view_clip"})
		must(t, err)
		if len(events) != 3 {
			t.Errorf("view_clip events = %d; want 3 (page and two video requests without a ticket)", len(events))
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
	})
}

var videoSrcRE = regexp.MustCompile(`<video id="player"[^>]* src="([^"]+)"`)

// videoURL opens the clip page of d with c and returns the player's source.
func (e *env) videoURL(t *testing.T, c *http.Client, d evidock.Digest) string {
	t.Helper()
	resp, b := e.get(t, c, "/clips/"+d.String())
	wantStatus(t, "clip page", resp, b, http.StatusOK)
	m := videoSrcRE.FindStringSubmatch(b)
	if m == nil {
		t.Fatalf("clip page has no player:\n%s", b)
	}
	return html.UnescapeString(m[1])
}

// views returns the view_clip events of login.
func (e *env) views(t *testing.T, login string) []*evidock.AuditEvent {
	t.Helper()
	events, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Actor: "user:" + login, Action: "view_clip"})
	must(t, err)
	return events
}

// TestPlaybackAuditedOnce plays a clip as a browser does, with many range
// requests carrying the clip page's playback ticket: the audit log holds one
// view, the page's. A second server instance on the same database honours
// the ticket. A ticket for another clip or another user, a forged one and
// an expired one are refused and audited; a valid ticket does not outlive
// the grant that allowed the view.
func TestPlaybackAuditedOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		body := wav(3)
		c := e.browser(t)
		e.login(t, c, "zhang.wei")
		src := e.videoURL(t, c, e.clip.Digest)
		if !strings.Contains(src, "?t=") {
			t.Fatalf("video URL %q carries no ticket", src)
		}
		for i := range 40 {
			from := i * len(body) / 40
			base := e.ts.URL
			if i%2 == 1 {
				base = e.second.URL // the other instance, same cookie and ticket
			}
			req, err := http.NewRequest("GET", base+src, nil)
			must(t, err)
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, from+999))
			resp, got := do(t, c, req)
			wantStatus(t, fmt.Sprintf("range request %d", i), resp, got, http.StatusPartialContent)
			if got != string(body[from:min(from+1000, len(body))]) {
				t.Fatalf("range request %d: wrong bytes", i)
			}
		}
		if views := e.views(t, "zhang.wei"); len(views) != 1 || views[0].Outcome != evidock.AuditAllowed {
			t.Fatalf("view_clip events after a playback of 40 range requests = %d (%+v); want 1, the page's", len(views), views)
		}

		// Another clip of the same officer: zhang's ticket for the first
		// clip does not play it.
		other := storetest.NewClip([]byte("another clip"), "A123456", "100001", started.Add(time.Hour), 2)
		other.StationID = "dock-01"
		must(t, e.objects.PutObject(context.Background(), other.ObjectKey, strings.NewReader("another clip"), 12, nil))
		_, err := e.db.RegisterClip(context.Background(), other)
		must(t, err)
		ticket := src[strings.Index(src, "?t="):]
		resp, b := e.get(t, c, "/clips/"+other.Digest.String()+"/video"+ticket, "Range", "bytes=0-3")
		wantStatus(t, "another clip's ticket", resp, b, http.StatusForbidden)
		wantContains(t, "another clip's ticket", b, "not for this clip and user")
		// A forged expiry breaks the MAC.
		forged := "?t=9" + ticket[len("?t="):]
		resp, b = e.get(t, c, src[:strings.Index(src, "?t=")]+forged, "Range", "bytes=0-3")
		wantStatus(t, "forged ticket", resp, b, http.StatusForbidden)

		// Another user, who may view the clip, with zhang's URL: refused.
		sup := e.browser(t)
		e.login(t, sup, "chen.jie")
		resp, b = e.get(t, sup, src, "Range", "bytes=0-3")
		wantStatus(t, "another user's ticket", resp, b, http.StatusForbidden)
		// Without a ticket the supervisor's request is a view, audited.
		resp, b = e.get(t, sup, src[:strings.Index(src, "?t=")], "Range", "bytes=0-3")
		wantStatus(t, "supervisor without a ticket", resp, b, http.StatusPartialContent)
		views := e.views(t, "chen.jie")
		if len(views) != 2 || views[0].Outcome != evidock.AuditDenied || !strings.Contains(views[0].Reason, "playback ticket") ||
			views[1].Outcome != evidock.AuditAllowed {
			t.Errorf("chen.jie's view_clip events = %+v; want the refused ticket, then the allowed view", views)
		}

		// The ticket expires.
		e.clock.add(playbackTTL + time.Minute)
		resp, b = e.get(t, c, src, "Range", "bytes=0-3")
		wantStatus(t, "expired ticket", resp, b, http.StatusForbidden)
		wantContains(t, "expired ticket", b, "expired")
		views = e.views(t, "zhang.wei")
		if len(views) != 4 || views[3].Outcome != evidock.AuditDenied {
			t.Errorf("zhang.wei's view_clip events = %d; want the page's, and three refused tickets", len(views))
		}
	})
}

// TestPlaybackTicketOutlivedByGrant: a ticket issued under a one-hour grant
// is refused once the grant has run out, though the ticket has not.
func TestPlaybackTicketOutlivedByGrant(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clipPath := "/clips/" + e.clip.Digest.String()
		req := e.browser(t)
		e.login(t, req, "li.na")
		resp, b := e.post(t, req, clipPath+"/access", url.Values{"reason": {"复核投诉需要查看"}, "hours": {"1"}})
		wantStatus(t, "access request", resp, b, http.StatusSeeOther)
		head := e.browser(t)
		e.login(t, head, "wang.fang")
		resp, b = e.post(t, head, "/approvals/1", url.Values{"decision": {"approve"}, "reason": {"同意"}})
		wantStatus(t, "approval", resp, b, http.StatusSeeOther)

		src := e.videoURL(t, req, e.clip.Digest)
		resp, b = e.get(t, req, src, "Range", "bytes=0-43")
		wantStatus(t, "playback with the grant", resp, b, http.StatusPartialContent)
		e.clock.add(61 * time.Minute)
		resp, b = e.get(t, req, src, "Range", "bytes=44-99")
		wantStatus(t, "playback after the grant ran out", resp, b, http.StatusForbidden)
		wantContains(t, "playback after the grant ran out", b, "expired")
		views := e.views(t, "li.na")
		if len(views) != 2 || views[0].Outcome != evidock.AuditAllowed || views[1].Outcome != evidock.AuditDenied {
			t.Errorf("li.na's view_clip events = %+v; want the page's view and the refusal", views)
		}
	})
}

// objectBytes returns the test clip's footage as the test stored it.
func (e *env) objectBytes() ([]byte, error) {
	return wav(3), nil
}

func TestAccessRequestAndApproval(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
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
	})
}

func TestAuditPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
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
	})
}

func TestStaticAndTexts(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
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
	})
}
