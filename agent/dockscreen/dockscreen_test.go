package dockscreen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"evidock/agent"
)

// fakeSource is a StatusSource with a fixed answer.
type fakeSource struct {
	st  *agent.DockStatus
	err error
}

func (f *fakeSource) Status(context.Context) (*agent.DockStatus, error) { return f.st, f.err }

// fixture is a dock with a recorder copying at 40%, one done, one that needs
// attention, and a full staging disk.
func fixture() *agent.DockStatus {
	return &agent.DockStatus{
		StationID: "dock-01",
		At:        time.Date(2024, 5, 1, 1, 30, 5, 0, time.UTC), // 09:30:05 in Beijing
		Alarms:    []agent.Alarm{{Kind: agent.AlarmStagingFull, Code: agent.AlarmStagingFull, Message: "staging disk nearly full: 300 MiB free of 512 MiB reserve"}},
		Recorders: []agent.RecorderStatus{
			{
				Volume: "/media/evidock/DSJ0001", DeviceSerial: "DSJ0001", OfficerNo: "100234",
				FilesDone: 1, FilesTotal: 3, BytesDone: 800_000_000, BytesTotal: 2_000_000_000,
				BytesPerSec: 4_200_000, ETASeconds: 285.7, Phase: agent.PhaseCopying,
				CopyBytesLeft: 400_000_000, CopyBytesPerSec: 2_100_000, CopyETASeconds: 190.5, // ~4 minutes
				Reason: "do not unplug: footage is being copied off the recorder", ReasonCode: agent.ReasonCopying,
				Recordings: []agent.RecordingStatus{
					{FileName: "DSJ0001_100234_20240501083000_0001.mp4", Size: 200_000_000, State: agent.StateCleared, Done: 400_000_000},
					{FileName: "DSJ0001_100234_20240501090000_0002.mp4", Size: 500_000_000, State: agent.StateCopying, Done: 400_000_000},
					{FileName: "DSJ0001_100234_20240501093000_0003.mp4", Size: 300_000_000, State: agent.StateDiscovered},
				},
			},
			{
				Volume: "/media/evidock/DSJ0002", DeviceSerial: "DSJ0002", OfficerNo: "100235",
				FilesDone: 2, FilesTotal: 2, BytesDone: 600_000_000, BytesTotal: 600_000_000,
				ETASeconds: -1, Phase: agent.PhaseDone, SafeToUnplug: true,
				Reason: "safe to unplug: all footage is stored, registered and cleared", ReasonCode: agent.ReasonDone,
				Recordings: []agent.RecordingStatus{
					{FileName: "DSJ0002_100235_20240501080000_0001.mp4", Size: 100_000_000, State: agent.StateCleared, Done: 200_000_000},
					{FileName: "DSJ0002_100235_20240501081500_0002.mp4", Size: 200_000_000, State: agent.StateCleared, Done: 400_000_000},
				},
			},
			{
				Volume: "/media/evidock/DSJ0003", DeviceSerial: "DSJ0003", OfficerNo: "100236",
				FilesDone: 2, FilesTotal: 3, BytesDone: 240_000_000, BytesTotal: 240_000_000,
				ETASeconds: -1, Phase: agent.PhaseAttention, SafeToUnplug: true,
				Reason: "safe to unplug, but some files need attention: see the list", ReasonCode: agent.ReasonNeedsAttention,
				Recordings: []agent.RecordingStatus{
					{FileName: "DSJ0003_100236_20240501070000_0001.mp4", Size: 40_000_000, State: agent.StateCleared, Done: 80_000_000},
					{FileName: "DSJ0003_100236_20240501071000_0002.mp4", Size: 80_000_000, State: agent.StateFailed,
						NoteCode: agent.NoteRecorderRead, Note: "copy: read /media/evidock/DSJ0003/DCIM/0002.mp4: input/output error"},
					{FileName: "DSJ0003_100236_20240501072000_0003.mp4", Size: 80_000_000, State: agent.StateKept, Done: 160_000_000,
						NoteCode: agent.NoteRereadMismatch, Note: "ALARM: second read gave different bytes: not cleared; check the recorder and its cable"},
				},
			},
		},
	}
}

// quietLogger keeps the expected status failures out of the test output.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// get serves one request to h and returns the response and its body.
func get(t *testing.T, h http.Handler, method, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1:8441"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(body, w) {
			t.Errorf("%s has %q", what, w)
		}
	}
}

func TestPageChineseByDefault(t *testing.T) {
	h := New(&fakeSource{st: fixture()})
	res, body := get(t, h, "GET", "/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	mustContain(t, "zh-CN page", body,
		`<html lang="zh-CN">`, "执法记录仪停靠站", "dock-01",
		"请勿拔出", "可以拔出", "正在从记录仪复制视频", "全部视频已保存、登记，并已从记录仪清除", "部分文件需要处理",
		"本机暂存磁盘将满", "staging disk nearly full",
		"DSJ0001", "100234", `value="40"`, "40%", "1 / 3", "0.4 / 1.0 GB", "4.2 MB/s", "04:46",
		`<div class="copy-eta">可以拔出还需 ~4 分钟</div>`, "全部上传还需",
		"正在复制", "已完成", "需要处理的文件",
		// The officer reads the note in Chinese; the agent's English is the small print.
		"DSJ0003_100236_20240501071000_0002.mp4", "失败", `<div class="note">读取记录仪出错，未复制完。请重新插入；如再出现，请联系管理员</div>`,
		`<div class="note-detail" lang="en">copy: read /media/evidock/DSJ0003/DCIM/0002.mp4: input/output error</div>`,
		"DSJ0003_100236_20240501072000_0003.mp4", "保留在记录仪上", "两次读取记录仪结果不一致",
		`<div class="alarm-detail" lang="en">staging disk nearly full: 300 MiB free of 512 MiB reserve</div>`,
		"2024-05-01 09:30:05", "北京时间", `href="?lang=en"`,
		// Refreshes by itself, with its own script or, without scripts, by reloading.
		`<script src="static/dockscreen.js" defer></script>`, `<noscript><meta http-equiv="refresh" content="3"></noscript>`,
		`data-panel="panel?lang=zh-CN"`)
	mustNotContain(t, "zh-CN page", body, "Safe to unplug", "Do not unplug", "safe to unplug in",
		// A cleared file needs no attention.
		"DSJ0003_100236_20240501070000_0001.mp4")
	if n := strings.Count(body, `class="copy-eta"`); n != 1 {
		t.Errorf("%d copy ETAs, want 1: only one recorder is being copied", n)
	}
	if n := strings.Count(body, `class="banner unsafe"`); n != 1 {
		t.Errorf("%d red banners, want 1", n)
	}
	if n := strings.Count(body, `class="banner safe"`); n != 2 {
		t.Errorf("%d green banners, want 2", n)
	}
}

func TestPageEnglish(t *testing.T) {
	h := New(&fakeSource{st: fixture()})
	for _, tt := range []struct {
		target string
		header []string
	}{
		{"/?lang=en", nil},
		{"/?lang=en-US", nil},
		{"/", []string{"Accept-Language", "en-GB,en;q=0.9"}},
		{"/?lang=en", []string{"Accept-Language", "zh-CN,zh;q=0.9"}}, // the query wins
	} {
		_, body := get(t, h, "GET", tt.target, tt.header...)
		mustContain(t, tt.target+" "+strings.Join(tt.header, " "), body,
			`<html lang="en">`, "Recorder dock", "Do not unplug", "Safe to unplug",
			"footage is being copied off the recorder", "all footage is stored, registered and cleared",
			"The dock&#39;s staging disk is nearly full", "Copying", "Files that need attention", "failed",
			"kept on the recorder", "Beijing time", `href="?lang=zh-CN"`,
			`<div class="copy-eta">safe to unplug in ~4 min</div>`, "All uploaded in",
			"Reading the recorder failed; the copy is incomplete.", "input/output error", "two reads of the recorder differ")
		mustNotContain(t, tt.target, body, "请勿拔出", "可以拔出")
	}
	// And the query wins the other way too.
	_, body := get(t, h, "GET", "/?lang=zh-CN", "Accept-Language", "en")
	mustContain(t, "?lang=zh-CN with Accept-Language en", body, "请勿拔出")
	// An unknown language is the default.
	_, body = get(t, h, "GET", "/?lang=fr")
	mustContain(t, "?lang=fr", body, "请勿拔出")
}

func TestPanelIsThePageLivePart(t *testing.T) {
	h := New(&fakeSource{st: fixture()})
	res, body := get(t, h, "GET", "/panel?lang=en")
	if res.StatusCode != 200 {
		t.Fatalf("GET /panel = %d", res.StatusCode)
	}
	mustContain(t, "panel", body, "Do not unplug", "DSJ0002")
	mustNotContain(t, "panel", body, "<html", "<script")
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("panel Cache-Control %q", res.Header.Get("Cache-Control"))
	}
}

func TestEmptyDock(t *testing.T) {
	h := New(&fakeSource{st: &agent.DockStatus{StationID: "dock-01", At: time.Now()}})
	_, body := get(t, h, "GET", "/")
	mustContain(t, "empty zh-CN", body, "请插入执法记录仪")
	mustNotContain(t, "empty zh-CN", body, "banner", "alarm-text")
	_, body = get(t, h, "GET", "/?lang=en")
	mustContain(t, "empty en", body, "Dock a recorder")
	_, body = get(t, h, "GET", "/api/status")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	if r, ok := m["recorders"].([]any); !ok || len(r) != 0 {
		t.Errorf("recorders of an empty dock: %#v, want []", m["recorders"])
	}
	if a, ok := m["alarms"].([]any); !ok || len(a) != 0 {
		t.Errorf("alarms: %#v, want []", m["alarms"])
	}
}

func TestStatusUnavailable(t *testing.T) {
	h := New(&fakeSource{err: errors.New("state store: database is locked")}, WithLogger(quietLogger))
	res, body := get(t, h, "GET", "/")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET / = %d, want 503", res.StatusCode)
	}
	mustContain(t, "unavailable page", body, "无法读取停靠站状态", "database is locked")
	mustNotContain(t, "unavailable page", body, "可以拔出", "请插入执法记录仪")
	res, body = get(t, h, "GET", "/api/status")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"error":"state store: database is locked"`) {
		t.Errorf("GET /api/status = %d %s", res.StatusCode, body)
	}
}

func TestAPIStatusJSON(t *testing.T) {
	h := New(&fakeSource{st: fixture()})
	res, body := get(t, h, "GET", "/api/status")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/status = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var doc struct {
		StationID string `json:"station_id"`
		At        string `json:"at"`
		Alarms    []map[string]any
		Recorders []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.StationID != "dock-01" || len(doc.Recorders) != 3 || len(doc.Alarms) != 1 || doc.At == "" {
		t.Fatalf("status %s", body)
	}
	if doc.Alarms[0]["kind"] != "staging_full" {
		t.Errorf("alarm %v", doc.Alarms[0])
	}
	r := doc.Recorders[0]
	for k, want := range map[string]any{
		"device_serial": "DSJ0001", "officer_no": "100234", "files_done": 1.0, "files_total": 3.0,
		"bytes_done": 8e8, "bytes_total": 2e9, "bytes_per_sec": 4.2e6, "eta_seconds": 285.7,
		"copy_bytes_left": 4e8, "copy_bytes_per_sec": 2.1e6, "copy_eta_seconds": 190.5,
		"phase": "copying", "safe_to_unplug": false, "reason_code": "copying",
	} {
		if r[k] != want {
			t.Errorf("recorders[0].%s = %#v, want %#v", k, r[k], want)
		}
	}
	if recs, _ := r["recordings"].([]any); len(recs) != 3 {
		t.Errorf("recorders[0].recordings = %#v", r["recordings"])
	}
	failed := doc.Recorders[2]["recordings"].([]any)[1].(map[string]any)
	if failed["note_code"] != "recorder_read" || !strings.Contains(failed["note"].(string), "input/output error") {
		t.Errorf("a failed recording: %v, want its note and note_code", failed)
	}
	if doc.Alarms[0]["code"] != "staging_full" {
		t.Errorf("alarm code: %v", doc.Alarms[0])
	}
	if doc.Recorders[2]["safe_to_unplug"] != true || doc.Recorders[2]["phase"] != "attention" {
		t.Errorf("recorders[2] = %v", doc.Recorders[2])
	}
}

func TestSafeDefaults(t *testing.T) {
	h := New(&fakeSource{st: fixture()})
	for _, target := range []string{"/", "/panel", "/api/status", "/static/dockscreen.css", "/nope"} {
		res, _ := get(t, h, "GET", target)
		for k, want := range map[string]string{
			"Content-Security-Policy": csp,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
		} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("GET %s: %s %q, want %q", target, k, got, want)
			}
		}
	}
	if !strings.HasPrefix(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		for _, target := range []string{"/", "/api/status", "/nope"} {
			res, _ := get(t, h, m, target)
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s = %d (Allow %q), want 405", m, target, res.StatusCode, res.Header.Get("Allow"))
			}
		}
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Head(srv.URL + "/")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("HEAD / = %v, %v", res, err)
	}
	if res, _ := get(t, h, "GET", "/nope"); res.StatusCode != 404 {
		t.Errorf("GET /nope = %d", res.StatusCode)
	}
	if res, _ := get(t, h, "GET", "/metrics"); res.StatusCode != 404 {
		t.Errorf("GET /metrics without metrics = %d", res.StatusCode)
	}
	for target, ctype := range map[string]string{
		"/static/dockscreen.css": "text/css; charset=utf-8",
		"/static/dockscreen.js":  "text/javascript; charset=utf-8",
		"/static/icon.svg":       "image/svg+xml",
	} {
		if res, _ := get(t, h, "GET", target); res.StatusCode != 200 || res.Header.Get("Content-Type") != ctype {
			t.Errorf("GET %s = %d %q, want %q", target, res.StatusCode, res.Header.Get("Content-Type"), ctype)
		}
	}
}

func TestLoopbackHostOnly(t *testing.T) {
	for host, want := range map[string]int{
		"127.0.0.1:8441": 200, "localhost:8441": 200, "LOCALHOST": 200, "[::1]:8441": 200, "127.0.0.2": 200,
		"evil.example:8441": 403, "192.168.1.20:8441": 403, "": 403,
	} {
		req := httptest.NewRequest("GET", "/api/status", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		New(&fakeSource{st: fixture()}).ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %q: %d, want %d", host, rec.Code, want)
		}
		rec = httptest.NewRecorder()
		New(&fakeSource{st: fixture()}, WithRemote()).ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("Host %q WithRemote: %d, want 200", host, rec.Code)
		}
	}
}

func TestWithMetrics(t *testing.T) {
	m := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "evidock_up 1\n") })
	res, body := get(t, New(&fakeSource{st: fixture()}, WithMetrics(m)), "GET", "/metrics")
	if res.StatusCode != 200 || body != "evidock_up 1\n" {
		t.Errorf("GET /metrics = %d %q", res.StatusCode, body)
	}
}

// TestNothingFromOutside checks that every resource the page names is the
// dock's own: an isolated network has no CDN.
func TestNothingFromOutside(t *testing.T) {
	h := New(&fakeSource{st: fixture()})
	_, page := get(t, h, "GET", "/")
	_, css := get(t, h, "GET", "/static/dockscreen.css")
	_, js := get(t, h, "GET", "/static/dockscreen.js")
	for name, body := range map[string]string{"page": page, "css": css, "js": js} {
		mustNotContain(t, name, body, "http:", "https:", "//cdn", "@import", "@font-face", "url(")
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("page has %d references, want the stylesheet, script and icon at least", len(refs))
	}
	for _, m := range refs {
		if strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "/") {
			t.Errorf("page refers to %q; want a relative reference to the dock itself", m[1])
		}
	}
	mustNotContain(t, "page", page, "style=", "onclick", "<script>")
}

func TestClient(t *testing.T) {
	srv := httptest.NewServer(New(&fakeSource{st: fixture()}))
	defer srv.Close()
	st, err := NewClient(srv.URL).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := fixture()
	if st.StationID != want.StationID || !st.At.Equal(want.At) || len(st.Recorders) != 3 || st.Recorders[0].BytesDone != want.Recorders[0].BytesDone ||
		st.Recorders[2].Recordings[2].Note != want.Recorders[2].Recordings[2].Note || st.Alarms[0] != want.Alarms[0] {
		t.Errorf("client got %+v", st)
	}

	bad := httptest.NewServer(New(&fakeSource{err: errors.New("state store: closed")}, WithLogger(quietLogger)))
	defer bad.Close()
	_, err = NewClient(bad.URL + "/").Status(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 || se.Message != "state store: closed" {
		t.Errorf("client of a failing dock screen: %v", err)
	}

	bad.Close()
	if _, err = NewClient(bad.URL).Status(context.Background()); err == nil || errors.As(err, &se) {
		t.Errorf("client of a dock screen that is gone: %v, want a transport error", err)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for in, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.1:8441": true, "::1": true, "[::1]:80": true, "localhost": true, "localhost:1": true,
		"0.0.0.0:8441": false, ":8441": false, "[::]:8441": false, "10.0.0.1": false, "dock.local": false, "": false,
	} {
		if got := IsLoopbackHost(in); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", in, got, want)
		}
	}
}

// The rest are the view's formatting, with known answers.

func TestFormatETA(t *testing.T) {
	for in, want := range map[float64]string{
		0: "00:00", 0.2: "00:01", 28.6: "00:29", 59.2: "01:00", 599: "09:59", 3599.5: "1:00:00",
		3725: "1:02:05", 36000: "10:00:00", -1: "—",
	} {
		if got := FormatETA(in); got != want {
			t.Errorf("FormatETA(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestPercentAndBar(t *testing.T) {
	for _, tt := range []struct {
		done, total int64
		want        int
		bar         string
	}{
		{0, 100, 0, "[░░░░░░░░░░░░░░░░░░░░]   0%"},
		{40, 100, 40, "[████████░░░░░░░░░░░░]  40%"},
		{54, 100, 54, "[██████████░░░░░░░░░░]  54%"},
		{999, 1000, 99, "[███████████████████░]  99%"},
		{1000, 1000, 100, "[████████████████████] 100%"},
		{0, 0, 100, "[████████████████████] 100%"},
		{-5, 10, 0, "[░░░░░░░░░░░░░░░░░░░░]   0%"},
	} {
		p := Percent(tt.done, tt.total)
		if p != tt.want || ProgressBar(p) != tt.bar {
			t.Errorf("Percent(%d, %d) = %d %q, want %d %q", tt.done, tt.total, p, ProgressBar(p), tt.want, tt.bar)
		}
	}
}

func TestFormatBytesAndRate(t *testing.T) {
	for _, tt := range []struct {
		done, total int64
		want        string
	}{
		{0, 512, "0 / 512 B"}, {1500, 2500, "1.5 / 2.5 kB"}, {120e6, 300e6, "120 / 300 MB"}, {400e6, 1e9, "0.4 / 1.0 GB"}, {12e6, 31e6, "12.0 / 31.0 MB"},
	} {
		if got := FormatBytesOf(tt.done, tt.total); got != tt.want {
			t.Errorf("FormatBytesOf(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
	for in, want := range map[float64]string{0: "—", -1: "—", 42e6: "42.0 MB/s", 123456: "0.1 MB/s"} {
		if got := FormatRate(in, "—"); got != want {
			t.Errorf("FormatRate(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]Lang{"zh-CN": Chinese, "zh": Chinese, "ZH-cn": Chinese, "zh-Hans": Chinese, "en": English, "en-US": English, "EN": English} {
		if got, err := ParseLang(in); err != nil || got != want {
			t.Errorf("ParseLang(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fr", "klingon!", "de-DE"} {
		if _, err := ParseLang(in); err == nil {
			t.Errorf("ParseLang(%q) accepted", in)
		}
	}
}

func TestEnvLang(t *testing.T) {
	for _, tt := range []struct {
		lcAll, lang string
		want        Lang
	}{
		{"", "", English}, {"", "zh_CN.UTF-8", Chinese}, {"", "en_US.UTF-8", English},
		{"C", "zh_CN.UTF-8", English}, {"zh_TW.UTF-8", "en_US.UTF-8", Chinese},
	} {
		t.Setenv("LC_ALL", tt.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", tt.lang)
		if got := EnvLang(); got != tt.want {
			t.Errorf("LC_ALL=%q LANG=%q: %q, want %q", tt.lcAll, tt.lang, got, tt.want)
		}
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, NewView(fixture(), English)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Logf("\n%s", out)
	mustContain(t, "en text", out,
		"Recorder dock · Station dock-01 · Updated 2024-05-01 09:30:05 (Beijing time)",
		"ALARM: The dock's staging disk is nearly full",
		"DSJ0001", "100234", "[████████░░░░░░░░░░░░]  40%", "1 / 3", "4.2 MB/s", "04:46",
		"DO NOT UNPLUG: footage is being copied off the recorder; safe to unplug in ~4 min\n",
		"SAFE TO UNPLUG: all footage is stored, registered and cleared",
		"Files that need attention:",
		"DSJ0003  DSJ0003_100236_20240501071000_0002.mp4  failed: Reading the recorder failed; the copy is incomplete.",
		"\n      copy: read /media/evidock/DSJ0003/DCIM/0002.mp4: input/output error\n",
		"\n    staging disk nearly full: 300 MiB free of 512 MiB reserve\n")

	buf.Reset()
	if err := WriteText(&buf, NewView(fixture(), Chinese)); err != nil {
		t.Fatal(err)
	}
	zh := buf.String()
	t.Logf("\n%s", zh)
	mustContain(t, "zh text", zh, "请勿拔出：正在从记录仪复制视频，拔出会中断复制；可以拔出还需 ~4 分钟\n", "可以拔出：全部视频已保存",
		"警报：本机暂存磁盘将满", "需要处理的文件：", "失败：读取记录仪出错", "\n      copy: read /media/evidock/DSJ0003/DCIM/0002.mp4: input/output error\n")
	// The verdicts start in one column, counting Chinese characters as two cells.
	var cols []int
	for _, line := range strings.Split(zh, "\n") {
		first := -1 // "可以拔出还需" may follow "请勿拔出" on its line
		for _, v := range []string{"能否拔出", "请勿拔出", "可以拔出"} {
			if i := strings.Index(line, v); i >= 0 && (first < 0 || i < first) {
				first = i
			}
		}
		if first >= 0 {
			cols = append(cols, displayWidth(line[:first]))
		}
	}
	if len(cols) != 4 {
		t.Fatalf("found %d verdict columns, want 4 (heading and 3 recorders)", len(cols))
	}
	for _, c := range cols[1:] {
		if c != cols[0] {
			t.Errorf("verdict columns %v are not aligned", cols)
			break
		}
	}

	buf.Reset()
	WriteText(&buf, NewView(&agent.DockStatus{StationID: "dock-01"}, Chinese))
	mustContain(t, "empty zh text", buf.String(), "请插入执法记录仪")
}

func TestCardEdgeCases(t *testing.T) {
	st := &agent.DockStatus{StationID: "dock-01", Recorders: []agent.RecorderStatus{
		// Just appeared, nothing read yet: the agent says done.
		{Volume: "/media/evidock/DSJ_VOL", ETASeconds: -1, Phase: agent.PhaseDone, SafeToUnplug: true,
			ReasonCode: agent.ReasonDone, Reason: "safe to unplug: all footage is stored, registered and cleared"},
		// Many failures, and a reason code this screen does not know.
		{Volume: "/media/evidock/DSJ0009", DeviceSerial: "DSJ0009", OfficerNo: "100239", FilesTotal: 6, ETASeconds: -1,
			Phase: "waiting", ReasonCode: "waiting", Reason: "do not unplug: waiting for the agent"},
	}}
	for i := range 6 {
		st.Recorders[1].Recordings = append(st.Recorders[1].Recordings, agent.RecordingStatus{
			FileName: fmt.Sprintf("DSJ0009_100239_20240501080000_%04d.mp4", i+1), State: agent.StateFailed, Note: "copy: broken"})
	}
	// A code this screen does not know (a newer agent), and a note from
	// before notes had codes: the agent's English, with no detail line.
	st.Recorders[1].Recordings[0].NoteCode = "quantum_flux"
	st.Recorders[1].Recordings[0].Note = "quantum flux in the recorder"
	v := NewView(st, Chinese)
	if c := v.Cards[0]; c.Serial != "DSJ_VOL" || c.Reason != "记录仪上尚未发现视频文件" || c.Officer != "—" || c.Percent != 100 {
		t.Errorf("card of a recorder with no footage: %+v", c)
	}
	if c := v.Cards[1]; c.Reason != "do not unplug: waiting for the agent" || c.PhaseText != "waiting" || c.Safe || len(c.Attention) != 6 {
		t.Errorf("card with an unknown reason: %+v", c)
	}
	if f := v.Cards[1].Attention; f[0].Note != "quantum flux in the recorder" || f[0].Detail != "" || f[1].Note != "copy: broken" || f[1].Detail != "" {
		t.Errorf("notes with an unknown code and with none: %+v", f[:2])
	}
	_, body := get(t, New(&fakeSource{st: st}), "GET", "/")
	if n := strings.Count(body, `<li data-state="failed"`); n != MaxAttentionShown {
		t.Errorf("page lists %d failed files, want %d", n, MaxAttentionShown)
	}
	mustContain(t, "page", body, "另有 2 个文件", "DSJ_VOL", "记录仪上尚未发现视频文件")
	var buf bytes.Buffer
	WriteText(&buf, v)
	if n := strings.Count(buf.String(), "DSJ0009_100239"); n != 6 {
		t.Errorf("terminal lists %d failed files, want all 6", n)
	}
}

func TestAlarmKinds(t *testing.T) {
	for _, tt := range []struct {
		kind string
		lang Lang
		want string
	}{
		{"staging_full", Chinese, "本机暂存磁盘将满，放不下的视频暂留在记录仪上等待导入，请联系管理员"},
		{"recorder_storage:DSJ0007", Chinese, "执法记录仪 DSJ0007 存储空间将满，请及时停靠导入"},
		{"recorder_storage:DSJ0007", English, "Recorder DSJ0007 is nearly out of storage: dock it to take its footage in."},
	} {
		// From an agent older than Alarm.Code (the kind alone) and from one
		// that says the code and subject.
		code, subject, _ := strings.Cut(tt.kind, ":")
		for _, a := range []agent.Alarm{{Kind: tt.kind, Message: "detail"}, {Kind: tt.kind, Code: code, Subject: subject, Message: "detail"}} {
			av := alarmView(a, StringsFor(tt.lang))
			if av.Text != tt.want || av.Detail != "detail" || av.Kind != tt.kind {
				t.Errorf("alarm %+v in %s: %+v, want %q", a, tt.lang, av, tt.want)
			}
		}
	}
	// A code this screen does not know (a newer agent) is said in the
	// agent's English, once.
	for _, l := range Langs {
		av := alarmView(agent.Alarm{Kind: "something_new:X", Code: "something_new", Subject: "X", Message: "something new happened to X"}, StringsFor(l))
		if av.Text != "something new happened to X" || av.Detail != "" {
			t.Errorf("unknown alarm in %s: %+v, want the agent's English", l, av)
		}
	}
	if av := alarmView(agent.Alarm{Kind: "something_new"}, StringsFor(Chinese)); av.Text != "请联系管理员" {
		t.Errorf("unknown alarm without a message: %+v", av)
	}
}
