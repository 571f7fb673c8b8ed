package http_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/s3"
	"evidock/server"
	evhttp "evidock/server/http"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// env is a case server on a real SQLite database and a real S3-compatible
// store, with one registered station.
type env struct {
	db     *sqlite.DB
	store  *s3.Store
	ts     *httptest.Server
	token  string
	client *evhttp.Client
	log    *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store := s3test.Start(t).MustOpen(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "evidock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01", Name: "test dock"})
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := &server.Registry{Clips: db, Objects: store, VerifyDigest: true}
	ts := httptest.NewServer(evhttp.NewServer(reg, db, db, db.Ping, logger))
	t.Cleanup(ts.Close)
	e := &env{db: db, store: store, ts: ts, token: token, client: evhttp.NewClient(ts.URL, token), log: log}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	return e
}

// put uploads body under key as the agent would.
func (e *env) put(t *testing.T, key string, body []byte) {
	t.Helper()
	if err := e.store.PutObject(context.Background(), key, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// uploaded returns a clip whose footage is in the store.
func (e *env) uploaded(t *testing.T, body string, seq int) *evidock.Clip {
	t.Helper()
	c := storetest.NewClip([]byte(body), "A123456", "100001", started.Add(time.Duration(seq)*time.Minute), seq)
	e.put(t, c.ObjectKey, []byte(body))
	return c
}

// do sends a request with the station token (if token is not "") and returns
// the response and its body.
func (e *env) do(t *testing.T, method, path, token string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	return resp, b
}

var started = time.Date(2024, 5, 1, 9, 30, 0, 0, evidock.ChinaTime)

func clipJSON(t *testing.T, c *evidock.Clip) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// apiError decodes an error body, failing t if it is not one.
func apiError(t *testing.T, b []byte) (code, message string) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Error.Code == "" {
		t.Fatalf("body %q is not an error body (%v)", b, err)
	}
	return body.Error.Code, body.Error.Message
}

func TestRegisterClip(t *testing.T) {
	e := newEnv(t)
	c := e.uploaded(t, "footage of an inspection", 1)

	// The body's station, id and registration time are not the client's
	// to set.
	var m map[string]any
	json.Unmarshal([]byte(clipJSON(t, c)), &m)
	m["station_id"], m["id"], m["registered_at"] = "dock-99", 42, "2000-01-01T00:00:00Z"
	body, _ := json.Marshal(m)

	resp, b := e.do(t, "POST", "/api/v1/clips", e.token, bytes.NewReader(body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %s %s; want 201", resp.Status, b)
	}
	var got evidock.Clip
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || got.ID == 42 || got.StationID != "dock-01" || got.RegisteredAt.Year() == 2000 || got.Digest != c.Digest {
		t.Fatalf("registered clip = %+v; want a new ID, station dock-01 and a fresh registration time", got)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/v1/clips/"+c.Digest.String() {
		t.Errorf("Location = %q", loc)
	}

	// A repeat (the agent retrying after a lost answer) is 200 with the
	// same clip, and there is still one row.
	resp, b = e.do(t, "POST", "/api/v1/clips", e.token, strings.NewReader(clipJSON(t, c)))
	var again evidock.Clip
	json.Unmarshal(b, &again)
	if resp.StatusCode != http.StatusOK || again.ID != got.ID {
		t.Fatalf("repeat POST = %s, id %d; want 200, id %d", resp.Status, again.ID, got.ID)
	}
	if _, total, _ := e.db.FindClips(context.Background(), evidock.ClipFilter{}); total != 1 {
		t.Fatalf("%d clips stored; want 1", total)
	}

	// The client tells the two apart.
	c2 := e.uploaded(t, "second clip", 2)
	if created, err := e.client.RegisterClip(context.Background(), c2); err != nil || !created || c2.ID == 0 || c2.StationID != "dock-01" {
		t.Fatalf("client RegisterClip = %v, %v, %+v; want created", created, err, c2)
	}
	c2again := *c2
	if created, err := e.client.RegisterClip(context.Background(), &c2again); err != nil || created || c2again.ID != c2.ID {
		t.Fatalf("client repeat RegisterClip = %v, %v; want not created, same ID", created, err)
	}
}

func TestRegisterClipUnverified(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name  string
		setup func(c *evidock.Clip, content []byte)
		want  string
	}{
		{"missing object", func(c *evidock.Clip, content []byte) {}, "is missing from the store"},
		{"wrong size", func(c *evidock.Clip, content []byte) { e.put(t, c.ObjectKey, content[:5]) }, "holds 5 bytes"},
		{"wrong digest", func(c *evidock.Clip, content []byte) {
			// Bytes of the same length but another digest, under this
			// clip's key: only reading them back can tell.
			e.put(t, c.ObjectKey, bytes.ToUpper(content))
		}, "has blake3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			content := []byte("footage that should be in the store: " + tt.name)
			c := storetest.NewClip(content, "A123456", "100001", started, 1)
			tt.setup(c, content)
			resp, b := e.do(t, "POST", "/api/v1/clips", e.token, strings.NewReader(clipJSON(t, c)))
			code, msg := apiError(t, b)
			if resp.StatusCode != http.StatusUnprocessableEntity || code != evidock.EUNVERIFIED || !strings.Contains(msg, tt.want) {
				t.Fatalf("POST = %s %s; want 422 unverified saying %q", resp.Status, b, tt.want)
			}
			_, err := e.client.RegisterClip(context.Background(), c)
			if evidock.ErrorCode(err) != evidock.EUNVERIFIED || !strings.Contains(evidock.ErrorMessage(err), tt.want) {
				t.Fatalf("client RegisterClip = %v; want EUNVERIFIED saying %q", err, tt.want)
			}
		})
	}
	if _, total, _ := e.db.FindClips(context.Background(), evidock.ClipFilter{}); total != 0 {
		t.Fatalf("%d unverified clips were stored", total)
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	c := e.uploaded(t, "guarded", 1)
	other, _, _ := server.NewStationToken()
	for _, ep := range []struct{ name, method, path, body string }{
		{"register", "POST", "/api/v1/clips", clipJSON(t, c)},
		{"list", "GET", "/api/v1/clips", ""},
		{"get", "GET", "/api/v1/clips/" + c.Digest.String(), ""},
		{"report dock", "PUT", "/api/v1/recorders/A123456", recorderJSON(t, storetest.NewRecorder("A123456", "100001", started))},
		{"recorder", "GET", "/api/v1/recorders/A123456", ""},
		{"recorders", "GET", "/api/v1/recorders", ""},
	} {
		for i, auth := range []string{"", "Bearer", "Bearer ", "Basic " + e.token, "Bearer " + other, "Bearer " + e.token + "x", e.token} {
			t.Run(fmt.Sprintf("%s/%d", ep.name, i), func(t *testing.T) {
				resp, b := e.do(t, ep.method, ep.path, "", strings.NewReader(ep.body), "Authorization", auth)
				code, msg := apiError(t, b)
				if resp.StatusCode != http.StatusUnauthorized || code != evidock.EUNAUTHORIZED {
					t.Fatalf("%s %s with %q = %s %s; want 401", ep.method, ep.path, auth, resp.Status, b)
				}
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if strings.Contains(msg, e.token) || strings.Contains(msg, other) {
					t.Errorf("error message %q echoes a token", msg)
				}
			})
		}
	}
	if _, total, _ := e.db.FindClips(context.Background(), evidock.ClipFilter{}); total != 0 {
		t.Fatal("an unauthenticated POST stored a clip")
	}
	if recs, _ := e.db.FindRecorders(context.Background(), ""); len(recs) != 0 {
		t.Fatal("an unauthenticated PUT stored a recorder")
	}
	// The token is "Bearer", whatever its case.
	if resp, b := e.do(t, "GET", "/api/v1/clips", "", nil, "Authorization", "bearer "+e.token); resp.StatusCode != http.StatusOK {
		t.Fatalf("lower-case bearer = %s %s", resp.Status, b)
	}
	if strings.Contains(e.log.String(), e.token) || strings.Contains(e.log.String(), other) {
		t.Fatal("a token reached the server log")
	}

	_, _, err := evhttp.NewClient(e.ts.URL, other).FindClips(context.Background(), evidock.ClipFilter{})
	if evidock.ErrorCode(err) != evidock.EUNAUTHORIZED {
		t.Fatalf("client with an unknown token: %v; want EUNAUTHORIZED", err)
	}
}

// registerDirect stores clips in the database without footage, for listing
// tests that are about the query and not about verification.
func (e *env) registerDirect(t *testing.T, clips ...*evidock.Clip) {
	t.Helper()
	for _, c := range clips {
		c.StationID = "dock-01"
		if _, err := e.db.RegisterClip(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindClips(t *testing.T) {
	e := newEnv(t)
	day := func(d, h int) time.Time { return time.Date(2024, 5, 1+d, h, 0, 0, 0, evidock.ChinaTime) }
	e.registerDirect(t,
		storetest.NewClip([]byte("1"), "A000001", "100001", day(0, 9), 1),
		storetest.NewClip([]byte("2"), "A000001", "100001", day(0, 23), 2), // 15:00 UTC: 1 May in China
		storetest.NewClip([]byte("3"), "B000002", "100001", day(1, 0), 3),  // 2 May at midnight
		storetest.NewClip([]byte("4"), "B000002", "100002", day(1, 10), 4),
		storetest.NewClip([]byte("5"), "A000001", "100002", day(30, 10), 5),
	)
	for _, tt := range []struct {
		query string
		seqs  []int
		total int
	}{
		{"", []int{1, 2, 3, 4, 5}, 5},
		{"officer=100001", []int{1, 2, 3}, 3},
		{"recorder=b000002", []int{3, 4}, 2},
		{"officer=100002&recorder=A000001", []int{5}, 1},
		{"from=2024-05-01&to=2024-05-01", []int{1, 2}, 2}, // a date as "to" is the whole day
		{"from=2024-05-02", []int{3, 4, 5}, 3},
		{"to=2024-05-02T00:00:00%2B08:00", []int{1, 2}, 2}, // an RFC 3339 "to" is exclusive
		{"from=2024-05-01T15:00:00Z&to=2024-05-02T02:00:00Z", []int{2, 3}, 2},
		{"to=2024-05-02T00:00:00+08:00", []int{1, 2}, 2}, // '+' left unescaped
		{"limit=2", []int{1, 2}, 5},
		{"limit=2&offset=3", []int{4, 5}, 5},
		{"offset=10", nil, 5},
		{"officer=999999", nil, 0},
	} {
		t.Run(tt.query, func(t *testing.T) {
			resp, b := e.do(t, "GET", "/api/v1/clips?"+tt.query, e.token, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET = %s %s", resp.Status, b)
			}
			var list struct {
				Clips []*evidock.Clip `json:"clips"`
				Total *int            `json:"total"`
			}
			if err := json.Unmarshal(b, &list); err != nil || list.Clips == nil || list.Total == nil {
				t.Fatalf("body %s is not {\"clips\":[...],\"total\":N} (%v)", b, err)
			}
			if got := seqs(list.Clips); fmt.Sprint(got) != fmt.Sprint(tt.seqs) || *list.Total != tt.total {
				t.Fatalf("GET ?%s = %v total %d; want %v total %d", tt.query, got, *list.Total, tt.seqs, tt.total)
			}
		})
	}

	// The client sends the same filters.
	clips, total, err := e.client.FindClips(context.Background(), evidock.ClipFilter{OfficerNo: "100001", From: day(0, 10), Limit: 1})
	if err != nil || total != 2 || len(clips) != 1 || clips[0].Seq != 2 {
		t.Fatalf("client FindClips = %v total %d, %v; want [2] total 2", seqs(clips), total, err)
	}
}

func TestFindClipsBadParameters(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct{ query, names string }{
		{"officer=abc", "officer"},
		{"officer=1234567", "officer"},
		{"recorder=A1", "recorder"},
		{"recorder=A12345!", "recorder"},
		{"from=yesterday", "from"},
		{"to=2024-13-01", "to"},
		{"from=2024-05-02&to=2024-05-01", "from and to"},
		{"limit=-1", "limit"},
		{"limit=ten", "limit"},
		{"limit=5000", "limit"},
		{"offset=-3", "offset"},
		{"officr=100001", `"officr"`},
		{"officer=100001&officer=100002", "officer"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			resp, b := e.do(t, "GET", "/api/v1/clips?"+tt.query, e.token, nil)
			code, msg := apiError(t, b)
			if resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID || !strings.Contains(msg, "parameter") || !strings.Contains(msg, tt.names) {
				t.Fatalf("GET ?%s = %s %s; want 400 naming parameter %s", tt.query, resp.Status, b, tt.names)
			}
		})
	}
}

func TestGetClip(t *testing.T) {
	e := newEnv(t)
	c := storetest.NewClip([]byte("one"), "A123456", "100001", started, 1)
	e.registerDirect(t, c)

	resp, b := e.do(t, "GET", "/api/v1/clips/"+c.Digest.String(), e.token, nil)
	var got evidock.Clip
	if err := json.Unmarshal(b, &got); resp.StatusCode != http.StatusOK || err != nil || got.ID != c.ID {
		t.Fatalf("GET = %s %s; want the clip", resp.Status, b)
	}
	// Upper-case hex names the same clip.
	if resp, b := e.do(t, "GET", "/api/v1/clips/"+strings.ToUpper(c.Digest.String()), e.token, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET upper case = %s %s", resp.Status, b)
	}
	absent := storetest.NewClip([]byte("absent"), "A123456", "100001", started, 2)
	resp, b = e.do(t, "GET", "/api/v1/clips/"+absent.Digest.String(), e.token, nil)
	if code, _ := apiError(t, b); resp.StatusCode != http.StatusNotFound || code != evidock.ENOTFOUND {
		t.Fatalf("GET absent = %s %s; want 404", resp.Status, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/clips/xyz", e.token, nil)
	if code, msg := apiError(t, b); resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID || !strings.Contains(msg, "blake3") {
		t.Fatalf("GET malformed = %s %s; want 400 about blake3", resp.Status, b)
	}

	if got, err := e.client.FindClipByDigest(context.Background(), c.Digest); err != nil || got.ID != c.ID {
		t.Fatalf("client FindClipByDigest = %+v, %v", got, err)
	}
	if _, err := e.client.FindClipByDigest(context.Background(), absent.Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("client FindClipByDigest(absent) = %v; want ENOTFOUND", err)
	}
}

// TestRegisterClipClockOffset registers clips as a station does after
// reading the recorder's clock: with the offset and the important mark, and
// the corrected time left to the server, or sent and checked.
func TestRegisterClipClockOffset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.uploaded(t, "footage from a fast clock", 1)
	var m map[string]any
	json.Unmarshal([]byte(clipJSON(t, c)), &m)
	delete(m, "corrected_started_at")
	m["clock_offset_ms"], m["important"] = 90_500, true // the recorder ran 90.5 s fast
	body, _ := json.Marshal(m)
	resp, b := e.do(t, "POST", "/api/v1/clips", e.token, bytes.NewReader(body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %s %s; want 201", resp.Status, b)
	}
	var got evidock.Clip
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	wantCorrected := c.StartedAt.Add(-90_500 * time.Millisecond)
	if !got.CorrectedStartedAt.Equal(wantCorrected) || !got.StartedAt.Equal(c.StartedAt) || got.ClockOffsetMS != 90_500 || !got.Important {
		t.Fatalf("registered clip: started %v, offset %d, corrected %v, important %v; want %v, 90500, %v, true",
			got.StartedAt, got.ClockOffsetMS, got.CorrectedStartedAt, got.Important, c.StartedAt, wantCorrected)
	}
	if found, err := e.client.FindClipByDigest(ctx, c.Digest); err != nil || !found.CorrectedStartedAt.Equal(wantCorrected) || !found.Important {
		t.Fatalf("client FindClipByDigest = %+v, %v; want the corrected time and the mark", found, err)
	}

	// The Go client sends an unset corrected time as the zero time; the
	// server computes it all the same.
	c2 := e.uploaded(t, "footage from a slow clock", 2)
	c2.ClockOffsetMS, c2.CorrectedStartedAt = -2_000, time.Time{}
	if created, err := e.client.RegisterClip(ctx, c2); err != nil || !created || !c2.CorrectedStartedAt.Equal(c2.StartedAt.Add(2*time.Second)) {
		t.Fatalf("client RegisterClip = %v, %v, corrected %v; want created, corrected 2 s after %v", created, err, c2.CorrectedStartedAt, c2.StartedAt)
	}

	// A corrected time that disagrees with the offset is refused.
	c3 := e.uploaded(t, "footage with a wrong correction", 3)
	c3.ClockOffsetMS = 1_000 // CorrectedStartedAt is still StartedAt
	resp, b = e.do(t, "POST", "/api/v1/clips", e.token, strings.NewReader(clipJSON(t, c3)))
	if code, msg := apiError(t, b); resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID || !strings.Contains(msg, "corrected_started_at") {
		t.Fatalf("POST with a mismatched corrected time = %s %s; want 400 naming corrected_started_at", resp.Status, b)
	}
	if _, err := e.db.FindClipByDigest(ctx, c3.Digest); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("refused clip was stored: %v", err)
	}
}

// TestFindClipsByCorrectedTime shows that the listing's from and to, and its
// order, are by corrected time.
func TestFindClipsByCorrectedTime(t *testing.T) {
	e := newEnv(t)
	day := func(d, h int) time.Time { return time.Date(2024, 5, 1+d, h, 0, 0, 0, evidock.ChinaTime) }
	fast := storetest.NewClip([]byte("fast"), "A000001", "100001", day(1, 1), 1) // really 23:00 on 1 May
	fast.ClockOffsetMS, fast.CorrectedStartedAt = 2*3_600_000, time.Time{}
	slow := storetest.NewClip([]byte("slow"), "A000001", "100001", day(0, 23), 2) // really 01:00 on 2 May
	slow.ClockOffsetMS, slow.CorrectedStartedAt = -2*3_600_000, time.Time{}
	e.registerDirect(t, fast, slow)
	for _, tt := range []struct {
		query string
		seqs  []int
	}{
		{"", []int{1, 2}},
		{"from=2024-05-01&to=2024-05-01", []int{1}},
		{"from=2024-05-02", []int{2}},
		{"to=2024-05-01T23:00:00%2B08:00", nil},
		{"from=2024-05-01T23:00:00%2B08:00&to=2024-05-01T23:00:00.001%2B08:00", []int{1}},
	} {
		resp, b := e.do(t, "GET", "/api/v1/clips?"+tt.query, e.token, nil)
		var list struct {
			Clips []*evidock.Clip `json:"clips"`
		}
		if err := json.Unmarshal(b, &list); resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("GET ?%s = %s %s", tt.query, resp.Status, b)
		}
		if got := seqs(list.Clips); fmt.Sprint(got) != fmt.Sprint(tt.seqs) {
			t.Errorf("GET ?%s = %v; want %v (by corrected time)", tt.query, got, tt.seqs)
		}
	}
}

func recorderJSON(t *testing.T, r *evidock.Recorder) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportDock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := storetest.NewRecorder("A123456", "100001", started)
	r.LastStationID = "dock-99" // not the body's to say
	resp, b := e.do(t, "PUT", "/api/v1/recorders/A123456", e.token, strings.NewReader(recorderJSON(t, r)))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT = %s %s; want 200", resp.Status, b)
	}
	var got evidock.Recorder
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := *r
	want.LastStationID = "dock-01"
	if !got.LastDockedAt.Equal(want.LastDockedAt) {
		t.Fatalf("stored last_docked_at %v; want %v", got.LastDockedAt, want.LastDockedAt)
	}
	got.LastDockedAt = want.LastDockedAt
	if got != want {
		t.Fatalf("PUT answered\n%+v\nwant\n%+v", got, want)
	}
	if stored, err := e.db.FindRecorder(ctx, "A123456"); err != nil || stored.LastStationID != "dock-01" || stored.OfficerNo != "100001" {
		t.Fatalf("stored recorder = %+v, %v; want it from dock-01", stored, err)
	}

	// A lower-case path names the same recorder; the report replaces the
	// last one, and an absent battery is unknown.
	var m map[string]any
	json.Unmarshal([]byte(recorderJSON(t, storetest.NewRecorder("A123456", "100002", started.Add(time.Hour)))), &m)
	delete(m, "battery_percent")
	body, _ := json.Marshal(m)
	resp, b = e.do(t, "PUT", "/api/v1/recorders/a123456", e.token, bytes.NewReader(body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second PUT = %s %s", resp.Status, b)
	}
	if stored, err := e.db.FindRecorder(ctx, "A123456"); err != nil || stored.OfficerNo != "100002" || stored.BatteryPercent != -1 {
		t.Fatalf("recorder after the second report = %+v, %v; want officer 100002, battery -1", stored, err)
	}

	// The client reports as the agent does, and gets the stored form.
	cr := storetest.NewRecorder("B000002", "100001", started.Add(2*time.Hour))
	if err := e.client.ReportDock(ctx, cr); err != nil || cr.LastStationID != "dock-01" {
		t.Fatalf("client ReportDock = %v, station %q; want nil, dock-01", err, cr.LastStationID)
	}
	if err := e.client.ReportDock(ctx, &evidock.Recorder{}); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Fatalf("client ReportDock without a serial = %v; want EINVALID", err)
	}
	bad := storetest.NewRecorder("B000002", "100001", started)
	bad.BatteryPercent = 101
	if err := e.client.ReportDock(ctx, bad); evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), "battery_percent") {
		t.Fatalf("client ReportDock of a bad report = %v; want EINVALID about battery_percent", err)
	}
}

func TestReportDockBadRequests(t *testing.T) {
	e := newEnv(t)
	r := storetest.NewRecorder("A123456", "100001", started)
	good := recorderJSON(t, r)
	for _, tt := range []struct {
		name, path, body, want string
	}{
		{"serial differs", "/api/v1/recorders/B000002", good, "another recorder"},
		{"malformed path", "/api/v1/recorders/A12", good, "recorder serial"},
		{"too large", "/api/v1/recorders/A123456", `{"officer_name":"` + strings.Repeat("a", evhttp.MaxRecorderBody) + `"}`, "larger than"},
		{"unknown field", "/api/v1/recorders/A123456", strings.Replace(good, `"model"`, `"modle"`, 1), `unknown field "modle"`},
		{"bad JSON", "/api/v1/recorders/A123456", `{"device_serial": }`, "not valid JSON"},
		{"truncated", "/api/v1/recorders/A123456", good[:30], "cut off"},
		{"empty", "/api/v1/recorders/A123456", ``, "empty"},
		{"array", "/api/v1/recorders/A123456", `[]`, "must be a JSON object (the recorder)"},
		{"trailing data", "/api/v1/recorders/A123456", good + ` {}`, "data after the recorder"},
		{"battery as string", "/api/v1/recorders/A123456", strings.Replace(good, `"battery_percent":80`, `"battery_percent":"80"`, 1), "field battery_percent must be a JSON integer"},
		{"bad time", "/api/v1/recorders/A123456", strings.Replace(good, `"last_docked_at":"`, `"last_docked_at":"x`, 1), "field last_docked_at"},
		{"invalid report", "/api/v1/recorders/A123456", strings.Replace(good, `"battery_percent":80`, `"battery_percent":101`, 1), "battery_percent"},
		{"no dock time", "/api/v1/recorders/A123456", `{"device_serial":"A123456","officer_no":"100001"}`, "last_docked_at is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.do(t, "PUT", tt.path, e.token, strings.NewReader(tt.body))
			code, msg := apiError(t, b)
			if resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID || !strings.Contains(msg, tt.want) {
				t.Fatalf("PUT %s = %s %.300s; want 400 saying %q", tt.name, resp.Status, b, tt.want)
			}
		})
	}
	if recs, _ := e.db.FindRecorders(context.Background(), ""); len(recs) != 0 {
		t.Fatalf("refused reports stored %d recorders", len(recs))
	}
}

func TestFindRecorders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, r := range []*evidock.Recorder{
		storetest.NewRecorder("C000003", "100001", started),
		storetest.NewRecorder("A000001", "100002", started),
		storetest.NewRecorder("B000002", "100001", started),
	} {
		if err := e.client.ReportDock(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		query   string
		serials []string
	}{
		{"", []string{"A000001", "B000002", "C000003"}},
		{"officer=100001", []string{"B000002", "C000003"}},
		{"officer=999999", nil},
	} {
		resp, b := e.do(t, "GET", "/api/v1/recorders?"+tt.query, e.token, nil)
		var list struct {
			Recorders []*evidock.Recorder `json:"recorders"`
		}
		if err := json.Unmarshal(b, &list); resp.StatusCode != http.StatusOK || err != nil || list.Recorders == nil {
			t.Fatalf("GET ?%s = %s %s; want {\"recorders\":[...]}", tt.query, resp.Status, b)
		}
		var got []string
		for _, r := range list.Recorders {
			got = append(got, r.DeviceSerial)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.serials) {
			t.Errorf("GET ?%s = %v; want %v", tt.query, got, tt.serials)
		}
	}
	for _, tt := range []struct{ query, names string }{
		{"officer=abc", "officer"},
		{"officer=100001&officer=100002", "officer"},
		{"recorder=A000001", `"recorder"`},
	} {
		resp, b := e.do(t, "GET", "/api/v1/recorders?"+tt.query, e.token, nil)
		code, msg := apiError(t, b)
		if resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID || !strings.Contains(msg, tt.names) {
			t.Errorf("GET ?%s = %s %s; want 400 naming %s", tt.query, resp.Status, b, tt.names)
		}
	}

	// One recorder, by path, in either case.
	for _, serial := range []string{"B000002", "b000002"} {
		resp, b := e.do(t, "GET", "/api/v1/recorders/"+serial, e.token, nil)
		var r evidock.Recorder
		if err := json.Unmarshal(b, &r); resp.StatusCode != http.StatusOK || err != nil || r.DeviceSerial != "B000002" || r.LastStationID != "dock-01" {
			t.Fatalf("GET /api/v1/recorders/%s = %s %s", serial, resp.Status, b)
		}
	}
	resp, b := e.do(t, "GET", "/api/v1/recorders/Z999999", e.token, nil)
	if code, _ := apiError(t, b); resp.StatusCode != http.StatusNotFound || code != evidock.ENOTFOUND {
		t.Fatalf("GET an unknown recorder = %s %s; want 404", resp.Status, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/recorders/toolongserial", e.token, nil)
	if code, _ := apiError(t, b); resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID {
		t.Fatalf("GET a malformed serial = %s %s; want 400", resp.Status, b)
	}

	// The client.
	recs, err := e.client.FindRecorders(ctx, "100002")
	if err != nil || len(recs) != 1 || recs[0].DeviceSerial != "A000001" {
		t.Fatalf("client FindRecorders = %v, %v; want A000001", recs, err)
	}
	if recs, err := e.client.FindRecorders(ctx, "999999"); err != nil || recs == nil || len(recs) != 0 {
		t.Fatalf("client FindRecorders(no match) = %v, %v; want an empty slice", recs, err)
	}
	if _, err := e.client.FindRecorders(ctx, "abc"); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Fatalf("client FindRecorders(abc) = %v; want EINVALID", err)
	}
	if r, err := e.client.FindRecorder(ctx, "C000003"); err != nil || r.OfficerNo != "100001" {
		t.Fatalf("client FindRecorder = %+v, %v", r, err)
	}
	if _, err := e.client.FindRecorder(ctx, "Z999999"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("client FindRecorder(unknown) = %v; want ENOTFOUND", err)
	}
	for _, serial := range []string{"", "A/../..", "A1?x=1"} {
		if _, err := e.client.FindRecorder(ctx, serial); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("client FindRecorder(%q) = %v; want EINVALID", serial, err)
		}
	}
}

// TestRecordersNotImplemented shows that a server given no recorder store
// says so, rather than failing as if by a bug.
func TestRecordersNotImplemented(t *testing.T) {
	e := newEnv(t)
	srv := evhttp.NewServer(e.db, e.db, nil, nil, slog.New(slog.DiscardHandler))
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/api/v1/recorders", ""},
		{"GET", "/api/v1/recorders/A123456", ""},
		{"PUT", "/api/v1/recorders/A123456", recorderJSON(t, storetest.NewRecorder("A123456", "100001", started))},
	} {
		req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if code, _ := apiError(t, rec.Body.Bytes()); rec.Code != http.StatusNotImplemented || code != evidock.ENOTIMPLEMENTED {
			t.Errorf("%s %s = %d %s; want 501", tt.method, tt.path, rec.Code, rec.Body)
		}
	}
}

func TestGzip(t *testing.T) {
	e := newEnv(t)
	const n = 30 // a listing of n clips is well over compressMinSize
	var last *evidock.Clip
	for i := 1; i <= n; i++ {
		last = storetest.NewClip(fmt.Appendf(nil, "gz %d", i), "A123456", "100001", started.Add(time.Duration(i)*time.Minute), i)
		e.registerDirect(t, last)
	}
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Accept-Encoding", "gzip")
		// Setting Accept-Encoding ourselves stops the transport from
		// decompressing, so the test sees the bytes on the wire.
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("/api/v1/clips?limit=" + strconv.Itoa(n))
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q; want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Clips []json.RawMessage `json:"clips"`
		Total int               `json:"total"`
	}
	if err := json.NewDecoder(zr).Decode(&list); err != nil || list.Total != n || len(list.Clips) != n {
		t.Fatalf("gunzipped body: %d clips, total %d, %v", len(list.Clips), list.Total, err)
	}
	// One clip is a small answer, sent as it is.
	one := get("/api/v1/clips/" + last.Digest.String())
	if enc := one.Header.Get("Content-Encoding"); enc != "" || one.StatusCode != http.StatusOK {
		t.Fatalf("GET one clip: %d, Content-Encoding %q; want 200 uncompressed", one.StatusCode, enc)
	}
	// And the client, which asks for gzip implicitly, reads it.
	if _, total, err := e.client.FindClips(context.Background(), evidock.ClipFilter{}); err != nil || total != n {
		t.Fatalf("client FindClips = %d, %v", total, err)
	}
}

func TestRegisterClipBadBodies(t *testing.T) {
	e := newEnv(t)
	c := storetest.NewClip([]byte("x"), "A123456", "100001", started, 1)
	good := clipJSON(t, c)
	for _, tt := range []struct {
		name, body, want string
	}{
		{"too large", `{"file_name":"` + strings.Repeat("a", evhttp.MaxClipBody) + `"}`, "larger than"},
		{"too large whitespace", good + strings.Repeat(" ", evhttp.MaxClipBody), "larger than"},
		{"unknown field", strings.Replace(good, `"size"`, `"sise"`, 1), `unknown field "sise"`},
		{"bad JSON", `{"blake3": }`, "not valid JSON"},
		{"truncated", good[:40], "cut off"},
		{"empty", ``, "empty"},
		{"array", `[]`, "must be a JSON object"},
		{"trailing data", good + ` {}`, "data after the clip"},
		{"size as string", strings.Replace(good, fmt.Sprintf(`"size":%d`, c.Size), `"size":"1"`, 1), "field size must be a JSON integer"},
		{"bad blake3", strings.Replace(good, c.Digest.String(), "abc", 1), "field blake3"},
		{"bad time", strings.Replace(good, `"ingested_at":"`, `"ingested_at":"x`, 1), "field ingested_at"},
		{"invalid clip", strings.Replace(good, `"officer_no":"100001"`, `"officer_no":"100002"`, 1), "must match file_name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := e.do(t, "POST", "/api/v1/clips", e.token, strings.NewReader(tt.body))
			code, msg := apiError(t, b)
			if resp.StatusCode != http.StatusBadRequest || code != evidock.EINVALID || !strings.Contains(msg, tt.want) {
				t.Fatalf("POST %s = %s %.300s; want 400 saying %q", tt.name, resp.Status, b, tt.want)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	resp, b := e.do(t, "GET", "/healthz", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"status":"ok"}` {
		t.Fatalf("GET /healthz = %s %s", resp.Status, b)
	}
	if err := e.client.Health(context.Background()); err != nil {
		t.Fatalf("client Health: %v", err)
	}
	e.db.Close()
	resp, b = e.do(t, "GET", "/healthz", "", nil)
	if code, _ := apiError(t, b); resp.StatusCode != http.StatusServiceUnavailable || code != evidock.EUNAVAILABLE {
		t.Fatalf("GET /healthz with the database closed = %s %s; want 503", resp.Status, b)
	}
	if err := e.client.Health(context.Background()); evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
		t.Fatalf("client Health with the database closed = %v; want EUNAVAILABLE", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	u := ts.URL
	ts.Close()
	c := evhttp.NewClient(u, "evd_st_x")
	if err := c.Health(context.Background()); evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
		t.Fatalf("Health of a closed server = %v; want EUNAVAILABLE", err)
	}
	if _, _, err := c.FindClips(context.Background(), evidock.ClipFilter{}); evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
		t.Fatalf("FindClips of a closed server = %v; want EUNAVAILABLE", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Health(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Health with a cancelled context = %v; want context.Canceled", err)
	}
}

// failingClips is a store that fails as only a bug or a broken disk makes a
// real one fail.
type failingClips struct{ evidock.ClipService }

func (failingClips) FindClips(context.Context, evidock.ClipFilter) ([]*evidock.Clip, int, error) {
	return nil, 0, errors.New("sqlite: find clips: disk I/O error at /srv/secret/evidock.db")
}

func TestInternalErrorsAreLoggedNotLeaked(t *testing.T) {
	e := newEnv(t)
	log := &syncBuffer{}
	srv := evhttp.NewServer(failingClips{}, e.db, e.db, nil, slog.New(slog.NewTextHandler(log, nil)))
	req := httptest.NewRequest("GET", "/api/v1/clips", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	code, msg := apiError(t, rec.Body.Bytes())
	if rec.Code != http.StatusInternalServerError || code != evidock.EINTERNAL || strings.Contains(msg, "secret") {
		t.Fatalf("GET = %d %s; want 500 without details", rec.Code, rec.Body)
	}
	if !strings.Contains(log.String(), "/srv/secret/evidock.db") {
		t.Fatalf("the cause is not in the log:\n%s", log)
	}
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	e.do(t, "GET", "/api/v1/clips?officer=100001", e.token, nil)
	line := ""
	for _, l := range strings.Split(e.log.String(), "\n") {
		if strings.Contains(l, "path=/api/v1/clips") {
			line = l
		}
	}
	for _, want := range []string{"method=GET", "status=200", "duration=", "station=dock-01"} {
		if !strings.Contains(line, want) {
			t.Errorf("request log line %q lacks %s", line, want)
		}
	}
	if strings.Contains(e.log.String(), e.token) || strings.Contains(line, "officer=") {
		t.Fatalf("the log holds the token or the query:\n%s", e.log)
	}
}

func TestParseTimeBound(t *testing.T) {
	for _, tt := range []struct {
		in    string
		upper bool
		want  time.Time
	}{
		{"2024-05-01", false, time.Date(2024, 4, 30, 16, 0, 0, 0, time.UTC)},
		{"2024-05-01", true, time.Date(2024, 5, 1, 16, 0, 0, 0, time.UTC)},
		{"2024-12-31", true, time.Date(2024, 12, 31, 16, 0, 0, 0, time.UTC)},
		{"2024-05-01T09:30:00+08:00", true, time.Date(2024, 5, 1, 1, 30, 0, 0, time.UTC)},
		{"2024-05-01T01:30:00.5Z", false, time.Date(2024, 5, 1, 1, 30, 0, 5e8, time.UTC)},
	} {
		got, err := evhttp.ParseTimeBound(tt.in, tt.upper)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTimeBound(%q, %v) = %v, %v; want %v", tt.in, tt.upper, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "today", "2024-5-1", "2024-05-01 09:30", "1714500000"} {
		if _, err := evhttp.ParseTimeBound(in, false); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("ParseTimeBound(%q) = %v; want EINVALID", in, err)
		}
	}
}

func TestStatusTable(t *testing.T) {
	for code, want := range map[string]int{
		evidock.EINVALID: 400, evidock.EUNAUTHORIZED: 401, evidock.EFORBIDDEN: 403,
		evidock.ENOTFOUND: 404, evidock.ECONFLICT: 409, evidock.EUNVERIFIED: 422,
		evidock.EINTERNAL: 500, evidock.EUNAVAILABLE: 503, "no such code": 500,
	} {
		if got := evhttp.StatusOf(code); got != want {
			t.Errorf("StatusOf(%q) = %d; want %d", code, got, want)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	if resp, _ := e.do(t, "DELETE", "/api/v1/clips", e.token, nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /api/v1/clips = %s; want 405 (clips are never deleted)", resp.Status)
	}
	for _, m := range []string{"DELETE", "POST", "PATCH"} {
		if resp, _ := e.do(t, m, "/api/v1/recorders/A123456", e.token, nil); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/v1/recorders/A123456 = %s; want 405", m, resp.Status)
		}
	}
	if resp, _ := e.do(t, "GET", "/api/v2/"+url.PathEscape("x"), e.token, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/v2/x = %s; want 404", resp.Status)
	}
}

func seqs(clips []*evidock.Clip) []int {
	var s []int
	for _, c := range clips {
		s = append(s, c.Seq)
	}
	return s
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
