package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/server"
	"evidock/server/auth"
	evhttp "evidock/server/http"
	"evidock/server/sqlite"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// exportFixture is a real case server on SQLite with a real S3-compatible
// store and a log, one case with two confirmed clips, an archivist who may
// export it, a password file and the log's public key file.
type exportFixture struct {
	url, dir, passwordFile, keyFile string
	s3                              *s3test.Server
	clips                           []*evidock.Clip
	bodies                          [][]byte
}

const exportCaseNo = "常人社监罚〔2024〕31号"

func newExportFixture(t *testing.T) *exportFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "evidock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s3srv := s3test.Start(t)
	objects := s3srv.MustOpen(t)
	f := &exportFixture{dir: dir, s3: s3srv}
	storetest.SeedOrg(t, db)
	if _, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
		t.Fatal(err)
	}
	storetest.MustCreateUser(t, db, storetest.NewUser("dang.an", "", "archivist@CZ/CZ-TN"))
	day := func(h, m int) time.Time { return time.Date(2024, 5, 2, h, m, 0, 0, evidock.ChinaTime) }
	kase := storetest.MustCreateCase(t, db, storetest.NewCase(exportCaseNo, storetest.UnitTN1, day(8, 0)))
	act := storetest.MustCreateActivity(t, db, storetest.NewActivity(kase.ID, evidock.ActivityInspection,
		day(9, 0), day(10, 0), storetest.OfficerZhang, storetest.OfficerWang))
	for i, officer := range []string{storetest.OfficerZhang, storetest.OfficerWang} {
		body := bytes.Repeat([]byte(fmt.Sprintf("footage %d; ", i)), 30000)
		c := storetest.NewClip(body, "A00000"+fmt.Sprint(i+1), officer, day(9, 10+i*20), 1)
		c.StationID = "dock-01"
		if err := objects.PutObject(ctx, c.ObjectKey, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		f.clips, f.bodies = append(f.clips, c), append(f.bodies, body)
	}
	if _, err := db.SuggestLinks(ctx, act.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.clips {
		if err := db.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: act.ID, Digest: c.Digest, Action: evidock.LinkConfirm, By: c.OfficerNo}); err != nil {
			t.Fatal(err)
		}
	}
	skey, vkey := storetest.MustLogKey(t)
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
	api := evhttp.NewServer(&server.Registry{Clips: db, Objects: objects}, db, db, db.Ping, slog.New(slog.DiscardHandler))
	api.SetLog(rlog)
	api.SetCases(evhttp.CaseServices{Units: db, Officers: db, Cases: db, Links: db})
	api.SetStatus(evhttp.StatusConfig{DatabaseDriver: "sqlite", Fixity: db})
	if err := api.SetPeople(&evhttp.PeopleConfig{Auth: authSvc, Access: db, Audit: db, Objects: objects,
		Scope: server.NewRegistryScope(db, db, db)}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	f.passwordFile = filepath.Join(dir, "password")
	f.keyFile = filepath.Join(dir, "log.key.pub")
	for path, content := range map[string]string{f.passwordFile: storetest.TestPassword + "\n", f.keyFile: vkey + "\n"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// leftovers returns the files in dir other than want.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "evidock.db") && e.Name() != "password" && e.Name() != "log.key.pub" && !contains(want, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestExportCommand exports a case with the CLI: the file appears only
// complete and verified (receipts too, with --key), and verify-export
// checks it offline; a wrong key fails it; an altered object leaves no
// file behind; a missing reason is a usage error.
func TestExportCommand(t *testing.T) {
	f := newExportFixture(t)
	out := filepath.Join(f.dir, "case.tar")
	common := []string{"--server", f.url, "--login", "dang.an", "--password-file", f.passwordFile}

	code, stdout, stderr := runCLI(append([]string{"export", "--case", exportCaseNo, "--reason", "移送法院", "-o", out, "--key", f.keyFile}, common...)...)
	if code != 0 || !strings.Contains(stdout, "exported 2 clips") || !strings.Contains(stdout, "every receipt verified") {
		t.Fatalf("export = %d\n%s\n%s", code, stdout, stderr)
	}
	tarball, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range f.bodies {
		if !bytes.Contains(tarball, body) {
			t.Errorf("clip %d is not in the export byte for byte", i)
		}
	}
	if extra := leftovers(t, f.dir, "case.tar"); len(extra) > 0 {
		t.Errorf("files left beside the export: %v", extra)
	}

	code, stdout, stderr = runCLI("verify-export", "--key", f.keyFile, out)
	if code != 0 || strings.Count(stdout, "OK   ") != 2 || !strings.Contains(stdout, "every BLAKE3 and receipt verified") {
		t.Errorf("verify-export = %d\n%s\n%s", code, stdout, stderr)
	}
	otherKey := filepath.Join(f.dir, "other.pub")
	_, vkey := storetest.MustLogKey(t)
	if err := os.WriteFile(otherKey, []byte(vkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI("verify-export", "--key", otherKey, out)
	if code != 1 || !strings.Contains(stdout, "FAIL") {
		t.Errorf("verify-export with another log's key = %d\n%s; want 1 and FAIL", code, stdout)
	}
	os.Remove(otherKey)

	code, _, stderr = runCLI(append([]string{"export", "--case", exportCaseNo, "-o", out + "2"}, common...)...)
	if code != 2 || !strings.Contains(stderr, "--reason") {
		t.Errorf("export without --reason = %d %s; want 2 naming --reason", code, stderr)
	}

	// Alter the second clip in the store, keeping its size.
	altered := bytes.Clone(f.bodies[1])
	altered[len(altered)/3] ^= 1
	if err := os.WriteFile(filepath.Join(f.s3.DataDir, f.s3.Bucket, filepath.FromSlash(f.clips[1].ObjectKey)), altered, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(f.dir, "bad.tar")
	code, stdout, stderr = runCLI(append([]string{"export", "--case", exportCaseNo, "--reason", "归档", "-o", bad}, common...)...)
	if code != 1 || !strings.Contains(stderr, "nothing was written") {
		t.Errorf("export of an altered clip = %d\n%s\n%s; want 1 and nothing written", code, stdout, stderr)
	}
	t.Logf("the CLI said: %s", strings.TrimSpace(stderr))
	if extra := leftovers(t, f.dir, "case.tar"); len(extra) > 0 {
		t.Errorf("an altered export left %v", extra)
	}
}
