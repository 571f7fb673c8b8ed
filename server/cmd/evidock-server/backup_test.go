package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/server/sqlite"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// openRegistry opens (creating) the SQLite registry at path with a station,
// as a running server holds it, closed when the test ends.
func openRegistry(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.CreateStation(context.Background(), &evidock.Station{ID: "dock-01"}); err != nil && evidock.ErrorCode(err) != evidock.ECONFLICT {
		t.Fatal(err)
	}
	return db
}

// registerClips registers n clips, numbered from from, as dock-01's.
func registerClips(db *sqlite.DB, from, n int) error {
	for i := from; i < from+n; i++ {
		c := storetest.NewClip(fmt.Appendf(nil, "backup clip %d", i), "A123456", "100001", time.Date(2026, 5, 1, 9, 0, 0, 0, evidock.ChinaTime).Add(time.Duration(i)*time.Minute), i+1)
		c.StationID = "dock-01"
		if _, err := db.RegisterClip(context.Background(), c); err != nil {
			return err
		}
	}
	return nil
}

func mustRegisterClips(t *testing.T, db *sqlite.DB, from, n int) {
	t.Helper()
	if err := registerClips(db, from, n); err != nil {
		t.Fatal(err)
	}
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "server", "evidock.db")
	cfg := writeFile(t, "server.yaml", "database:\n  path: "+dbPath+"\n")
	live := openRegistry(t, dbPath)
	mustRegisterClips(t, live, 0, 25)

	to := filepath.Join(dir, "backups", "registry.db")
	code, stdout, stderr := runMain(ctx, "backup", "--config", cfg, "--to", to)
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	root, err := translog.TreeRoot(ctx, live, 25)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backup written: " + to, "25 clips; transparency log of 25 records, root " + root.String()} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// Nothing but the backup is left beside it: no temporary copy.
	if entries, _ := os.ReadDir(filepath.Dir(to)); len(entries) != 1 || entries[0].Name() != "registry.db" {
		t.Errorf("the backup directory holds %v; want only registry.db", entries)
	}
	backup := openRegistry(t, to)
	if _, total, err := backup.FindClips(ctx, evidock.ClipFilter{}); err != nil || total != 25 {
		t.Fatalf("the backup holds %d clips, %v; want 25", total, err)
	}
	if got, err := translog.TreeRoot(ctx, backup, 25); err != nil || got != root {
		t.Fatalf("the backup's log root is %s, %v; want the live %s", got, err, root)
	}
	written, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}

	// Bad requests change nothing, and say what to do.
	pg := writeFile(t, "pg.yaml", "database:\n  driver: postgres\n  dsn: postgres://evidock@127.0.0.1:5432/evidock\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--config", cfg, "--to", to}, "exists already"},
		{[]string{"backup", "--config", cfg}, "--to is required"},
		{[]string{"backup", "--config", pg, "--to", filepath.Join(dir, "pg.db")}, "pg_basebackup"},
	} {
		if code, _, stderr := runMain(ctx, tt.args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if again, _ := os.ReadFile(to); !bytes.Equal(again, written) {
		t.Error("a refused backup changed the existing file")
	}
	if _, err := os.Stat(filepath.Join(dir, "pg.db")); !os.IsNotExist(err) {
		t.Errorf("a refused backup left a file: %v", err)
	}
}

// TestBackupWhileRegistering backs the registry up while clips are being
// registered: the backup holds a moment's registrations, each with its log
// entry, and its log is the beginning of the live one.
func TestBackupWhileRegistering(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "evidock.db")
	cfg := writeFile(t, "server.yaml", "database:\n  path: "+dbPath+"\n")
	live := openRegistry(t, dbPath)
	mustRegisterClips(t, live, 0, 10)

	// Registrations go on, one at a time, until the backup is done.
	stop := make(chan struct{})
	registered := 10
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				if err := registerClips(live, registered, 1); err != nil {
					t.Error(err)
					return
				}
				registered++
			}
		}
	})
	to := filepath.Join(dir, "backup.db")
	code, _, stderr := runMain(ctx, "backup", "--config", cfg, "--to", to)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	backup := openRegistry(t, to)
	n, err := backup.LogSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, clips, err := backup.FindClips(ctx, evidock.ClipFilter{Limit: 1})
	if err != nil || int64(clips) != n || n < 10 {
		t.Fatalf("the backup holds %d clips and %d log records (%v); want the same number, at least the 10 registered before", clips, n, err)
	}
	got, err := translog.TreeRoot(ctx, backup, n)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := translog.TreeRoot(ctx, live, n); err != nil || got != want {
		t.Fatalf("the backup's log of %d records has root %s; the live log's first %d have %s (%v)", n, got, n, want, err)
	}
	t.Logf("the backup holds %d of the %d clips registered", n, registered)
}

// TestCheckBackupCatchesDamage shows that a copy is refused when its log
// does not hold up: a record changed behind the triggers' back, or a log
// that is not the live one's beginning.
func TestCheckBackupCatchesDamage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := openRegistry(t, filepath.Join(dir, "live.db"))
	mustRegisterClips(t, live, 0, 5)
	if _, err := checkBackup(ctx, live.Path(), live); err != nil {
		t.Fatalf("an intact registry fails the check: %v", err)
	}

	other := openRegistry(t, filepath.Join(dir, "other.db"))
	mustRegisterClips(t, other, 100, 5)
	if _, err := checkBackup(ctx, other.Path(), live); err == nil || !strings.Contains(err.Error(), "the live log's first 5 records") {
		t.Errorf("a copy of another registry passed the check: %v", err)
	}

	changed := filepath.Join(dir, "changed.db")
	copyPath, err := live.Backup(ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", copyPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"DROP TRIGGER log_records_never_updated",
		"UPDATE log_records SET record = replace(record, 'A123456', 'B123456') WHERE idx = 2",
	} {
		if _, err := raw.Exec(stmt); err != nil {
			raw.Close()
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	raw.Close()
	if _, err := checkBackup(ctx, copyPath, live); err == nil || !strings.Contains(err.Error(), "but its records give") {
		t.Errorf("a copy with a changed log record passed the check: %v", err)
	}
}
