package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/server"
	"evidock/server/auth"
	evhttp "evidock/server/http"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/storetest"
	"evidock/server/translog"
	"evidock/server/web"
)

// caseNumber and otherCase are the cases of the test bureau: one of unit
// t2 of district d1, one of unit t1 of district d2.
const (
	caseNumber = "常人社监罚〔2024〕12号"
	otherCase  = "常人社监罚〔2024〕99号"
)

// started is when the test clip starts.
var started = time.Date(2024, 5, 2, 9, 30, 0, 0, evidock.ChinaTime)

// webStore is what the web UI and its API need of a registry database;
// SQLite and PostgreSQL are both one.
type webStore interface {
	auth.Store
	evidock.AccessService
	evidock.AuditService
	storetest.LinkStore
	translog.HashStore
	server.LinkedCaseFinder
	evidock.StationService
	evidock.RecorderService
	web.SecretStore
	Ping(ctx context.Context) error
}

// forEachStore runs f on a new env on SQLite and on PostgreSQL (under
// CI=true a PostgreSQL that does not answer fails the test).
func forEachStore(t *testing.T, f func(t *testing.T, e *env)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { f(t, newEnv(t, backend)) })
	}
}

// testClock is the web UI's clock: the real time plus an offset a test
// moves, so that tickets and grants expire without waiting (sessions keep
// the real clock).
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

// playbackTTL is the tickets' lifetime in the env: longer than a one-hour
// grant, so that a test sees a valid ticket outlive its grant.
const playbackTTL = 2 * time.Hour

// env is a case server with the web UI on a registry database (SQLite or
// PostgreSQL) and a real S3-compatible store (versitygw), with a bureau of
// users:
//
//	zhang.wei  officer 100001 in city/d1/t2 (the clip's officer)
//	li.na      officer 100002 in city/d2/t1
//	chen.jie   supervisor of city/d1
//	wang.fang  department head of city/d1
//	zhao.min   department head of city/d2
type env struct {
	db    webStore
	ts    *httptest.Server
	clip  *evidock.Clip
	log   *syncBuffer
	clock *testClock
	// objects is the object store footage is in.
	objects evidock.ObjectStore
	// second is another server instance on the same database and object
	// store, as behind a load balancer.
	second *httptest.Server

	mu     sync.Mutex
	videos []int // statuses of the video route's answers
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wav returns a mono 16-bit 8 kHz WAV file of a tone lasting secs: footage
// a browser can play without any codec beyond PCM.
func wav(secs int) []byte {
	const rate = 8000
	n := rate * secs
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(rate))
	w(uint32(2 * rate))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := range n {
		w(int16(3000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newEnv(t *testing.T, backend string) *env {
	t.Helper()
	ctx := context.Background()
	var db webStore
	switch backend {
	case "sqlite":
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "evidock.db"))
		must(t, err)
		t.Cleanup(func() { s.Close() })
		db = s
	case "postgres":
		p, err := postgres.Open(ctx, pgtest.NewSchema(t))
		must(t, err)
		t.Cleanup(func() { p.Close() })
		db = p
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	objects := s3test.Start(t).MustOpen(t)
	e := &env{db: db, log: &syncBuffer{}, clock: &testClock{}, objects: objects}

	storetest.SeedCity(t, db)
	for _, u := range []*evidock.User{
		storetest.NewUser("zhang.wei", "100001", "officer@city/d1/t2"),
		storetest.NewUser("li.na", "100002", "officer@city/d2/t1"),
		storetest.NewUser("chen.jie", "", "supervisor@city/d1"),
		storetest.NewUser("wang.fang", "", "department_head@city/d1"),
		storetest.NewUser("zhao.min", "", "department_head@city/d2"),
	} {
		storetest.MustCreateUser(t, db, u)
	}

	_, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	must(t, err)
	body := wav(3)
	c := storetest.NewClip(body, "A123456", "100001", started, 1)
	c.FileName = strings.TrimSuffix(c.FileName, ".MP4") + ".WAV"
	c.Kind, c.DurationMS, c.StationID = evidock.MediaAudio, 3000, "dock-01"
	must(t, objects.PutObject(ctx, c.ObjectKey, bytes.NewReader(body), int64(len(body)), nil))
	_, err = db.RegisterClip(ctx, c)
	must(t, err)
	e.clip = c

	for _, k := range []struct{ number, unit, officer string }{{caseNumber, "t2", "100001"}, {otherCase, "t1", "100002"}} {
		cs := &evidock.Case{Number: k.number, Kind: evidock.CasePenalty, Title: "拖欠工资案 " + k.unit, UnitCode: k.unit,
			Parties:   []evidock.Party{{Role: evidock.PartyEmployer, Name: "某建筑公司"}},
			CaseDates: evidock.CaseDates{FiledAt: started.Add(-48 * time.Hour)}}
		must(t, db.CreateCase(ctx, cs))
		must(t, db.CreateActivity(ctx, &evidock.Activity{CaseID: cs.ID, Type: evidock.ActivityInspection, Uncooperative: true,
			Officers: []string{k.officer}, StartedAt: started.Add(-5 * time.Minute), EndedAt: started.Add(20 * time.Minute), Place: "工地"}))
	}

	skey, _, err := translog.GenerateKey(translog.DefaultOrigin)
	must(t, err)
	rlog, err := translog.New(db, skey)
	must(t, err)
	_, err = rlog.CatchUp(ctx)
	must(t, err)

	policy := auth.DefaultPolicy
	policy.Params = auth.TestParams
	authSvc, err := auth.New(db, policy)
	must(t, err)
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	instance := func() http.Handler {
		reg := &server.Registry{Clips: db, Objects: objects, VerifyDigest: true}
		srv := evhttp.NewServer(reg, db, db, db.Ping, logger)
		srv.SetLog(rlog)
		scope := server.NewRegistryScope(db, db, db)
		must(t, srv.SetPeople(&evhttp.PeopleConfig{Auth: authSvc, Access: db, Audit: db, Scope: scope, Objects: objects, Now: e.clock.now}))
		srv.SetCases(evhttp.CaseServices{Units: db, Officers: db, Cases: db, Links: db})
		ui, err := web.New(web.Config{Auth: authSvc, Access: db, Audit: db, Clips: db, Scope: scope,
			Units: db, Cases: db, Links: db, Objects: objects, Log: rlog, Logger: logger, Now: e.clock.now, PlaybackTTL: playbackTTL})
		must(t, err)
		srv.SetWeb(ui)
		return srv
	}
	srv := instance()
	e.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/video") {
			srv.ServeHTTP(w, r)
			return
		}
		rec := &statusWriter{ResponseWriter: w}
		srv.ServeHTTP(rec, r)
		e.mu.Lock()
		e.videos = append(e.videos, rec.status)
		e.mu.Unlock()
	}))
	e.second = httptest.NewServer(instance())
	t.Cleanup(e.second.Close)
	t.Cleanup(e.ts.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.log.String())
		}
	})
	return e
}

// videoStatuses returns the statuses the video route has answered.
func (e *env) videoStatuses() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.videos...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// browser is an HTTP client with a cookie jar that does not follow
// redirects, as a logged-in browser tab.
func (e *env) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login logs c in as login through the login form.
func (e *env) login(t *testing.T, c *http.Client, login string) {
	t.Helper()
	resp, b := e.post(t, c, "/login", url.Values{"login": {login}, "password": {storetest.TestPassword}, "next": {"/cases"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases" {
		t.Fatalf("login %s = %s %s", login, resp.Status, b)
	}
}

// get fetches path with c.
func (e *env) get(t *testing.T, c *http.Client, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", e.ts.URL+path, nil)
	must(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

// post sends form to path with c as a same-origin form post.
func (e *env) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, string(b)
}
