package http_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"evidock/s3"
	"evidock/server"
	"evidock/server/auth"
	"evidock/server/fixity"
	evhttp "evidock/server/http"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// exportStore is what the export needs of a registry database; both are one.
type exportStore interface {
	auth.Store
	evidock.AccessService
	evidock.AuditService
	storetest.LinkStore
	fixity.Store
	translog.HashStore
	server.LinkedCaseFinder
	evidock.StationService
	evidock.RecorderService
	Ping(ctx context.Context) error
}

// exportEnv is a case server on a real database, a real S3-compatible store
// (versitygw) and a transparency log, with the units and officers of
// storetest.SeedOrg, one case whose inspection has two confirmed clips
// (Zhang's and Wang's, unit CZ-TN-1), and a clip of Li (unit CZ-WJ-1) in no
// case. Users:
//
//	dang.an    archivist of CZ/CZ-TN (exports the case)
//	wu.jin     archivist of CZ/CZ-WJ (exports Li's clip, not the case)
//	zhang.wei  officer 100001 of CZ/CZ-TN/CZ-TN-1 (may not export at all)
type exportEnv struct {
	db      exportStore
	s3      *s3test.Server
	objects *s3.Store
	ts      *httptest.Server
	vkey    string
	kase    *evidock.Case
	clips   []*evidock.Clip // Zhang's and Wang's, in the case; Li's
	bodies  map[evidock.Digest][]byte
	log     *syncBuffer
}

const exportCase = "常人社监罚〔2024〕21号"

func forEachExportStore(t *testing.T, f func(t *testing.T, e *exportEnv)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { f(t, newExportEnv(t, backend)) })
	}
}

func newExportEnv(t *testing.T, backend string) *exportEnv {
	t.Helper()
	ctx := context.Background()
	var db exportStore
	switch backend {
	case "sqlite":
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "evidock.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		db = s
	case "postgres":
		p, err := postgres.Open(ctx, pgtest.NewSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		db = p
	}
	srv := s3test.Start(t)
	e := &exportEnv{db: db, s3: srv, objects: srv.MustOpen(t), bodies: map[evidock.Digest][]byte{}, log: &syncBuffer{}}
	storetest.SeedOrg(t, db)
	if _, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*evidock.User{
		storetest.NewUser("dang.an", "", "archivist@CZ/CZ-TN"),
		storetest.NewUser("wu.jin", "", "archivist@CZ/CZ-WJ"),
		storetest.NewUser("zhang.wei", storetest.OfficerZhang, "officer@CZ/CZ-TN/CZ-TN-1"),
	} {
		storetest.MustCreateUser(t, db, u)
	}
	day := func(h, m int) time.Time { return time.Date(2024, 5, 2, h, m, 0, 0, evidock.ChinaTime) }
	e.kase = storetest.MustCreateCase(t, db, storetest.NewCase(exportCase, storetest.UnitTN1, day(8, 0)))
	act := storetest.MustCreateActivity(t, db, storetest.NewActivity(e.kase.ID, evidock.ActivityInspection,
		day(9, 0), day(10, 0), storetest.OfficerZhang, storetest.OfficerWang))
	for i, k := range []struct {
		officer, serial string
		at              time.Time
	}{{storetest.OfficerZhang, "A000001", day(9, 5)}, {storetest.OfficerWang, "B000002", day(9, 40)}, {storetest.OfficerLi, "C000003", day(11, 0)}} {
		// Footage of a few hundred kilobytes: several writes per clip.
		body := bytes.Repeat([]byte(fmt.Sprintf("clip %d of officer %s; ", i, k.officer)), 12000+i*1000)
		c := storetest.NewClip(body, k.serial, k.officer, k.at, 1)
		c.StationID = "dock-01"
		if err := e.objects.PutObject(ctx, c.ObjectKey, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		e.clips = append(e.clips, c)
		e.bodies[c.Digest] = body
	}
	if _, err := db.SuggestLinks(ctx, act.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.clips[:2] {
		if err := db.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: act.ID, Digest: c.Digest, Action: evidock.LinkConfirm, By: c.OfficerNo}); err != nil {
			t.Fatal(err)
		}
	}
	skey, vkey := storetest.MustLogKey(t)
	e.vkey = vkey
	rlog, err := translog.New(db, skey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rlog.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	policy := auth.DefaultPolicy
	policy.Params = auth.TestParams
	authSvc, err := auth.New(db, policy)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api := evhttp.NewServer(&server.Registry{Clips: db, Objects: e.objects, VerifyDigest: true}, db, db, db.Ping, logger)
	api.SetLog(rlog)
	api.SetCases(evhttp.CaseServices{Units: db, Officers: db, Cases: db, Links: db})
	api.SetStatus(evhttp.StatusConfig{DatabaseDriver: backend, Fixity: db})
	if err := api.SetPeople(&evhttp.PeopleConfig{Auth: authSvc, Access: db, Audit: db, Objects: e.objects,
		Scope: server.NewRegistryScope(db, db, db)}); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(api)
	t.Cleanup(e.ts.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.log.String())
		}
	})
	return e
}

// client returns a Client logged in as login.
func (e *exportEnv) client(t *testing.T, login string) *evhttp.Client {
	t.Helper()
	c := evhttp.NewClient(e.ts.URL, "")
	if _, err := c.Login(context.Background(), login, storetest.TestPassword); err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	return c
}

// post sends an export request body as login and returns the response,
// whose body the caller reads and closes.
func (e *exportEnv) post(t *testing.T, login, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", e.ts.URL+"/api/v1/exports", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "export-test")
	resp, err := e.loggedIn(t, login).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// loggedIn returns an http.Client that sends login's session cookie.
func (e *exportEnv) loggedIn(t *testing.T, login string) *http.Client {
	t.Helper()
	resp, err := e.ts.Client().Post(e.ts.URL+"/api/v1/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"login":%q,"password":%q}`, login, storetest.TestPassword)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == evhttp.SessionCookie {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("login %s = %s, no session", login, resp.Status)
	}
	return &http.Client{Transport: cookieTransport{session: session, next: e.ts.Client().Transport}}
}

type cookieTransport struct {
	session *http.Cookie
	next    http.RoundTripper
}

func (c cookieTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.AddCookie(c.session)
	return c.next.RoundTrip(r)
}

// exportEvents returns the export events in the audit log.
func (e *exportEnv) exportEvents(t *testing.T) []*evidock.AuditEvent {
	t.Helper()
	events, err := e.db.FindAuditEvents(context.Background(), evidock.AuditFilter{Action: evidock.AuditExport})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// untar returns the entries of a whole tar, by name, in order.
func untar(t *testing.T, b []byte) ([]string, map[string][]byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var names []string
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, files
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("tar entry %s: %v", hdr.Name, err)
		}
		names = append(names, hdr.Name)
		files[hdr.Name] = body
	}
}

// TestExportCase exports a case as its archivist: the tar holds the
// manifest, then each confirmed clip byte for byte under its stable name;
// the manifest's receipts verify with the log's public key alone; the
// export is audited once, before the stream, naming both clips.
func TestExportCase(t *testing.T) {
	forEachExportStore(t, func(t *testing.T, e *exportEnv) {
		resp := e.post(t, "dang.an", `{"case_id":"`+exportCase+`","reason":"移送法院：（2024）苏0402行初12号"}`)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("export = %s, %v %.300s", resp.Status, err, b)
		}
		if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/x-tar" ||
			!strings.HasPrefix(cd, `attachment; filename="evidock-export-`) || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("Content-Type %q, Content-Disposition %q, Content-Encoding %q", ct, cd, resp.Header.Get("Content-Encoding"))
		}
		names, files := untar(t, b)
		want := []string{evhttp.ExportManifestName, evhttp.ExportReadmeName, evhttp.ExportPath(e.clips[0]), evhttp.ExportPath(e.clips[1])}
		if strings.Join(names, " ") != strings.Join(want, " ") {
			t.Fatalf("tar entries %q; want %q", names, want)
		}
		for _, c := range e.clips[:2] {
			if !bytes.Equal(files[evhttp.ExportPath(c)], e.bodies[c.Digest]) {
				t.Errorf("clip %s: %d bytes in the tar, not the %d stored", c.FileName, len(files[evhttp.ExportPath(c)]), len(e.bodies[c.Digest]))
			}
		}
		m, err := evhttp.CheckExport(bytes.NewReader(b), e.vkey)
		if err != nil {
			t.Fatalf("CheckExport with the log key = %v", err)
		}
		if m.CaseID != exportCase || m.ExportedBy != "user:dang.an" || len(m.Clips) != 2 || m.LogOrigin != storetest.TestOrigin || m.ID != resp.Header.Get("X-Evidock-Export-Id") {
			t.Errorf("manifest = %+v", m)
		}
		for i, mc := range m.Clips {
			c := e.clips[i]
			if mc.Digest != c.Digest || mc.Size != c.Size || mc.FileName != c.FileName || mc.OfficerNo != c.OfficerNo ||
				!mc.RecordedAt.Equal(c.StartedAt) || !mc.CorrectedAt.Equal(c.CorrectedStartedAt) || mc.Receipt == nil ||
				len(mc.Links) != 1 || mc.Links[0].CaseNumber != exportCase || mc.Links[0].State != evidock.LinkConfirmed || mc.Links[0].By != c.OfficerNo {
				t.Errorf("manifest clip %d = %+v", i, mc)
			}
			// What a recipient does with the public key alone.
			if _, err := translog.VerifyReceipt(e.vkey, mc.Receipt, mc.Clip); err != nil {
				t.Errorf("receipt of clip %d: %v", i, err)
			}
		}
		// A key of another log refuses every receipt.
		_, otherKey := storetest.MustLogKey(t)
		if _, err := evhttp.CheckExport(bytes.NewReader(b), otherKey); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
			t.Errorf("CheckExport with another log's key = %v; want EUNVERIFIED", err)
		}
		// One byte changed anywhere in a clip is found.
		bad := bytes.Clone(b)
		i := bytes.Index(bad, e.bodies[e.clips[1].Digest][:64])
		bad[i+1000] ^= 1
		if _, err := evhttp.CheckExport(bytes.NewReader(bad), ""); evidock.ErrorCode(err) != evidock.EUNVERIFIED || !strings.Contains(err.Error(), e.clips[1].Digest.String()) {
			t.Errorf("CheckExport of a changed tar = %v; want EUNVERIFIED naming the clip", err)
		}

		events := e.exportEvents(t)
		if len(events) != 1 {
			t.Fatalf("export events = %d; want 1", len(events))
		}
		ev := events[0]
		if ev.Outcome != evidock.AuditAllowed || ev.Actor != "user:dang.an" || ev.RemoteAddr == "" || ev.UserAgent != "export-test" ||
			!strings.Contains(ev.Object, e.clips[0].Digest.String()) || !strings.Contains(ev.Object, e.clips[1].Digest.String()) ||
			!strings.Contains(ev.Object, m.ID) || !strings.Contains(ev.Reason, "移送法院") || !strings.Contains(ev.Reason, "archivist@CZ/CZ-TN") ||
			ev.Unit != "CZ/CZ-TN/CZ-TN-1" {
			t.Errorf("export event = %+v", ev)
		}
	})
}

// TestExportRefused: an export with any clip the user may not export sends
// nothing, names the clip, and is audited as refused; a missing reason is
// refused before anything is decided.
func TestExportRefused(t *testing.T) {
	forEachExportStore(t, func(t *testing.T, e *exportEnv) {
		li, zhang := e.clips[2].Digest.String(), e.clips[0].Digest.String()
		for _, tt := range []struct {
			name, login, body string
			status            int
			want              []string
		}{
			{"another district's case", "wu.jin", `{"case_id":"` + exportCase + `","reason":"复核"}`, 403, []string{"forbidden", zhang, "nothing was exported"}},
			{"one clip out of reach", "wu.jin", `{"clips":["` + li + `","` + zhang + `"],"reason":"复核"}`, 403, []string{zhang}},
			{"an officer", "zhang.wei", `{"clips":["` + zhang + `"],"reason":"自己留存"}`, 403, []string{zhang}},
			{"no reason", "dang.an", `{"case_id":"` + exportCase + `"}`, 400, []string{"invalid", "reason is required"}},
			{"blank reason", "dang.an", `{"clips":["` + zhang + `"],"reason":"  "}`, 400, []string{"reason is required"}},
			{"case and clips", "dang.an", `{"case_id":"` + exportCase + `","clips":["` + zhang + `"],"reason":"x"}`, 400, []string{"not both"}},
			{"nothing named", "dang.an", `{"reason":"x"}`, 400, []string{"case_id"}},
			{"unknown field", "dang.an", `{"case":"x","reason":"x"}`, 400, []string{"case", "case_id, clips, reason"}},
			{"a clip twice", "dang.an", `{"clips":["` + zhang + `","` + zhang + `"],"reason":"x"}`, 400, []string{"twice"}},
			{"a bad digest", "dang.an", `{"clips":["abc"],"reason":"x"}`, 400, []string{"clips[0]"}},
			{"an unknown case", "dang.an", `{"case_id":"nope","reason":"x"}`, 404, nil},
		} {
			resp := e.post(t, tt.login, tt.body)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: %s %s %s; want %d with a JSON error", tt.name, resp.Status, resp.Header.Get("Content-Type"), b, tt.status)
				continue
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s: %s lacks %q", tt.name, b, w)
				}
			}
		}
		events := e.exportEvents(t)
		if len(events) != 3 {
			t.Fatalf("export events = %d; want 3 refusals", len(events))
		}
		for _, ev := range events {
			if ev.Outcome != evidock.AuditDenied || ev.Object != "clip:"+zhang || !strings.Contains(ev.Reason, "refused") {
				t.Errorf("event %+v; want a refusal naming Zhang's clip", ev)
			}
		}
		// Without a session: 401, and nothing audited.
		resp, err := e.ts.Client().Post(e.ts.URL+"/api/v1/exports", "application/json", strings.NewReader(`{"clips":["`+zhang+`"],"reason":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("export without a session = %s", resp.Status)
		}
		// The other district's archivist exports their own clip.
		resp = e.post(t, "wu.jin", `{"clips":["`+li+`"],"reason":"复核"}`)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("export of one's own district's clip = %s %.300s", resp.Status, b)
		}
		if _, err := evhttp.CheckExport(bytes.NewReader(b), e.vkey); err != nil {
			t.Errorf("CheckExport = %v", err)
		}
	})
}

// TestExportAlteredObject alters a stored object behind the server's back
// (same size, one byte): the stream stops abnormally inside that clip,
// whose last byte is never sent, the client sees an error, and a fixity
// alarm is raised. A missing object is found before the first byte.
func TestExportAlteredObject(t *testing.T) {
	forEachExportStore(t, func(t *testing.T, e *exportEnv) {
		ctx := context.Background()
		victim := e.clips[1]
		path := filepath.Join(e.s3.DataDir, e.s3.Bucket, filepath.FromSlash(victim.ObjectKey))
		altered := bytes.Clone(e.bodies[victim.Digest])
		altered[len(altered)/2] ^= 0x20
		if err := os.WriteFile(path, altered, 0o644); err != nil {
			t.Fatalf("alter the object in versitygw's data directory: %v", err)
		}
		c := e.client(t, "dang.an")
		body, err := c.Export(ctx, evhttp.ExportRequest{CaseID: exportCase, Reason: "归档刻盘"})
		if err != nil {
			t.Fatalf("Export = %v; want the stream to start (the object's size is right)", err)
		}
		got, readErr := io.ReadAll(body)
		body.Close()
		if readErr == nil {
			t.Fatalf("reading the export of an altered clip ended without error after %d bytes", len(got))
		}
		t.Logf("the client saw: %v after %d bytes", readErr, len(got))
		if _, err := evhttp.CheckExport(bytes.NewReader(got), ""); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
			t.Errorf("CheckExport of the cut-off export = %v; want EUNVERIFIED", err)
		}
		// The altered clip never arrives whole: its last byte is held back.
		tr := tar.NewReader(bytes.NewReader(got))
		for {
			hdr, err := tr.Next()
			if err != nil {
				t.Fatalf("the altered clip's entry is not in the cut-off export: %v", err)
			}
			if hdr.Name != evhttp.ExportPath(victim) {
				continue
			}
			n, err := io.Copy(io.Discard, tr)
			if err == nil || n >= victim.Size {
				t.Errorf("the altered clip's entry: %d of %d bytes, %v; want it cut off", n, victim.Size, err)
			}
			break
		}
		// The clip before it arrived whole.
		if !bytes.Contains(got, e.bodies[e.clips[0].Digest]) {
			t.Error("the first clip is not in the cut-off export")
		}
		alarms, err := e.db.FindAlarms(ctx, fixity.AlarmFilter{Open: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(alarms) != 1 || alarms[0].Kind != fixity.AlarmObjectChanged || alarms[0].Subject != victim.Digest.String() {
			t.Fatalf("open alarms = %+v; want object_changed of %s", alarms, victim.Digest)
		}

		// A missing object: refused before a byte, with an alarm.
		gone := e.clips[0]
		if err := os.Remove(filepath.Join(e.s3.DataDir, e.s3.Bucket, filepath.FromSlash(gone.ObjectKey))); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Export(ctx, evhttp.ExportRequest{Clips: []evidock.Digest{gone.Digest}, Reason: "归档刻盘"}); evidock.ErrorCode(err) != evidock.EUNVERIFIED ||
			!strings.Contains(err.Error(), "missing") {
			t.Fatalf("Export of a missing object = %v; want EUNVERIFIED saying it is missing", err)
		}
		alarms, err = e.db.FindAlarms(ctx, fixity.AlarmFilter{Open: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(alarms) != 2 || alarms[0].Kind != fixity.AlarmObjectMissing || alarms[0].Subject != gone.Digest.String() {
			t.Fatalf("open alarms = %+v; want object_missing of %s first", alarms, gone.Digest)
		}
		events := e.exportEvents(t)
		if n := len(events); n != 2 || events[0].Outcome != evidock.AuditAllowed || events[1].Outcome != evidock.AuditFailed {
			t.Errorf("export events = %d (%+v); want the allowed one, then the failed one", n, events)
		}
	})
}

// TestExportManyClipsAuditedInParts exports more clips than one audit
// event's object holds: every clip is named, in events appended before the
// stream, all carrying the export's ID.
func TestExportManyClipsAuditedInParts(t *testing.T) {
	e := newExportEnv(t, "sqlite")
	ctx := context.Background()
	var digests []evidock.Digest
	for i := range 20 {
		body := []byte(fmt.Sprintf("short clip %d", i))
		c := storetest.NewClip(body, "A000001", storetest.OfficerZhang, time.Date(2024, 5, 3, 9, i, 0, 0, evidock.ChinaTime), i+1)
		if err := e.objects.PutObject(ctx, c.ObjectKey, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		digests = append(digests, c.Digest)
	}
	body, err := e.client(t, "dang.an").Export(ctx, evhttp.ExportRequest{Clips: digests, Reason: "归档"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := evhttp.CheckExport(body, "")
	body.Close()
	if err != nil || len(m.Clips) != 20 {
		t.Fatalf("CheckExport = %v, %v", m, err)
	}
	events := e.exportEvents(t)
	if len(events) != 2 {
		t.Fatalf("export events = %d; want 2 parts", len(events))
	}
	var all string
	for i, ev := range events {
		if ev.Outcome != evidock.AuditAllowed || !strings.Contains(ev.Object, "export:"+m.ID) || !strings.Contains(ev.Reason, fmt.Sprintf("part %d of 2", i+1)) || len(ev.Object) > 1000 {
			t.Errorf("event %d = %+v", i, ev)
		}
		all += ev.Object
	}
	for _, d := range digests {
		if !strings.Contains(all, d.String()) {
			t.Errorf("clip %s is named in no export event", d)
		}
	}
	raw, _ := json.Marshal(m)
	if !bytes.Contains(raw, []byte(`"reason":"归档"`)) {
		t.Errorf("manifest %s lacks the reason", raw)
	}
}
