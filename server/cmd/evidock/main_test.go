package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
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

// fixture is a real case server on SQLite holding a few clips, and a token
// file for it.
type fixture struct {
	url, tokenFile string
	handler        http.Handler // the server's, for another listener
	clips          []*evidock.Clip
	recorders      []*evidock.Recorder
}

func newFixture(t *testing.T) *fixture {
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
	day := func(d, h int) time.Time { return time.Date(2024, 5, 1+d, h, 0, 0, 0, evidock.ChinaTime) }
	f := &fixture{tokenFile: tokenFile}
	for i, c := range []*evidock.Clip{
		storetest.NewClip([]byte("1"), "A000001", "100001", day(0, 9), 1),
		storetest.NewClip([]byte("2"), "A000001", "100001", day(0, 23), 2),
		storetest.NewClip([]byte("3"), "B000002", "100002", day(1, 10), 3),
	} {
		c.StationID = "dock-01"
		// Listing is about the registry, not about verification, so the
		// clips go straight into the database.
		if _, err := db.RegisterClip(ctx, c); err != nil {
			t.Fatalf("clip %d: %v", i, err)
		}
		f.clips = append(f.clips, c)
	}
	// A recorder whose clock is fine, one an officer left drifting, and
	// one that reported nothing of its condition.
	fine := storetest.NewRecorder("A000001", "100001", time.Date(2024, 5, 1, 18, 5, 0, 0, evidock.ChinaTime))
	drifting := storetest.NewRecorder("B000002", "100002", time.Date(2024, 5, 2, 8, 0, 0, 0, time.UTC))
	drifting.BatteryPercent, drifting.StorageUsed, drifting.StorageTotal = 7, 60<<30, 64<<30
	drifting.ClockOffsetMS, drifting.DriftPerDayMS, drifting.ClockDrifted = -42_500, -4_250, true
	bare := &evidock.Recorder{DeviceSerial: "C000003", OfficerNo: "100001", LastDockedAt: time.Date(2024, 5, 3, 9, 0, 0, 0, evidock.ChinaTime), BatteryPercent: -1}
	for _, r := range []*evidock.Recorder{drifting, fine, bare} {
		r.LastStationID = "dock-01"
		if err := db.ReportDock(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	f.recorders = []*evidock.Recorder{fine, drifting, bare}
	f.handler = evhttp.NewServer(&server.Registry{Clips: db}, db, db, db.Ping, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(f.handler)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// TestCAFile lists clips from the server over https with a certificate from
// a CA the machine does not trust: with --ca-file naming it, it works;
// without, the failure says to give the CA; a file that holds no
// certificate is a usage error.
func TestCAFile(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewTLSServer(f.handler)
	defer ts.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI("clips", "--server", ts.URL, "--token-file", f.tokenFile, "--ca-file", ca); code != 0 || strings.Count(stdout, "\n") != 1+len(f.clips) {
		t.Errorf("with --ca-file: exit %d, %s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI("clips", "--server", ts.URL, "--token-file", f.tokenFile); code != 1 || !strings.Contains(stderr, "--ca-file") {
		t.Errorf("without --ca-file: exit %d, %s; want 1 and a message naming --ca-file", code, stderr)
	}
	if code, _, stderr := runCLI("clips", "--server", ts.URL, "--token-file", f.tokenFile, "--ca-file", f.tokenFile); code != 2 || !strings.Contains(stderr, "--ca-file") {
		t.Errorf("--ca-file of a token: exit %d, %s; want 2 naming --ca-file", code, stderr)
	}
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &errOut
	code = run(context.Background(), args, m)
	return code, out.String(), errOut.String()
}

func TestClipsTable(t *testing.T) {
	f := newFixture(t)
	code, stdout, stderr := runCLI("clips", "--server", f.url, "--token-file", f.tokenFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "FILE SIZE BLAKE3 OBJECT KEY REGISTERED AT" {
		t.Fatalf("table:\n%s", stdout)
	}
	for i, c := range f.clips {
		fields := strings.Fields(lines[i+1])
		want := []string{c.FileName, fmt.Sprint(c.Size), c.Digest.String(), c.ObjectKey,
			c.RegisteredAt.In(evidock.ChinaTime).Format("2006-01-02"), c.RegisteredAt.In(evidock.ChinaTime).Format("15:04:05")}
		if strings.Join(fields, " ") != strings.Join(want, " ") {
			t.Errorf("row %d = %q; want %q", i, fields, want)
		}
	}
}

func TestClipsFilters(t *testing.T) {
	f := newFixture(t)
	t.Setenv(EnvServer, f.url)
	t.Setenv(EnvTokenFile, f.tokenFile)
	for _, tt := range []struct {
		args  []string
		files []int // indexes into f.clips
	}{
		{[]string{"--officer", "100001"}, []int{0, 1}},
		{[]string{"--recorder", "B000002"}, []int{2}},
		{[]string{"--from", "2024-05-01", "--to", "2024-05-01"}, []int{0, 1}},
		{[]string{"--from", "2024-05-02T00:00:00+08:00"}, []int{2}},
		{[]string{"--limit", "2"}, []int{0, 1}},
		{[]string{"--officer", "999999"}, nil},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"clips", "--json"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var list struct {
				Clips []*evidock.Clip `json:"clips"`
			}
			if err := json.Unmarshal([]byte(stdout), &list); err != nil {
				t.Fatalf("--json output %q: %v", stdout, err)
			}
			var got, want []string
			for _, c := range list.Clips {
				got = append(got, c.FileName)
			}
			for _, i := range tt.files {
				want = append(want, f.clips[i].FileName)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("clips %v; want %v", got, want)
			}
		})
	}
	if _, _, stderr := runCLI("clips", "--limit", "1"); !strings.Contains(stderr, "showing 1 of 3") {
		t.Errorf("a limited listing does not say how many match: %q", stderr)
	}
}

func TestClip(t *testing.T) {
	f := newFixture(t)
	c := f.clips[0]
	// Flags may follow the digest.
	code, stdout, stderr := runCLI("clip", c.Digest.String(), "--server", f.url, "--token-file", f.tokenFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{c.FileName, c.Digest.String(), c.ObjectKey, "100001", "A000001", "2024-05-01 09:00:00", "dock-01", "1m1.5s",
		"CORRECTED START", "CLOCK OFFSET", "IMPORTANT"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCLI("clip", "--json", "--server", f.url, "--token-file", f.tokenFile, c.Digest.String())
	var got evidock.Clip
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil || got.ID != c.ID {
		t.Fatalf("--json: exit %d, %v, %q", code, err, stdout)
	}
	absent := storetest.NewClip([]byte("absent"), "A000001", "100001", c.StartedAt, 9)
	if code, _, stderr := runCLI("clip", "--server", f.url, "--token-file", f.tokenFile, absent.Digest.String()); code != 1 || !strings.Contains(stderr, "not registered") {
		t.Fatalf("absent clip: exit %d, %q; want 1", code, stderr)
	}
}

func TestRecordersTable(t *testing.T) {
	f := newFixture(t)
	code, stdout, stderr := runCLI("recorders", "--server", f.url, "--token-file", f.tokenFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	want := [][]string{
		{"SERIAL", "OFFICER", "LAST", "DOCK", "STATION", "BATTERY", "STORAGE", "CLOCK", "OFFSET", "DRIFT"},
		{"A000001", "100001", "2024-05-01", "18:05:00", "dock-01", "80%", "12.0GiB/64.0GiB", "+1.5s", "-"},
		{"B000002", "100002", "2024-05-02", "16:00:00", "dock-01", "7%", "60.0GiB/64.0GiB", "-42.5s", "yes"},
		{"C000003", "100001", "2024-05-03", "09:00:00", "dock-01", "-", "-", "0s", "-"},
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

func TestRecordersFilterAndJSON(t *testing.T) {
	f := newFixture(t)
	t.Setenv(EnvServer, f.url)
	t.Setenv(EnvTokenFile, f.tokenFile)
	for _, tt := range []struct {
		args    []string
		serials []string
	}{
		{nil, []string{"A000001", "B000002", "C000003"}},
		{[]string{"--officer", "100001"}, []string{"A000001", "C000003"}},
		{[]string{"--officer", "999999"}, nil},
	} {
		code, stdout, stderr := runCLI(append([]string{"recorders", "--json"}, tt.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, stderr)
		}
		var list struct {
			Recorders []*evidock.Recorder `json:"recorders"`
		}
		if err := json.Unmarshal([]byte(stdout), &list); err != nil || list.Recorders == nil {
			t.Fatalf("%v: --json output %q: %v", tt.args, stdout, err)
		}
		var got []string
		for _, r := range list.Recorders {
			got = append(got, r.DeviceSerial)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.serials) {
			t.Errorf("%v: recorders %v; want %v", tt.args, got, tt.serials)
		}
	}
	code, stdout, _ := runCLI("recorders", "--json")
	var list struct {
		Recorders []*evidock.Recorder `json:"recorders"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || len(list.Recorders) != 3 ||
		!list.Recorders[1].ClockDrifted || list.Recorders[1].DriftPerDayMS != -4_250 {
		t.Fatalf("--json: exit %d, %v: %s; want the drift in full", code, err, stdout)
	}
	if code, _, stderr := runCLI("recorders", "--officer", "999999"); code != 0 || !strings.Contains(stderr, "no recorders") {
		t.Errorf("no match: exit %d, %q", code, stderr)
	}
}

func TestFormatOffset(t *testing.T) {
	for ms, want := range map[int64]string{
		0: "0s", 1_500: "+1.5s", -42_500: "-42.5s", 3_723_000: "+1h2m3s", -1 << 63: "-9223372036854775808ms",
	} {
		if got := formatOffset(ms); got != want {
			t.Errorf("formatOffset(%d) = %q; want %q", ms, got, want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	f := newFixture(t)
	t.Setenv(EnvServer, "")
	t.Setenv(EnvTokenFile, "")
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("evd_st_not-a-real-token"), 0o600)
	srv := []string{"--server", f.url, "--token-file", f.tokenFile}
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "no command given"},
		{[]string{"help"}, 0, "Exit codes:"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"clips"}, 2, "--server is empty"},
		{[]string{"clips", "--server", f.url}, 2, "--token-file is empty"},
		{[]string{"clips", "--server", "127.0.0.1:8440", "--token-file", f.tokenFile}, 2, "not a server URL"},
		{[]string{"clips", "--server", f.url, "--token-file", "/nonexistent/token"}, 2, "--token-file"},
		{[]string{"clips", "--server", f.url, "--token-file", empty}, 2, "is empty"},
		{append([]string{"clips", "--from", "yesterday"}, srv...), 2, "--from"},
		{append([]string{"clips", "--limit", "-1"}, srv...), 2, "--limit"},
		{append([]string{"clips", "--officer", "abc"}, srv...), 2, "officer"}, // refused by the server
		{append([]string{"clips", "extra"}, srv...), 2, "unexpected argument"},
		{append([]string{"clip"}, srv...), 2, "exactly one"},
		{append([]string{"clip", "xyz"}, srv...), 2, "blake3"},
		{append([]string{"recorders", "--officer", "abc"}, srv...), 2, "officer"}, // refused by the server
		{append([]string{"recorders", "extra"}, srv...), 2, "unexpected argument"},
		{append([]string{"recorders", "--recorder", "A000001"}, srv...), 2, "flag provided but not defined"},
		{[]string{"clips", "--server", f.url, "--token-file", bad}, 1, "unknown station token"},
		{[]string{"clips", "--server", "http://127.0.0.1:1", "--token-file", f.tokenFile}, 1, "cannot reach"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.out) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.code, tt.out)
			}
		})
	}
}
