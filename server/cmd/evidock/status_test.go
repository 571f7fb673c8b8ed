package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/server"
	"evidock/server/fixity"
	evhttp "evidock/server/http"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// statusFixture is a real case server on SQLite that reports its status,
// with three clips: one checked and ok, one found missing and one found
// changed, so that two alarms are open. Its URL and token file are
// returned.
func statusFixture(t *testing.T) (url, tokenFile string, clips []*evidock.Clip) {
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
	tokenFile = filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The checks are recorded as the checker records them; reading
	// objects back is the fixity package's to test.
	for i, r := range []fixity.Result{fixity.OK, fixity.Missing, fixity.Changed} {
		c := storetest.NewClip([]byte(string(r)), "A000001", "100001", time.Date(2024, 5, 1, 9+i, 0, 0, 0, evidock.ChinaTime), i+1)
		if _, err := db.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordCheck(ctx, &fixity.Check{ClipID: c.ID, Result: r, Detail: "object " + c.ObjectKey + " was " + string(r), CheckedBy: "test"}); err != nil {
			t.Fatal(err)
		}
		clips = append(clips, c)
	}
	srv := evhttp.NewServer(&server.Registry{Clips: db}, db, db, db.Ping, slog.New(slog.DiscardHandler))
	srv.SetStatus(evhttp.StatusConfig{Version: "v-test", DatabaseDriver: "sqlite", Bucket: "footage", ObjectLock: true, RetentionDays: 3650,
		FixityEnabled: true, FixityInterval: 720 * time.Hour, FixityBytesPerSecond: 50_000_000, Fixity: db})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL, tokenFile, clips
}

func TestStatus(t *testing.T) {
	url, tokenFile, _ := statusFixture(t)
	code, stdout, stderr := runCLI("status", "--server", url, "--token-file", tokenFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"VERSION            v-test",
		"DATABASE           sqlite",
		"BUCKET             footage",
		"OBJECT LOCK        yes, 3650 days COMPLIANCE retention",
		"FIXITY CHECKS      every 30 days, at most 50 MB/s",
		"CLIPS              3 registered, 3 checked",
		"LATEST RESULTS     ok 1, missing 1, changed 1, unreachable 0",
		"ALL CHECKED SINCE  20",
		"OPEN ALARMS        2",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "2 open alarm(s): run 'evidock alarms'") {
		t.Errorf("stderr %q does not point at the alarms", stderr)
	}
	code, stdout, _ = runCLI("status", "--json", "--server", url, "--token-file", tokenFile)
	var st evhttp.Status
	if err := json.Unmarshal([]byte(stdout), &st); code != 0 || err != nil || !st.ObjectLock.Enabled || st.Fixity.OpenAlarms != 2 {
		t.Fatalf("--json: exit %d, %v, %s", code, err, stdout)
	}
	if code, _, stderr := runCLI("status", "extra", "--server", url, "--token-file", tokenFile); code != 2 || !strings.Contains(stderr, `unexpected argument "extra"`) {
		t.Fatalf("status extra: exit %d, %q; want 2", code, stderr)
	}
}

func TestAlarms(t *testing.T) {
	url, tokenFile, clips := statusFixture(t)
	t.Setenv(EnvServer, url)
	t.Setenv(EnvTokenFile, tokenFile)
	code, stdout, stderr := runCLI("alarms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID OPENED AT KIND SUBJECT MESSAGE" {
		t.Fatalf("table:\n%s", stdout)
	}
	// Newest first: the changed clip's alarm, then the missing one's.
	for i, want := range []struct {
		kind string
		clip *evidock.Clip
	}{{fixity.AlarmObjectChanged, clips[2]}, {fixity.AlarmObjectMissing, clips[1]}} {
		fields := strings.Fields(lines[i+1])
		if len(fields) < 6 || fields[3] != want.kind || fields[4] != want.clip.Digest.String() || !strings.Contains(lines[i+1], want.clip.FileName) {
			t.Errorf("row %d = %q; want %s of %s", i, lines[i+1], want.kind, want.clip.FileName)
		}
	}
	code, stdout, _ = runCLI("alarms", "--json", "--all")
	var list struct {
		Alarms []*fixity.Alarm `json:"alarms"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != 0 || err != nil || len(list.Alarms) != 2 || list.Alarms[1].Subject != clips[1].Digest.String() {
		t.Fatalf("--json --all: exit %d, %v, %s", code, err, stdout)
	}
	if code, stdout, _ = runCLI("alarms", "--all"); code != 0 || !strings.Contains(stdout, "ACKNOWLEDGED") {
		t.Fatalf("--all: exit %d:\n%s", code, stdout)
	}
}
