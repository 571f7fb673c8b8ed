package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"evidock"
	"evidock/server"
	evhttp "evidock/server/http"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// logFixture is a real case server with a transparency log, on SQLite or
// PostgreSQL, with a few clips, the files verify-log reads, and a raw
// connection to the database for playing the insider who edits rows.
type logFixture struct {
	url, tokenFile, keyFile, clipsFile, stateFile string
	skey                                          string
	srv                                           atomic.Pointer[evhttp.Server] // swapped by restart
	open                                          func(t *testing.T) (storetest.LogStore, evidock.StationService, func(context.Context) error)
	store                                         storetest.LogStore
	stations                                      evidock.StationService
	clips                                         []*evidock.Clip
	pg                                            bool
	exec                                          func(t *testing.T, stmt string, args ...any)
}

func newLogFixture(t *testing.T, driver string) *logFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := &logFixture{pg: driver == "postgres"}
	switch driver {
	case "sqlite":
		path := filepath.Join(dir, "evidock.db")
		f.open = func(t *testing.T) (storetest.LogStore, evidock.StationService, func(context.Context) error) {
			db, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, db, db.Ping
		}
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		f.exec = func(t *testing.T, stmt string, args ...any) {
			t.Helper()
			if _, err := raw.ExecContext(ctx, stmt, args...); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	case "postgres":
		dsn := pgtest.NewSchema(t)
		f.open = func(t *testing.T) (storetest.LogStore, evidock.StationService, func(context.Context) error) {
			db, err := postgres.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db, db, db.Ping
		}
		raw, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close(ctx) })
		f.exec = func(t *testing.T, stmt string, args ...any) {
			t.Helper()
			if _, err := raw.Exec(ctx, stmt, args...); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	skey, vkey := storetest.MustLogKey(t)
	f.skey = skey
	f.restart(t)
	token, err := f.stations.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	f.tokenFile = filepath.Join(dir, "token")
	if err := os.WriteFile(f.tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.keyFile = filepath.Join(dir, "log.pub")
	if err := os.WriteFile(f.keyFile, []byte(vkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.stateFile = filepath.Join(dir, "verify-log.state")

	for i := range 4 {
		f.register(t, fmt.Sprintf("clip %d", i), i+1)
	}
	f.clipsFile = filepath.Join(dir, "clips.txt")
	list := "# clips burned to disc 1\n"
	for _, c := range f.clips {
		list += c.Digest.String() + "  " + c.FileName + "\n"
	}
	if err := os.WriteFile(f.clipsFile, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}

	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.srv.Load().ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// restart opens the database again and serves it with a new server, as
// restarting the server would: one that has cached no hashes and signed no
// checkpoint yet.
func (f *logFixture) restart(t *testing.T) {
	t.Helper()
	var ping func(context.Context) error
	f.store, f.stations, ping = f.open(t)
	srv := evhttp.NewServer(&server.Registry{Clips: f.store}, f.stations, nil, ping, slog.New(slog.DiscardHandler))
	srv.SetLog(storetest.MustLog(t, f.store, f.skey))
	f.srv.Store(srv)
}

// register registers a clip straight into the store.
func (f *logFixture) register(t *testing.T, body string, seq int) *evidock.Clip {
	t.Helper()
	c := storetest.NewClip([]byte(body), "A000001", "100001", time.Date(2024, 5, 1, 9, seq, 0, 0, evidock.ChinaTime), seq)
	c.StationID = "dock-01"
	if _, err := f.store.RegisterClip(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	f.clips = append(f.clips, c)
	return c
}

// digest returns the SQL literal of d as the database keeps it.
func (f *logFixture) digest(d evidock.Digest) string {
	if f.pg {
		return `'\x` + d.String() + `'::bytea`
	}
	return "'" + d.String() + "'"
}

// disableTrigger lets the insider past a trigger that guards table.
func (f *logFixture) disableTrigger(t *testing.T, table, trigger string) {
	t.Helper()
	if f.pg {
		f.exec(t, "ALTER TABLE "+table+" DISABLE TRIGGER "+trigger)
	} else {
		f.exec(t, "DROP TRIGGER "+trigger)
	}
}

func (f *logFixture) verify(t *testing.T, extra ...string) (int, string, string) {
	t.Helper()
	args := append([]string{"verify-log", "--server", f.url, "--token-file", f.tokenFile, "--key", f.keyFile}, extra...)
	return runCLI(args...)
}

func forEachDriver(t *testing.T, test func(t *testing.T, driver string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, "sqlite") })
	t.Run("postgres", func(t *testing.T) {
		pgtest.DSN(t)
		test(t, "postgres")
	})
}

func TestVerifyLog(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		f := newLogFixture(t, driver)
		code, stdout, stderr := f.verify(t, "--clips", f.clipsFile, "--state", f.stateFile)
		if code != 0 || !strings.Contains(stdout, "OK: the log of evidock.test/registry, 4 records") ||
			!strings.Contains(stdout, "clips: 4 listed") || !strings.Contains(stdout, "registry: 4 clips") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		state, err := os.ReadFile(f.stateFile)
		if err != nil || !strings.HasPrefix(string(state), "evidock.test/registry\n4\n") {
			t.Fatalf("state file %q, %v; want the checkpoint of 4 records", state, err)
		}
		// The log grows; the next run checks it extends the last one.
		f.register(t, "clip 4", 5)
		f.register(t, "clip 5", 6)
		code, stdout, stderr = f.verify(t, "--state", f.stateFile)
		if code != 0 || !strings.Contains(stdout, "state: the log extends the checkpoint of 4 records") {
			t.Fatalf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
}

func TestVerifyLogCatchesChangedClipRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		f := newLogFixture(t, driver)
		c := f.clips[1]
		f.disableTrigger(t, "clips", "clips_never_updated")
		f.exec(t, "UPDATE clips SET officer_no = '999999' WHERE blake3 = "+f.digest(c.Digest))
		for _, args := range [][]string{nil, {"--clips", f.clipsFile}} {
			code, stdout, stderr := f.verify(t, args...)
			t.Log(stdout + stderr)
			if code != 1 || !strings.Contains(stdout, "FAIL clip "+c.Digest.String()) ||
				!strings.Contains(stdout, `officer_no: log record "100001", registry "999999"`) {
				t.Fatalf("verify-log %v after the clip row was changed: exit %d\n%s", args, code, stdout)
			}
		}
	})
}

func TestVerifyLogCatchesChangedLogRecord(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		f := newLogFixture(t, driver)
		c := f.clips[2]
		f.disableTrigger(t, "log_records", "log_records_never_updated")
		f.exec(t, "UPDATE log_records SET record = replace(record, 'officer_no 100001', 'officer_no 100002') WHERE blake3 = "+f.digest(c.Digest))
		code, stdout, _ := f.verify(t, "--clips", f.clipsFile)
		t.Log(stdout)
		for _, want := range []string{
			"FAIL records: the 4 records hash to root",
			"FAIL record 2, of clip " + c.Digest.String(), // located by consistency proofs
			"FAIL clip " + c.Digest.String(),              // and by its inclusion proof
		} {
			if code != 1 || !strings.Contains(stdout, want) {
				t.Fatalf("verify-log after a log record was changed: exit %d, want %q in\n%s", code, want, stdout)
			}
		}
	})
}

func TestVerifyLogCatchesDeletedAndUnloggedClips(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		f := newLogFixture(t, driver)
		gone := f.clips[0]
		if f.pg {
			// The log and the fixity schedule refer to the clip; a real
			// insider drops those too.
			f.exec(t, "ALTER TABLE log_records DROP CONSTRAINT log_records_clip_id_fkey")
			f.exec(t, "ALTER TABLE fixity_state DROP CONSTRAINT fixity_state_clip_id_fkey")
		} else {
			f.exec(t, "PRAGMA foreign_keys = OFF")
		}
		f.disableTrigger(t, "clips", "clips_never_deleted")
		f.exec(t, "DELETE FROM clips WHERE blake3 = "+f.digest(gone.Digest))
		// And a clip slipped into the registry past the log.
		extra := storetest.NewClip([]byte("unlogged"), "A000001", "100001", time.Date(2024, 5, 3, 9, 0, 0, 0, evidock.ChinaTime), 9)
		if f.pg {
			f.exec(t, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial, officer_no, started_at,
				corrected_started_at, seq, kind, ingested_at, registered_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, statement_timestamp())`,
				extra.Digest[:], extra.Size, extra.ObjectKey, extra.FileName, extra.DeviceSerial, extra.OfficerNo,
				extra.StartedAt, extra.Seq, string(extra.Kind), extra.IngestedAt)
		} else {
			ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
			f.exec(t, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial, officer_no, started_at,
				corrected_started_at, seq, kind, ingested_at, registered_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				extra.Digest.String(), extra.Size, extra.ObjectKey, extra.FileName, extra.DeviceSerial, extra.OfficerNo,
				ts(extra.StartedAt), ts(extra.StartedAt), extra.Seq, string(extra.Kind), ts(extra.IngestedAt), ts(time.Now()))
		}
		code, stdout, _ := f.verify(t, "--clips", f.clipsFile)
		for _, want := range []string{
			"FAIL clip " + gone.Digest.String() + " (" + gone.FileName + "): in the log at 0 but not in the registry",
			"FAIL clip " + extra.Digest.String() + " (" + extra.FileName + "): registered but not in the log",
		} {
			if code != 1 || !strings.Contains(stdout, want) {
				t.Fatalf("exit %d; want %q in\n%s", code, want, stdout)
			}
		}
	})
}

// TestVerifyLogCatchesRewrittenHistory plays the insider who rewrites a
// clip, its log record and every stored hash to match, so that the server
// itself signs the rewritten tree: the records and the registry agree
// with the signed root, and only the checkpoint remembered from before
// (--state) shows the history was rewritten.
func TestVerifyLogCatchesRewrittenHistory(t *testing.T) {
	forEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newLogFixture(t, driver)
		if code, stdout, _ := f.verify(t, "--state", f.stateFile); code != 0 {
			t.Fatalf("first run: exit %d\n%s", code, stdout)
		}
		c := f.clips[1]
		f.disableTrigger(t, "clips", "clips_never_updated")
		f.disableTrigger(t, "log_records", "log_records_never_updated")
		f.disableTrigger(t, "log_hashes", "log_hashes_never_deleted")
		f.exec(t, "UPDATE clips SET duration_ms = 1 WHERE blake3 = "+f.digest(c.Digest))
		f.exec(t, "UPDATE log_records SET record = replace(record, 'duration_ms 61500', 'duration_ms 1') WHERE blake3 = "+f.digest(c.Digest))
		// Every stored hash again, from the rewritten records.
		recs, err := f.store.ReadLogRecords(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var hashes []tlog.Hash
		reader := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(ix))
			for i, x := range ix {
				out[i] = hashes[x]
			}
			return out, nil
		})
		for i, r := range recs {
			hs, err := tlog.StoredHashes(int64(i), []byte(r.Record), reader)
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, hs...)
		}
		f.exec(t, "DELETE FROM log_hashes")
		for i, h := range hashes {
			if f.pg {
				f.exec(t, "INSERT INTO log_hashes (id, hash) VALUES ($1, $2)", int64(i), h[:])
			} else {
				f.exec(t, "INSERT INTO log_hashes (id, hash) VALUES (?, ?)", int64(i), h[:])
			}
		}

		// The insider restarts the server, which forgets the hashes and
		// the checkpoint it kept in memory; without the remembered
		// checkpoint, the rewrite is then seamless.
		f.restart(t)
		if code, stdout, _ := f.verify(t); code != 0 {
			t.Fatalf("the rewrite was not seamless, so this test does not test --state: exit %d\n%s", code, stdout)
		}
		code, stdout, _ := f.verify(t, "--state", f.stateFile)
		t.Log(stdout)
		if code != 1 || !strings.Contains(stdout, "FAIL state:") || !strings.Contains(stdout, "history was rewritten") {
			t.Fatalf("verify-log --state after the rewrite: exit %d\n%s", code, stdout)
		}
		// A failed run leaves the remembered checkpoint as it was.
		if code, _, _ := f.verify(t, "--state", f.stateFile); code != 1 {
			t.Fatal("the failed run replaced the remembered checkpoint")
		}
	})
}

func TestVerifyLogWrongKey(t *testing.T) {
	f := newLogFixture(t, "sqlite")
	_, other := storetest.MustLogKey(t)
	if err := os.WriteFile(f.keyFile, []byte(other+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := f.verify(t)
	if code != 1 || !strings.Contains(stdout, "FAIL checkpoint: not signed by the log key") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
}

func TestVerifyLogUsage(t *testing.T) {
	f := newLogFixture(t, "sqlite")
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("# fine\n\nnot-a-digest\n"), 0o644)
	notKey := filepath.Join(t.TempDir(), "key")
	os.WriteFile(notKey, []byte("hello\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"verify-log", "--server", f.url, "--token-file", f.tokenFile}, "--key is required"},
		{[]string{"verify-log", "--server", f.url, "--token-file", f.tokenFile, "--key", notKey}, "does not hold a note verifier key"},
		{[]string{"verify-log", "--server", f.url, "--token-file", f.tokenFile, "--key", f.keyFile, "--clips", bad}, "line 3"},
		{[]string{"verify-log", "--server", f.url, "--token-file", f.tokenFile, "--key", f.keyFile, "extra"}, `unexpected argument "extra"`},
	} {
		if code, _, stderr := runCLI(tt.args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	// A clip that is not in the log at all.
	absent := storetest.NewClip([]byte("absent"), "A000001", "100001", time.Now(), 1)
	list := filepath.Join(t.TempDir(), "absent.txt")
	os.WriteFile(list, []byte(absent.Digest.String()+"\n"), 0o644)
	if code, stdout, _ := f.verify(t, "--clips", list); code != 1 || !strings.Contains(stdout, "FAIL clip "+absent.Digest.String()+": not in the log") {
		t.Errorf("absent clip: exit %d\n%s", code, stdout)
	}
}

// TestVerifyLogSeesARestoredBackup restores an older backup of a SQLite
// registry (evidock-server backup) in place of the live database: the
// restored server's log checks out on its own, but an auditor who verified
// the later log sees it rolled back, as the README says.
func TestVerifyLogSeesARestoredBackup(t *testing.T) {
	ctx := context.Background()
	f := newLogFixture(t, "sqlite")
	live := f.store.(*sqlite.DB)
	backup := filepath.Join(t.TempDir(), "backup.db")
	copyPath, err := live.Backup(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Publish(copyPath, backup); err != nil {
		t.Fatal(err)
	}
	f.register(t, "after the backup 1", 5)
	f.register(t, "after the backup 2", 6)
	if code, stdout, _ := f.verify(t, "--state", f.stateFile); code != 0 {
		t.Fatalf("before the restore: exit %d\n%s", code, stdout)
	}

	// The restore as the README gives it: the server stopped, the
	// database and its -wal and -shm files moved away, the backup copied
	// in, the server started.
	path := live.Path()
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, path+suffix+".damaged"); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f.restart(t)
	if n, err := f.store.LogSize(ctx); err != nil || n != 4 {
		t.Fatalf("the restored log holds %d records, %v; want the backup's 4", n, err)
	}
	if code, stdout, _ := f.verify(t); code != 0 {
		t.Fatalf("the restored registry does not verify on its own: exit %d\n%s", code, stdout)
	}
	code, stdout, _ := f.verify(t, "--state", f.stateFile)
	if code != 1 || !strings.Contains(stdout, "the log shrank from 6 records to 4") {
		t.Fatalf("verify-log --state after the restore: exit %d; want 1 and the log shrank\n%s", code, stdout)
	}
}
