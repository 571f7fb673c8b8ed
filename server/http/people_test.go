package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/s3"
	"evidock/server"
	"evidock/server/audit"
	"evidock/server/auth"
	evhttp "evidock/server/http"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// peopleStore is a registry database with users, as both stores are.
type peopleStore interface {
	storetest.PeopleStore
	storetest.ScopeStore
	evidock.StationService
	evidock.RecorderService
	Ping(ctx context.Context) error
}

// peopleEnv is a case server with logins on a real database and a real
// S3-compatible store, with two stations and a bureau of users:
//
//	zhang.wei  officer 100001 in city/d1/t2 (the clips' officer)
//	li.na      officer 100002 in city/d2/t1
//	chen.jie   supervisor of city/d1
//	wang.fang  department head of city/d1
//	zhao.min   department head of city/d2
//	admin      administrator of city
//
// in the units and officers of storetest.SeedCity, authorized by
// server.RegistryScope.
type peopleEnv struct {
	db       peopleStore
	objects  *s3.Store
	ts       *httptest.Server
	station  string // token of dock-01
	station2 string // token of dock-02
	clock    *testClock
	users    map[string]*evidock.User
	log      *syncBuffer
}

// testClock is the clock grants are checked by; it starts at the real
// time, so that sessions (on the real clock) and grants agree at first.
type testClock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

// forEachStore runs f on SQLite and on PostgreSQL.
func forEachStore(t *testing.T, f func(t *testing.T, e *peopleEnv)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { f(t, newPeopleEnv(t, backend)) })
	}
}

func newPeopleEnv(t *testing.T, backend string) *peopleEnv {
	t.Helper()
	ctx := context.Background()
	var db peopleStore
	switch backend {
	case "sqlite":
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "evidock.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		db = s
	case "postgres":
		dsn := pgtest.NewSchema(t)
		p, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		db = p
	}
	objects := s3test.Start(t).MustOpen(t)
	e := &peopleEnv{db: db, objects: objects, clock: &testClock{}, users: map[string]*evidock.User{}, log: &syncBuffer{}}
	var err error
	if e.station, err = db.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
		t.Fatal(err)
	}
	if e.station2, err = db.CreateStation(ctx, &evidock.Station{ID: "dock-02"}); err != nil {
		t.Fatal(err)
	}
	storetest.SeedCity(t, db)
	for _, u := range []*evidock.User{
		storetest.NewUser("zhang.wei", "100001", "officer@city/d1/t2"),
		storetest.NewUser("li.na", "100002", "officer@city/d2/t1"),
		storetest.NewUser("chen.jie", "", "supervisor@city/d1"),
		storetest.NewUser("wang.fang", "", "department_head@city/d1"),
		storetest.NewUser("zhao.min", "", "department_head@city/d2"),
		storetest.NewUser("admin", "", "administrator@city"),
	} {
		e.users[u.Login] = storetest.MustCreateUser(t, db, u)
	}
	policy := auth.DefaultPolicy
	policy.Params = auth.TestParams
	policy.MaxFailuresPerLogin = 3
	authSvc, err := auth.New(db, policy)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := &server.Registry{Clips: db, Objects: objects, VerifyDigest: true}
	srv := evhttp.NewServer(reg, db, db, db.Ping, logger)
	if err := srv.SetPeople(&evhttp.PeopleConfig{Auth: authSvc, Access: db, Audit: db, Scope: server.NewRegistryScope(db, db, db),
		Objects: objects, Now: e.clock.now}); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(srv)
	t.Cleanup(e.ts.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.log.String())
		}
	})
	return e
}

// register uploads body as a clip of officer 100001 and registers it with
// the station token.
func (e *peopleEnv) register(t *testing.T, token, body string, seq int) *evidock.Clip {
	t.Helper()
	return e.registerAs(t, token, "100001", body, seq)
}

// registerAs is register for a clip of officer.
func (e *peopleEnv) registerAs(t *testing.T, token, officer, body string, seq int) *evidock.Clip {
	t.Helper()
	c := storetest.NewClip([]byte(body), "A123456", officer, started.Add(time.Duration(seq)*time.Minute), seq)
	if err := e.objects.PutObject(context.Background(), c.ObjectKey, strings.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
	resp, b := e.call(t, nil, "POST", "/api/v1/clips", clipJSON(t, c), "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register = %s %s", resp.Status, b)
	}
	var got evidock.Clip
	json.Unmarshal(b, &got)
	return &got
}

// call sends a request with client c (a logged-in browser), or a plain
// client if c is nil, and returns the response and its body.
func (e *peopleEnv) call(t *testing.T, c *http.Client, method, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "evidock-test-browser")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c == nil {
		c = e.ts.Client()
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// browser returns a client with a cookie jar, logged in as login.
func (e *peopleEnv) browser(t *testing.T, login string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: e.ts.Client().Transport}
	resp, b := e.call(t, c, "POST", "/api/v1/login", fmt.Sprintf(`{"login":%q,"password":%q}`, login, storetest.TestPassword))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s = %s %s", login, resp.Status, b)
	}
	return c
}

// events returns the audit events of action, read straight from the store.
func (e *peopleEnv) events(t *testing.T, action string) []*evidock.AuditEvent {
	t.Helper()
	events, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func wantStatus(t *testing.T, what string, resp *http.Response, b []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s = %s %s; want %d", what, resp.Status, b, status)
	}
}

func TestLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: e.ts.Client().Transport}
		resp, b := e.call(t, c, "POST", "/api/v1/login", `{"login":"zhang.wei","password":"`+storetest.TestPassword+`"}`)
		wantStatus(t, "login", resp, b, http.StatusOK)
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == evhttp.SessionCookie {
				cookie = ck
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" ||
			!strings.HasPrefix(cookie.Value, auth.SessionTokenPrefix) || cookie.MaxAge <= 0 {
			t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Strict, Path=/, a token and an expiry", cookie)
		}
		if strings.Contains(string(b), cookie.Value) {
			t.Fatal("the token is in the body as well as the cookie")
		}
		resp, b = e.call(t, c, "GET", "/api/v1/me", "")
		wantStatus(t, "me", resp, b, http.StatusOK)
		var me struct {
			User   evidock.User
			Scopes map[string]map[string]string
		}
		json.Unmarshal(b, &me)
		if me.User.Login != "zhang.wei" || me.Scopes["view_clip"]["city/d1/t2"] != "unit" || me.Scopes["download_clip"] != nil {
			t.Fatalf("me = %s", b)
		}

		// Wrong password, unknown user: the same 401.
		for _, body := range []string{
			`{"login":"zhang.wei","password":"wrong password"}`,
			`{"login":"nobody","password":"wrong password"}`,
		} {
			resp, b := e.call(t, nil, "POST", "/api/v1/login", body)
			if code, msg := apiError(t, b); resp.StatusCode != http.StatusUnauthorized || code != evidock.EUNAUTHORIZED || msg != "wrong login or password" {
				t.Fatalf("bad login %s = %s %s", body, resp.Status, b)
			}
		}
		// Strict bodies.
		resp, b = e.call(t, nil, "POST", "/api/v1/login", `{"login":"zhang.wei","pasword":"x"}`)
		if _, msg := apiError(t, b); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "unknown field \"pasword\"") {
			t.Fatalf("misspelt field = %s %s", resp.Status, b)
		}
		// Rate limited: the policy allows 3 failures per login.
		e.call(t, nil, "POST", "/api/v1/login", `{"login":"zhang.wei","password":"wrong again!"}`)
		e.call(t, nil, "POST", "/api/v1/login", `{"login":"zhang.wei","password":"and again!!"}`)
		resp, b = e.call(t, nil, "POST", "/api/v1/login", `{"login":"zhang.wei","password":"`+storetest.TestPassword+`"}`)
		if code, _ := apiError(t, b); resp.StatusCode != http.StatusTooManyRequests || code != evidock.ERATELIMITED {
			t.Fatalf("login after 3 failures = %s %s; want 429", resp.Status, b)
		}
		// The session from before is still good.
		resp, b = e.call(t, c, "GET", "/api/v1/me", "")
		wantStatus(t, "me after the lockout", resp, b, http.StatusOK)

		// Logout ends it.
		resp, b = e.call(t, c, "POST", "/api/v1/logout", "")
		wantStatus(t, "logout", resp, b, http.StatusOK)
		resp, b = e.call(t, nil, "GET", "/api/v1/me", "", "Cookie", evhttp.SessionCookie+"="+cookie.Value)
		wantStatus(t, "me with the old cookie after logout", resp, b, http.StatusUnauthorized)
		resp, b = e.call(t, nil, "GET", "/api/v1/me", "")
		wantStatus(t, "me without a cookie", resp, b, http.StatusUnauthorized)

		// Every attempt is audited, with where it came from.
		logins := e.events(t, evidock.AuditLogin)
		if len(logins) != 6 || logins[0].Outcome != evidock.AuditAllowed || logins[5].Outcome != evidock.AuditDenied ||
			logins[0].UserAgent != "evidock-test-browser" || !strings.HasPrefix(logins[0].RemoteAddr, "127.0.0.1:") {
			t.Fatalf("login events = %v", eventsString(logins))
		}
	})
}

func TestSecureCookie(t *testing.T) {
	e := newPeopleEnv(t, "sqlite")
	authSvc, err := auth.New(e.db, auth.Policy{SessionTTL: time.Hour, IdleTimeout: time.Minute, MaxFailuresPerLogin: 5,
		MaxFailuresPerAddr: 5, FailureWindow: time.Minute, Params: auth.TestParams})
	if err != nil {
		t.Fatal(err)
	}
	srv := evhttp.NewServer(e.db, e.db, e.db, nil, nil)
	if err := srv.SetPeople(&evhttp.PeopleConfig{Auth: authSvc, Access: e.db, Audit: e.db, Scope: server.NewRegistryScope(e.db, e.db, e.db), CookieSecure: true}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"login":"admin","password":"`+storetest.TestPassword+`"}`)))
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusOK || len(cookies) != 1 || cookies[0].Name != "__Host-"+evhttp.SessionCookie || !cookies[0].Secure {
		t.Fatalf("login with CookieSecure = %d %v; want a Secure __Host- cookie", rec.Code, cookies)
	}
}

// TestCrossOriginRefused shows CSRF protection: a browser's cross-origin
// POST is refused, with or without a session, and changes nothing; the
// same request from the server's own origin, and a station's, go through.
func TestCrossOriginRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		clip := e.register(t, e.station, "footage for csrf", 1)
		li := e.browser(t, "li.na")
		body := fmt.Sprintf(`{"actions":["view_clip"],"clips":[%q],"reason":"csrf","duration_seconds":3600}`, clip.Digest)
		for _, h := range [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
			{"Origin", "http://evil.example"},
		} {
			resp, b := e.call(t, li, "POST", "/api/v1/access-requests", body, h...)
			if code, msg := apiError(t, b); resp.StatusCode != http.StatusForbidden || code != evidock.EFORBIDDEN || !strings.Contains(msg, "cross-origin") {
				t.Errorf("access request with %s = %s %s; want 403 cross-origin", h, resp.Status, b)
			}
			resp, b = e.call(t, nil, "POST", "/api/v1/login", `{"login":"li.na","password":"`+storetest.TestPassword+`"}`, h...)
			wantStatus(t, fmt.Sprintf("login with %s", h), resp, b, http.StatusForbidden)
		}
		reqs, _ := e.db.FindAccessRequests(context.Background(), evidock.AccessRequestFilter{})
		if len(reqs) != 0 {
			t.Fatalf("%d access requests stored by refused cross-origin posts", len(reqs))
		}
		resp, b := e.call(t, li, "POST", "/api/v1/access-requests", body, "Sec-Fetch-Site", "same-origin", "Origin", e.ts.URL)
		wantStatus(t, "same-origin access request", resp, b, http.StatusCreated)
		// Reads are not state-changing, and stations send no cookies.
		resp, b = e.call(t, li, "GET", "/api/v1/me", "", "Sec-Fetch-Site", "cross-site")
		wantStatus(t, "cross-site GET", resp, b, http.StatusOK)
		c2 := storetest.NewClip([]byte("station post"), "A123456", "100001", started, 9)
		e.objects.PutObject(context.Background(), c2.ObjectKey, strings.NewReader("station post"), 12, nil)
		resp, b = e.call(t, nil, "POST", "/api/v1/clips", clipJSON(t, c2), "Authorization", "Bearer "+e.station, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, "station registration", resp, b, http.StatusCreated)
	})
}

// TestClipViews shows who sees a clip by role and unit, that each user's
// view is audited (allowed or not), and that station reads stay as they
// were, unaudited.
func TestClipViews(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		clip := e.register(t, e.station, "footage of an inspection", 1)
		path := "/api/v1/clips/" + clip.Digest.String()
		for _, tt := range []struct {
			login  string
			status int
		}{
			{"zhang.wei", http.StatusOK},       // the officer's own unit
			{"chen.jie", http.StatusOK},        // supervisor above it
			{"wang.fang", http.StatusOK},       // department head above it
			{"li.na", http.StatusForbidden},    // an officer of another unit
			{"zhao.min", http.StatusForbidden}, // the head of another district
			{"admin", http.StatusForbidden},    // administrators see no footage
		} {
			resp, b := e.call(t, e.browser(t, tt.login), "GET", path, "")
			wantStatus(t, tt.login+" GET clip", resp, b, tt.status)
		}
		views := e.events(t, evidock.AuditViewClip)
		if len(views) != 6 {
			t.Fatalf("%d view events; want 6: %v", len(views), eventsString(views))
		}
		if v := views[0]; v.Actor != "user:zhang.wei" || v.Object != "clip:"+clip.Digest.String() || v.Unit != "city/d1/t2" ||
			v.Outcome != evidock.AuditAllowed || v.Reason != "officer@city/d1/t2" || v.UserAgent != "evidock-test-browser" || v.RemoteAddr == "" {
			t.Errorf("view event = %+v", v)
		}
		if v := views[5]; v.Actor != "user:admin" || v.Outcome != evidock.AuditDenied || !strings.Contains(v.Reason, "ask a department head") {
			t.Errorf("refused view event = %+v", v)
		}
		// A station reads as before, and is not audited.
		resp, b := e.call(t, nil, "GET", path, "", "Authorization", "Bearer "+e.station)
		wantStatus(t, "station GET clip", resp, b, http.StatusOK)
		if n := len(e.events(t, evidock.AuditViewClip)); n != 6 {
			t.Fatalf("a station read was audited: %d view events", n)
		}
		// Downloads are for archivists, or by grant.
		resp, b = e.call(t, e.browser(t, "chen.jie"), "GET", path+"/content", "")
		wantStatus(t, "supervisor download", resp, b, http.StatusForbidden)
		resp, b = e.call(t, nil, "GET", path+"/content", "", "Authorization", "Bearer "+e.station)
		wantStatus(t, "station download", resp, b, http.StatusUnauthorized)
		if _, _, err := audit.VerifyStore(context.Background(), e.db, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAccessRequestFlow is Art. 19 end to end: an officer of another unit
// asks, the wrong department head and the requester cannot decide, the
// right one approves, the grant opens the clip and its footage, and once it
// expires it opens nothing.
func TestAccessRequestFlow(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		clip := e.register(t, e.station, "footage the other unit needs", 1)
		path := "/api/v1/clips/" + clip.Digest.String()
		li, zhao, wang := e.browser(t, "li.na"), e.browser(t, "zhao.min"), e.browser(t, "wang.fang")

		resp, b := e.call(t, li, "GET", path, "")
		wantStatus(t, "view before asking", resp, b, http.StatusForbidden)
		resp, b = e.call(t, li, "POST", "/api/v1/access-requests",
			fmt.Sprintf(`{"actions":["view_clip","download_clip"],"clips":[%q],"reason":"联合检查 2024-09 需要","duration_seconds":7200}`, clip.Digest))
		wantStatus(t, "request", resp, b, http.StatusCreated)
		var req evidock.AccessRequest
		json.Unmarshal(b, &req)
		if req.State != evidock.AccessPending || fmt.Sprint(req.Units) != "[city/d1/t2]" || req.Requester != "li.na" {
			t.Fatalf("request = %s", b)
		}
		for _, bad := range []string{
			`{"actions":["approve_access"],"clips":["` + clip.Digest.String() + `"],"reason":"x","duration_seconds":60}`,
			`{"actions":["view_clip"],"clips":["` + clip.Digest.String() + `"],"reason":"","duration_seconds":60}`,
			`{"actions":["view_clip"],"clips":["` + clip.Digest.String() + `"],"reason":"x","duration_seconds":99999999}`,
			`{"actions":["view_clip"],"clips":["nothex"],"reason":"x","duration_seconds":60}`,
			`{"actions":["view_clip"],"clips":["` + clip.Digest.String() + `"],"reason":"x","duration_seconds":60,"state":"approved"}`,
		} {
			resp, b := e.call(t, li, "POST", "/api/v1/access-requests", bad)
			wantStatus(t, "bad request "+bad, resp, b, http.StatusBadRequest)
		}
		decide := func(c *http.Client, verb string) (*http.Response, []byte) {
			return e.call(t, c, "POST", fmt.Sprintf("/api/v1/access-requests/%d/%s", req.ID, verb), `{"reason":"联合检查已立案"}`)
		}
		// The head of another district may not decide it, nor see it.
		resp, b = decide(zhao, "approve")
		wantStatus(t, "approval by the head of another district", resp, b, http.StatusForbidden)
		resp, b = e.call(t, zhao, "GET", fmt.Sprintf("/api/v1/access-requests/%d", req.ID), "")
		wantStatus(t, "request seen by the head of another district", resp, b, http.StatusNotFound)
		resp, b = decide(li, "approve")
		wantStatus(t, "approval by the requester", resp, b, http.StatusForbidden)

		// The head of city/d1 sees it pending and approves it.
		resp, b = e.call(t, wang, "GET", "/api/v1/access-requests?state=pending", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"id":`+fmt.Sprint(req.ID)) {
			t.Fatalf("pending requests for wang.fang = %s %s", resp.Status, b)
		}
		resp, b = e.call(t, zhao, "GET", "/api/v1/access-requests?state=pending", "")
		if resp.StatusCode != http.StatusOK || string(b) != "{\"requests\":[]}\n" {
			t.Fatalf("pending requests for zhao.min = %s %s; want none", resp.Status, b)
		}
		resp, b = decide(wang, "approve")
		wantStatus(t, "approval", resp, b, http.StatusOK)
		var approved evidock.AccessRequest
		json.Unmarshal(b, &approved)
		if approved.State != evidock.AccessApproved || approved.Decider != "wang.fang" || approved.ValidUntil.Sub(approved.DecidedAt) != 2*time.Hour {
			t.Fatalf("approved = %s", b)
		}
		resp, b = decide(wang, "refuse")
		wantStatus(t, "deciding again", resp, b, http.StatusConflict)

		// The grant opens the clip and its footage to li.na alone.
		resp, b = e.call(t, li, "GET", path, "")
		wantStatus(t, "view by grant", resp, b, http.StatusOK)
		resp, b = e.call(t, li, "GET", path+"/content", "")
		wantStatus(t, "download by grant", resp, b, http.StatusOK)
		if string(b) != "footage the other unit needs" || resp.Header.Get("Content-Disposition") == "" {
			t.Fatalf("downloaded %q (%v)", b, resp.Header)
		}
		resp, b = e.call(t, e.browser(t, "admin"), "GET", path, "")
		wantStatus(t, "view by someone else", resp, b, http.StatusForbidden)

		// Expired, it opens nothing, and says so.
		e.clock.add(2*time.Hour + time.Second)
		resp, b = e.call(t, li, "GET", path, "")
		if _, msg := apiError(t, b); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, fmt.Sprintf("grant %d expired", req.ID)) {
			t.Fatalf("view by an expired grant = %s %s; want 403 naming the expired grant", resp.Status, b)
		}
		resp, b = e.call(t, li, "GET", path+"/content", "")
		wantStatus(t, "download by an expired grant", resp, b, http.StatusForbidden)

		// Everything is in the audit log: who, what, why, from where.
		want := map[string][]string{
			evidock.AuditRequestAccess: {"user:li.na allowed"},
			evidock.AuditApproveAccess: {"user:zhao.min denied", "user:li.na denied", "user:wang.fang allowed"},
			evidock.AuditRefuseAccess:  {}, // deciding again conflicts, and changes nothing
			evidock.AuditDownloadClip:  {"user:li.na allowed", "user:li.na denied"},
		}
		for action, w := range want {
			var got []string
			for _, ev := range e.events(t, action) {
				got = append(got, ev.Actor+" "+ev.Outcome)
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s events = %v; want %v", action, got, w)
			}
		}
		views := e.events(t, evidock.AuditViewClip)
		if v := views[len(views)-3]; v.Actor != "user:li.na" || v.Reason != fmt.Sprintf("grant %d", req.ID) {
			t.Errorf("view by grant event = %+v; want the grant as its reason", v)
		}
		if ev := e.events(t, evidock.AuditApproveAccess)[2]; ev.Reason != "联合检查已立案" || ev.Object != fmt.Sprintf("access_request:%d", req.ID) {
			t.Errorf("approval event = %+v", ev)
		}
		if _, _, err := audit.VerifyStore(context.Background(), e.db, nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAuditAPI shows that the audit is read within read_audit's scope only,
// and that reading it is audited.
func TestAuditAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		clip := e.register(t, e.station, "footage", 1)
		e.call(t, e.browser(t, "zhang.wei"), "GET", "/api/v1/clips/"+clip.Digest.String(), "") // city/d1/t2
		e.call(t, e.browser(t, "li.na"), "GET", "/api/v1/clips/"+clip.Digest.String(), "")     // denied, still city/d1/t2
		chen := e.browser(t, "chen.jie")

		resp, b := e.call(t, chen, "GET", "/api/v1/audit?action=view_clip", "")
		wantStatus(t, "supervisor reads the audit", resp, b, http.StatusOK)
		var list struct{ Events []*evidock.AuditEvent }
		json.Unmarshal(b, &list)
		if len(list.Events) != 2 || list.Events[0].Actor != "user:zhang.wei" || list.Events[1].Outcome != evidock.AuditDenied {
			t.Fatalf("audit for chen.jie = %v", eventsString(list.Events))
		}
		resp, b = e.call(t, chen, "GET", "/api/v1/audit?user=li.na&unit=city/d1/t2", "")
		json.Unmarshal(b, &list)
		// Her refused view; her login, filed under her own unit city/d2/t1,
		// is outside the unit asked for.
		if resp.StatusCode != http.StatusOK || len(list.Events) != 1 || list.Events[0].Action != evidock.AuditViewClip {
			t.Fatalf("audit of li.na in city/d1/t2 = %s %s", resp.Status, b)
		}
		// Logins of city/d2 people are outside city/d1.
		resp, b = e.call(t, chen, "GET", "/api/v1/audit?action=login", "")
		json.Unmarshal(b, &list)
		for _, ev := range list.Events {
			if !evidock.UnitWithin(ev.Unit, "city/d1") {
				t.Errorf("chen.jie was shown an event of unit %q", ev.Unit)
			}
		}
		for _, tt := range []struct {
			who, query string
			status     int
		}{
			{"chen.jie", "unit=city/d2", http.StatusForbidden},
			{"chen.jie", "unit=city", http.StatusForbidden},
			{"zhang.wei", "", http.StatusForbidden},
			{"admin", "", http.StatusForbidden},
			{"zhao.min", "unit=city/d2", http.StatusOK},
			{"chen.jie", "unknown=1", http.StatusBadRequest},
			{"chen.jie", "unit=city//d1", http.StatusBadRequest},
		} {
			c := chen
			if tt.who != "chen.jie" {
				c = e.browser(t, tt.who)
			}
			resp, b := e.call(t, c, "GET", "/api/v1/audit?"+tt.query, "")
			wantStatus(t, tt.who+" audit?"+tt.query, resp, b, tt.status)
		}
		reads := e.events(t, evidock.AuditReadAudit)
		if len(reads) != 8 || reads[0].Actor != "user:chen.jie" || reads[0].Object != "audit?action=view_clip" || reads[3].Outcome != evidock.AuditDenied {
			t.Fatalf("read_audit events = %v", eventsString(reads))
		}
	})
}

// TestUsersAPI shows administrators managing users within their scope, and
// that a disabled user's session ends.
func TestUsersAPI(t *testing.T) {
	e := newPeopleEnv(t, "sqlite")
	admin := e.browser(t, "admin")
	resp, b := e.call(t, admin, "POST", "/api/v1/users",
		`{"login":"sun.li","name":"孙丽","officer_no":"100003","roles":[{"role":"archivist","unit":"city/d1"}],"password":"`+storetest.TestPassword+`"}`)
	wantStatus(t, "create user", resp, b, http.StatusCreated)
	if strings.Contains(string(b), "password") {
		t.Fatalf("the answer shows the password: %s", b)
	}
	sun := e.browser(t, "sun.li")
	resp, b = e.call(t, sun, "GET", "/api/v1/me", "")
	wantStatus(t, "new user's me", resp, b, http.StatusOK)

	wang := e.browser(t, "wang.fang")
	resp, b = e.call(t, wang, "POST", "/api/v1/users", `{"login":"x1","name":"x","roles":[{"role":"officer","unit":"city/d1"}],"password":"a long enough password"}`)
	wantStatus(t, "a department head creating a user", resp, b, http.StatusForbidden)
	resp, b = e.call(t, admin, "POST", "/api/v1/users", `{"login":"x2","name":"x","roles":[{"role":"officer","unit":"town/d1"}],"password":"a long enough password"}`)
	wantStatus(t, "a user outside the administrator's scope", resp, b, http.StatusForbidden)
	resp, b = e.call(t, admin, "POST", "/api/v1/users", `{"login":"x3","name":"x","roles":[{"role":"officer","unit":"city/d1"}],"password":"short"}`)
	wantStatus(t, "a short password", resp, b, http.StatusBadRequest)

	resp, b = e.call(t, admin, "POST", "/api/v1/users/sun.li/disable", "")
	wantStatus(t, "disable", resp, b, http.StatusOK)
	resp, b = e.call(t, sun, "GET", "/api/v1/me", "")
	wantStatus(t, "disabled user's session", resp, b, http.StatusUnauthorized)
	resp, b = e.call(t, admin, "POST", "/api/v1/users/admin/disable", "")
	wantStatus(t, "disabling oneself", resp, b, http.StatusForbidden)
	resp, b = e.call(t, admin, "POST", "/api/v1/users/sun.li/enable", "")
	wantStatus(t, "enable", resp, b, http.StatusOK)
	if got := eventsString(e.events(t, evidock.AuditCreateUser)); len(got) != 9 { // 6 at setup, 1 made, 2 refused (the short password never got that far)
		t.Fatalf("create_user events = %v", got)
	}
}

// TestStationOwnsItsClips pins that a station registers clips only as
// itself: the station id comes from the token, whatever the body says; a
// clip registered by one station is not re-attributed by another's repeat;
// a station token opens no user route, and a session opens no station
// route.
func TestStationOwnsItsClips(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *peopleEnv) {
		c := storetest.NewClip([]byte("dock-01's footage"), "A123456", "100001", started, 1)
		e.objects.PutObject(context.Background(), c.ObjectKey, strings.NewReader("dock-01's footage"), c.Size, nil)
		c.StationID = "dock-01"
		resp, b := e.call(t, nil, "POST", "/api/v1/clips", clipJSON(t, c), "Authorization", "Bearer "+e.station2)
		wantStatus(t, "dock-02 registering as dock-01", resp, b, http.StatusCreated)
		var got evidock.Clip
		json.Unmarshal(b, &got)
		if got.StationID != "dock-02" {
			t.Fatalf("a clip sent by dock-02 claiming dock-01 is stored as %q; want dock-02", got.StationID)
		}
		resp, b = e.call(t, nil, "POST", "/api/v1/clips", clipJSON(t, c), "Authorization", "Bearer "+e.station)
		json.Unmarshal(b, &got)
		if resp.StatusCode != http.StatusOK || got.StationID != "dock-02" {
			t.Fatalf("dock-01 repeating dock-02's clip = %s, station %q; want 200 and the clip as first registered", resp.Status, got.StationID)
		}
		stored, _ := e.db.FindClipByDigest(context.Background(), c.Digest)
		if stored.StationID != "dock-02" {
			t.Fatalf("stored station = %q", stored.StationID)
		}

		resp, b = e.call(t, nil, "GET", "/api/v1/me", "", "Authorization", "Bearer "+e.station)
		wantStatus(t, "a station token on a user route", resp, b, http.StatusUnauthorized)
		zhang := e.browser(t, "zhang.wei")
		c2 := storetest.NewClip([]byte("from a browser"), "A123456", "100001", started, 2)
		e.objects.PutObject(context.Background(), c2.ObjectKey, strings.NewReader("from a browser"), c2.Size, nil)
		resp, b = e.call(t, zhang, "POST", "/api/v1/clips", clipJSON(t, c2))
		wantStatus(t, "a user registering a clip", resp, b, http.StatusUnauthorized)
		// No route edits or deletes a clip (Art. 17).
		for _, method := range []string{"PUT", "PATCH", "DELETE"} {
			for _, auth := range [][]string{{"Authorization", "Bearer " + e.station}, nil} {
				resp, b := e.call(t, zhang, method, "/api/v1/clips/"+c.Digest.String(), clipJSON(t, c), auth...)
				if resp.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("%s clip = %s %s; want 405", method, resp.Status, b)
				}
			}
		}
	})
}

func eventsString(events []*evidock.AuditEvent) []string {
	var s []string
	for _, e := range events {
		s = append(s, fmt.Sprintf("%d %s %s %s %s %q", e.Seq, e.Actor, e.Action, e.Object, e.Outcome, e.Reason))
	}
	return s
}
