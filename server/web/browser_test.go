package web_test

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"evidock"
	"evidock/internal/browsertest"
)

// cspWatch records, in the page, every Content-Security-Policy violation:
// a part of the page that was refused.
const cspWatch = `window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); });`

// TestBrowserFlow drives the web UI in headless Chromium: an officer logs
// in, finds the case, opens it and plays its clip; an officer of another
// district is refused and requests access; the department head approves;
// the requester can then play the clip. It takes screenshots on the way.
func TestBrowserFlow(t *testing.T) {
	exe := browsertest.Chromium(t)
	// Chromium is the slow part, and the pages it drives are the ones the
	// plain-HTTP tests check on both stores: SQLite alone here.
	e := newEnv(t, "sqlite")
	shots := browsertest.ScreenshotDir(t)
	b := browsertest.Start(t, exe, 1440, 1000, chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	ctx, cancel := context.WithTimeout(b.Ctx, 3*time.Minute)
	defer cancel()
	start := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
		return err
	})
	if err := chromedp.Do(ctx, start, chromedp.EmulateViewport(1440, 1000)); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("%s (at %s): %v", what, loc, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	login := func(login string) {
		t.Helper()
		step("log in as "+login,
			chromedp.WaitVisible(chromedp.CSS("#login-form")),
			chromedp.SendKeys(chromedp.CSS("#login"), login),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery staple"),
			chromedp.Click(chromedp.CSS("#login-submit")),
			chromedp.WaitVisible(chromedp.CSS("#user-name")),
		)
	}
	logout := func() {
		t.Helper()
		step("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	}
	// videoLoaded waits until the player has the footage's metadata, and
	// returns its readyState.
	videoLoaded := func(who string) {
		t.Helper()
		state, err := chromedp.Run(ctx, chromedp.Poll[int](`(() => { const v = document.getElementById("player"); return v && v.readyState >= 1 ? v.readyState : 0; })()`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			t.Fatalf("%s: the video did not load: %v; video answers %v", who, err, e.videoStatuses())
		}
		if !slices.Contains(e.videoStatuses(), 206) {
			t.Errorf("%s: no range request answered 206; video answers %v", who, e.videoStatuses())
		}
		t.Logf("%s: video readyState %d, video answers %v", who, state, e.videoStatuses())
	}

	// The officer: login (zh-CN), case list, case page, clip.
	step("open", chromedp.Navigate(e.ts.URL+"/"))
	if got := text("#login-form"); !strings.Contains(got, "用户名") {
		t.Errorf("login form says %q, want Chinese", got)
	}
	screenshot(t, ctx, filepath.Join(shots, "web-login-zh-CN.png"))
	login("zhang.wei")
	step("case list", chromedp.WaitVisible(chromedp.CSS("#cases")))
	if got := text("header"); !strings.Contains(got, "用户 zhang.wei") || !strings.Contains(got, "officer@city/d1/t2") {
		t.Errorf("header says %q, want the user's name and roles", got)
	}
	if got := text("#cases"); !strings.Contains(got, caseNumber) || strings.Contains(got, otherCase) {
		t.Errorf("case list says %q", got)
	}
	screenshot(t, ctx, filepath.Join(shots, "web-cases-zh-CN.png"))
	step("case page", chromedp.Click(chromedp.CSS("a.case-link")), chromedp.WaitVisible(chromedp.CSS(".activity")))
	if got := text("#missing"); !strings.Contains(got, "缺少必须的音像记录") {
		t.Errorf("case page says %q, want the missing recording", got)
	}
	if got := text(".activity .rule"); !strings.Contains(got, "必须全程音像记录") {
		t.Errorf("activity says %q, want its recording rule", got)
	}
	step("confirm the suggested link",
		chromedp.SendKeys(chromedp.CSS(".link-form input[name=reason]"), "画面为本次检查"),
		chromedp.Click(chromedp.CSS(`.link-form button[value=confirm]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := text("#missing"); !strings.Contains(got, "必须的音像记录齐全") {
		t.Errorf("after confirming, case page says %q", got)
	}
	screenshot(t, ctx, filepath.Join(shots, "web-case-zh-CN.png"))
	step("clip page", chromedp.Click(chromedp.CSS("a.clip-link")), chromedp.WaitVisible(chromedp.CSS("#player")))
	videoLoaded("officer")
	screenshot(t, ctx, filepath.Join(shots, "web-clip-zh-CN.png"))
	// However many range requests the player made, the playback is one
	// view in the audit log: the clip page's.
	if n, views := len(e.videoStatuses()), clipViews(t, e, "zhang.wei"); views != 1 {
		t.Errorf("the officer's playback (%d video requests) is %d view_clip events of the clip; want 1", n, views)
	} else {
		t.Logf("the officer's playback: %d video requests, 1 audited view", n)
	}
	clipURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	logout()

	// An officer of another district, in English: refused, asks.
	step("English", chromedp.Navigate(e.ts.URL+"/login?lang=en"), chromedp.WaitVisible(chromedp.CSS("#login-form")))
	u, _ := url.Parse(clipURL)
	step("clip, logged out", chromedp.Navigate(e.ts.URL+u.Path))
	login("li.na")
	step("refused clip", chromedp.WaitVisible(chromedp.CSS("#access-form")))
	if got := text("#refused"); !strings.Contains(got, "You may not view this clip") {
		t.Errorf("refused clip page says %q", got)
	}
	step("request access",
		chromedp.SendKeys(chromedp.CSS("#access-reason"), "复核投诉需要查看 (complaint review)"),
		chromedp.Click(chromedp.CSS("#access-submit")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if got := text(".flash"); !strings.Contains(got, "Access requested") {
		t.Errorf("after the request the page says %q", got)
	}
	screenshot(t, ctx, filepath.Join(shots, "web-access-request-en.png"))
	logout()

	// The department head approves.
	step("zh-CN again", chromedp.Navigate(e.ts.URL+"/login?lang=zh-CN"))
	login("wang.fang")
	step("approvals", chromedp.Click(chromedp.CSS(`header nav a[href="/approvals"]`)), chromedp.WaitVisible(chromedp.CSS("#pending")))
	if got := text("#pending"); !strings.Contains(got, "li.na") || !strings.Contains(got, "complaint review") {
		t.Errorf("approvals say %q", got)
	}
	screenshot(t, ctx, filepath.Join(shots, "web-approvals-zh-CN.png"))
	step("approve",
		chromedp.SendKeys(chromedp.CSS(".decide-form input[name=reason]"), "同意，限24小时"),
		chromedp.Click(chromedp.CSS(".decide-form button.approve")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	logout()

	// The requester can now play the clip.
	step("clip with the grant", chromedp.Navigate(e.ts.URL+u.Path))
	login("li.na")
	step("player", chromedp.WaitVisible(chromedp.CSS("#player")))
	videoLoaded("requester with a grant")
	screenshot(t, ctx, filepath.Join(shots, "web-clip-granted.png"))

	// Everything came from the server, and the policy refused nothing.
	res, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.name).concat(window.__csp)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !strings.HasPrefix(r, e.ts.URL+"/") {
			t.Errorf("page loaded or was refused %q, not from the server", r)
		}
	}
	for _, p := range b.Problems() {
		t.Errorf("page error: %s", p)
	}
}

// clipViews counts the view_clip events of login on the env's clip.
func clipViews(t *testing.T, e *env, login string) int {
	t.Helper()
	events, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Actor: "user:" + login, Action: "view_clip"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range events {
		if ev.Object == "clip:"+e.clip.Digest.String() {
			n++
		}
	}
	return n
}

// screenshot writes a PNG of the whole page to path and checks that it
// decodes and is not blank.
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	colours := map[uint32]bool{}
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 3 {
		for x := bd.Min.X; x < bd.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
		}
	}
	t.Logf("screenshot %s: %dx%d, %d colours", path, bd.Dx(), bd.Dy(), len(colours))
	if len(colours) < 16 {
		t.Errorf("screenshot %s looks blank: %d colours", path, len(colours))
	}
}
