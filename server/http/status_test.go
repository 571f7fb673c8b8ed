package http_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/server"
	"evidock/server/fixity"
	evhttp "evidock/server/http"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// TestStatusAlarmsAndMetrics registers two clips through the API on a real
// S3-compatible store with Object Lock, loses one on the store's disk and
// runs the fixity checker: the status, the alarm list and the metrics all
// show the lock, the loss and the alarm.
func TestStatusAlarmsAndMetrics(t *testing.T) {
	ctx := context.Background()
	s3srv := s3test.Start(t)
	store := s3srv.MustOpen(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "evidock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	checker := &fixity.Checker{Store: db, Objects: store, Logger: logger}
	srv := evhttp.NewServer(&server.Registry{Clips: db, Objects: store, VerifyDigest: true}, db, db, db.Ping, logger)
	srv.SetStatus(evhttp.StatusConfig{
		Version: "test-1", DatabaseDriver: "sqlite", Bucket: store.Bucket(),
		ObjectLock: store.Locked(), RetentionDays: int(store.Retention().Hours() / 24),
		FixityEnabled: true, FixityInterval: 720 * time.Hour, FixityBytesPerSecond: 50_000_000,
		Fixity: db, Checker: checker,
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := evhttp.NewClient(ts.URL, token)

	var clips []*evidock.Clip
	for i, body := range []string{"kept footage", "lost footage"} {
		c := storetest.NewClip([]byte(body), "A123456", "100001", started.Add(time.Duration(i)*time.Minute), i+1)
		if err := store.PutObject(ctx, c.ObjectKey, bytes.NewReader([]byte(body)), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := client.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		clips = append(clips, c)
	}
	lost := clips[1]
	if err := os.Remove(filepath.Join(s3srv.DataDir, s3srv.Bucket, filepath.FromSlash(lost.ObjectKey))); err != nil {
		t.Fatal(err)
	}
	if n, err := checker.CheckDue(ctx); n != 2 || err != nil {
		t.Fatalf("CheckDue = %d, %v", n, err)
	}

	st, err := client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := st.Fixity
	if st.Version != "test-1" || st.Database.Driver != "sqlite" || st.ObjectStore.Bucket != s3srv.Bucket ||
		!st.ObjectLock.Enabled || st.ObjectLock.RetentionDays != 3650 {
		t.Errorf("status = %+v; want the version, driver, bucket and Object Lock with 3650 days", st)
	}
	if !f.Enabled || f.Interval != "720h0m0s" || f.BytesPerSecond != 50_000_000 || f.Clips != 2 || f.Checked != 2 || f.OK != 1 ||
		f.Failures[fixity.Missing] != 1 || f.Failures[fixity.Changed] != 0 || f.OpenAlarms != 1 ||
		f.LastCheckAt == nil || f.AllCheckedSince == nil || f.ChecksSinceStart[fixity.Missing] != 1 || f.ChecksSinceStart[fixity.OK] != 1 {
		t.Errorf("fixity status = %+v; want 2 clips checked, 1 ok, 1 missing, 1 open alarm", f)
	}
	// The JSON as other clients read it.
	resp, b := get(t, ts, "/api/v1/status", token)
	for _, want := range []string{`"object_lock":{"enabled":true,"retention_days":3650}`, `"database":{"driver":"sqlite"}`,
		`"open_alarms":1`, `"failures":{"changed":0,"missing":1,"unreachable":0}`, `"clips_checked":2`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET /api/v1/status = %s %s; want it to hold %s", resp.Status, b, want)
		}
	}

	alarms, err := client.FindAlarms(ctx, fixity.AlarmFilter{Open: true})
	if err != nil || len(alarms) != 1 || alarms[0].Kind != fixity.AlarmObjectMissing || alarms[0].Subject != lost.Digest.String() ||
		!strings.Contains(alarms[0].Message, lost.FileName) || !alarms[0].Open() {
		t.Fatalf("open alarms = %+v, %v; want one object_missing alarm on the lost clip", alarms, err)
	}
	if all, err := client.FindAlarms(ctx, fixity.AlarmFilter{}); err != nil || len(all) != 1 {
		t.Fatalf("all alarms = %+v, %v", all, err)
	}

	resp, b = get(t, ts, "/metrics", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %s %s", resp.Status, b)
	}
	for _, want := range []string{
		"evidock_server_status_up 1",
		"evidock_server_object_lock_enabled 1",
		"evidock_server_object_lock_retention_days 3650",
		"evidock_server_fixity_enabled 1",
		"evidock_server_open_alarms 1",
		"evidock_server_clips_registered 2",
		`evidock_server_fixity_checks_total{result="ok"} 1`,
		`evidock_server_fixity_checks_total{result="missing"} 1`,
		`evidock_server_fixity_checks_total{result="changed"} 0`,
		`evidock_server_fixity_clips{result="missing"} 1`,
		`evidock_server_fixity_clips{result="unchecked"} 0`,
		"evidock_server_fixity_store_unreachable 0",
		"go_goroutines ",
	} {
		if !strings.Contains(string(b), "\n"+want) {
			t.Errorf("metrics lack %q:\n%s", want, b)
		}
	}

	// With the database gone, the metrics still answer, saying so.
	db.Close()
	if resp, b = get(t, ts, "/metrics", ""); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "evidock_server_status_up 0") ||
		!strings.Contains(string(b), "evidock_server_object_lock_enabled 1") {
		t.Fatalf("GET /metrics without the database = %s %s; want status_up 0", resp.Status, b)
	}
}

func TestStatusBadRequests(t *testing.T) {
	e := newEnv(t)
	ts := e.statusServer(t)
	for _, tt := range []struct {
		path, token string
		status      int
		want        string
	}{
		{"/api/v1/status", "", http.StatusUnauthorized, "missing station token"},
		{"/api/v1/alarms", "", http.StatusUnauthorized, "missing station token"},
		{"/api/v1/status?verbose=1", e.token, http.StatusBadRequest, "takes no query parameters"},
		{"/api/v1/alarms?open=maybe", e.token, http.StatusBadRequest, `open: "maybe" must be true or false`},
		{"/api/v1/alarms?closed=true", e.token, http.StatusBadRequest, `"closed" is unknown; use open or limit`},
		{"/api/v1/alarms?open=true&open=false", e.token, http.StatusBadRequest, "given 2 times"},
		{"/api/v1/alarms?limit=1001", e.token, http.StatusBadRequest, "limit"},
	} {
		resp, b := get(t, ts, tt.path, tt.token)
		if _, msg := apiError(t, b); resp.StatusCode != tt.status || !strings.Contains(msg, tt.want) {
			t.Errorf("GET %s = %s %s; want %d and %q", tt.path, resp.Status, b, tt.status, tt.want)
		}
	}
	if resp, b := get(t, ts, "/api/v1/alarms?open=true&limit=5", e.token); resp.StatusCode != http.StatusOK ||
		strings.TrimSpace(string(b)) != `{"alarms":[]}` {
		t.Errorf("GET /api/v1/alarms with none = %s %s; want an empty list", resp.Status, b)
	}
}

// statusServer returns a server on e's database and store with a status,
// as serve makes it; newEnv's server has none.
func (e *env) statusServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := evhttp.NewServer(&server.Registry{Clips: e.db, Objects: e.store}, e.db, e.db, e.db.Ping, slog.New(slog.DiscardHandler))
	srv.SetStatus(evhttp.StatusConfig{Version: "test", DatabaseDriver: "sqlite", Bucket: e.store.Bucket(), Fixity: e.db})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func TestStatusNotImplemented(t *testing.T) {
	e := newEnv(t) // a server given no StatusConfig
	for _, path := range []string{"/api/v1/status", "/api/v1/alarms", "/metrics"} {
		resp, b := e.do(t, "GET", path, e.token, nil)
		if code, _ := apiError(t, b); resp.StatusCode != http.StatusNotImplemented || code != evidock.ENOTIMPLEMENTED {
			t.Errorf("GET %s = %s %s; want 501", path, resp.Status, b)
		}
	}
	if _, err := e.client.Status(context.Background()); evidock.ErrorCode(err) != evidock.ENOTIMPLEMENTED {
		t.Errorf("client Status = %v; want ENOTIMPLEMENTED", err)
	}
}

// get sends GET path with token (if not "") and returns the response and
// its body.
func get(t *testing.T, ts *httptest.Server, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ts.Client().Do(req)
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
