package postgres_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/storetest"
)

// MustOpen returns a store in a new empty schema of the test PostgreSQL,
// closed and dropped when the test ends.
func MustOpen(tb testing.TB) *postgres.DB {
	tb.Helper()
	return mustOpenDSN(tb, pgtest.NewSchema(tb))
}

// mustOpenDSN opens the store at dsn, closed when the test ends.
func mustOpenDSN(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// execOn returns what storetest's suites call to run a statement on db
// behind the store's back, as a test must to show that the database itself
// refuses a change.
func execOn(db *postgres.DB) func(stmt string) error {
	return func(stmt string) error {
		_, err := db.Pool().Exec(context.Background(), stmt)
		return err
	}
}

// queryOn returns what storetest's suites call to read what db stored: the
// first column of every row of a query, as text.
func queryOn(db *postgres.DB) func(q string) ([]string, error) {
	return func(q string) ([]string, error) {
		rows, err := db.Pool().Query(context.Background(), q)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
}

// legacyDB is a store on a database an older server may have left, as
// storetest's tests of migrations reach it.
type legacyDB struct{ *postgres.DB }

func (db legacyDB) Exec(stmt string) error               { return execOn(db.DB)(stmt) }
func (db legacyDB) Query(q string) ([]string, error)     { return queryOn(db.DB)(q) }
func (db legacyDB) RegisterLegacy(c *evidock.Clip) error { return registerLegacy(db.DB, c) }
func (db legacyDB) Close() error                         { db.DB.Close(); return nil }

// newLegacy returns a new empty schema of the test PostgreSQL, for
// storetest's tests of migrations to open at any version.
func newLegacy(t *testing.T) storetest.OpenLegacy {
	dsn := pgtest.NewSchema(t)
	return func(upTo int) (storetest.LegacyStore, error) {
		db, err := postgres.OpenAt(context.Background(), dsn, upTo)
		if err != nil {
			return nil, err
		}
		return legacyDB{db}, nil
	}
}

func TestClipService(t *testing.T) {
	pgtest.DSN(t) // skip once, not in every subtest
	storetest.RunClipService(t, func(t *testing.T) evidock.ClipService { return MustOpen(t) })
}

func TestStationService(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunStationService(t, func(t *testing.T) evidock.StationService { return MustOpen(t) })
}

func TestRecorderService(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunRecorderService(t, func(t *testing.T) evidock.RecorderService { return MustOpen(t) })
}

// TestClipsAreNeverChanged holds PostgreSQL to storetest's clip history,
// with what only PostgreSQL can be asked: TRUNCATE, and statements that
// touch no row, which its statement triggers refuse all the same.
func TestClipsAreNeverChanged(t *testing.T) {
	db := MustOpen(t)
	storetest.RunClipsNeverChanged(t, db, execOn(db), []storetest.Refusal{
		{Stmt: "UPDATE clips SET size = 1 WHERE false", Want: "never edited"},
		{Stmt: "DELETE FROM clips WHERE false", Want: "never deleted"},
		// CASCADE, because tables that refer to clips (fixity_checks) make
		// a plain TRUNCATE fail before the trigger is reached.
		{Stmt: "TRUNCATE clips CASCADE", Want: "never deleted"},
		{Stmt: "TRUNCATE clips", Want: "cannot truncate"},
		{Stmt: "TRUNCATE stations CASCADE", Want: "never deleted"},
		{Stmt: `INSERT INTO clips (blake3, size, object_key, file_name, device_serial, officer_no, started_at,
			corrected_started_at, seq, kind, ingested_at, registered_at)
			SELECT blake3, size, object_key, file_name, device_serial, officer_no, started_at,
			corrected_started_at, seq, kind, ingested_at, registered_at FROM clips
			ON CONFLICT (blake3) DO UPDATE SET size = 1`, Want: "never edited"},
	}...)
}

// TestMigrationKeepsClipsAndTriggers builds a schema as a server before
// migration 002 left it, with clips in it, and opens it with this one: the
// clips are kept, their corrected time is their recorder time, the triggers
// that refuse to change clips are enabled again and still refuse.
func TestMigrationKeepsClipsAndTriggers(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	old, err := postgres.OpenAt(ctx, dsn, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); err != nil {
		t.Fatal(err)
	}
	var before []*evidock.Clip
	for i, station := range []string{"dock-01", ""} {
		c := storetest.NewClip(fmt.Appendf(nil, "old %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9+i, 0, 0, 0, evidock.ChinaTime), i+1)
		var st any
		if station != "" {
			st = station
		}
		// As 001's store wrote it.
		if err := old.Pool().QueryRow(ctx, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
			officer_no, started_at, seq, kind, duration_ms, station_id, ingested_at, registered_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, statement_timestamp()) RETURNING id`,
			c.Digest[:], c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo,
			c.StartedAt, c.Seq, string(c.Kind), c.DurationMS, st, c.IngestedAt).Scan(&c.ID); err != nil {
			t.Fatal(err)
		}
		c.StationID = station
		before = append(before, c)
	}
	if v := appliedVersions(t, old); fmt.Sprint(v) != "[1]" {
		t.Fatalf("old schema at versions %v; want [1]", v)
	}
	old.Close()

	db := mustOpenDSN(t, dsn)
	for i, c := range before {
		got, err := db.FindClipByDigest(ctx, c.Digest)
		if err != nil {
			t.Fatalf("clip %d after migrating: %v", i, err)
		}
		if got.ID != c.ID || !got.StartedAt.Equal(c.StartedAt) || !got.CorrectedStartedAt.Equal(c.StartedAt) ||
			got.ClockOffsetMS != 0 || got.Important || got.StationID != c.StationID || got.FileName != c.FileName {
			t.Fatalf("clip %d after migrating = %+v; want it kept, with corrected time = started time", i, got)
		}
	}
	// Every trigger on clips is enabled ('O': fires in normal sessions).
	rows, err := db.Pool().Query(ctx, `SELECT tgname || ' ' || tgenabled::text FROM pg_trigger
		WHERE tgrelid = 'clips'::regclass AND NOT tgisinternal ORDER BY tgname`)
	if err != nil {
		t.Fatal(err)
	}
	triggers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := "[clips_never_deleted O clips_never_truncated O clips_never_updated O clips_scheduled_for_fixity O]"; fmt.Sprint(triggers) != want {
		t.Fatalf("triggers on clips after migrating = %v; want %s", triggers, want)
	}
	for _, stmt := range []string{
		"UPDATE clips SET corrected_started_at = started_at",
		"UPDATE clips SET important = true WHERE false",
		"DELETE FROM clips",
		"TRUNCATE clips CASCADE",
	} {
		if _, err := db.Pool().Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "Art. 17") {
			t.Errorf("%s: err = %v; want the Art. 17 refusal", stmt, err)
		}
	}
	var nullable bool
	if err := db.Pool().QueryRow(ctx, `SELECT is_nullable = 'YES' FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'clips' AND column_name = 'corrected_started_at'`).Scan(&nullable); err != nil || nullable {
		t.Fatalf("corrected_started_at nullable = %v, %v; want NOT NULL", nullable, err)
	}

	// New clips go in with their offsets, and list by corrected time
	// among the old ones.
	c := storetest.NewClip([]byte("new"), "A123456", "100001", time.Date(2024, 5, 1, 11, 0, 0, 0, evidock.ChinaTime), 3)
	c.ClockOffsetMS, c.CorrectedStartedAt = 2*3_600_000+30*60_000, time.Time{} // true 08:30
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	clips, _, err := db.FindClips(ctx, evidock.ClipFilter{})
	if err != nil || len(clips) != 3 || clips[0].Seq != 3 || clips[1].Seq != 1 || clips[2].Seq != 2 {
		t.Fatalf("FindClips after migrating = %v, %v; want the new clip (true 08:30) first", clips, err)
	}
}

// TestDockHistory holds PostgreSQL to storetest's dock history, docked_at
// written out as SQLite stores it.
func TestDockHistory(t *testing.T) {
	db := MustOpen(t)
	storetest.RunDockHistoryKept(t, db, execOn(db), queryOn(db),
		`SELECT battery_percent || ' ' || to_char(docked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"000Z"') || ' ' || station_id
		FROM recorder_docks WHERE reported_at IS NOT NULL ORDER BY id`,
		storetest.Refusal{Stmt: "DELETE FROM recorder_docks WHERE false", Want: "never deleted"},
		storetest.Refusal{Stmt: "TRUNCATE recorder_docks", Want: "never deleted"},
		storetest.Refusal{Stmt: "DELETE FROM recorders", Want: "foreign key"})
}

// TestStoredForm pins what lands in the tables: raw digests, token hashes
// and not tokens, instants in timestamptz.
func TestStoredForm(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.NewClip([]byte("stored"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}

	var hash []byte
	if err := db.Pool().QueryRow(ctx, "SELECT token_sha256 FROM stations").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256([]byte(token)); string(hash) != string(want[:]) {
		t.Fatalf("stored token_sha256 = %x; want the SHA-256 of the token", hash)
	}
	var (
		digest  []byte
		started bool
	)
	if err := db.Pool().QueryRow(ctx, "SELECT blake3, started_at = '2024-05-01 01:00:00+00' FROM clips").Scan(&digest, &started); err != nil {
		t.Fatal(err)
	}
	if string(digest) != string(c.Digest[:]) || !started {
		t.Fatalf("stored blake3 %x, started_at at 01:00 UTC %v; want %x and true", digest, started, c.Digest[:])
	}
}

// tableExists reports whether the store's schema holds table.
func tableExists(t *testing.T, db *postgres.DB, table string) bool {
	t.Helper()
	var name *string
	if err := db.Pool().QueryRow(context.Background(), "SELECT to_regclass($1)::text", table).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name != nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(t *testing.T, db *postgres.DB) []int {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return versions
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.NewClip([]byte("kept"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
	if _, err := db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	first := appliedVersions(t, db)
	db.Close()

	// Reopening applies nothing twice and keeps the data.
	db = mustOpenDSN(t, dsn)
	versions := appliedVersions(t, db)
	if len(versions) == 0 || versions[0] != 1 || fmt.Sprint(versions) != fmt.Sprint(first) {
		t.Fatalf("applied versions after reopening = %v; want %v, starting at 1", versions, first)
	}
	if _, err := db.FindClipByDigest(ctx, c.Digest); err != nil {
		t.Fatalf("clip after reopening: %v", err)
	}

	// A database from a newer server is not touched by an older one.
	if _, err := db.Pool().Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	if db, err := postgres.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer evidock-server") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("open of a newer database: %v; want an error asking for a newer evidock-server", err)
	}
}

// TestMigrationsRace starts several servers on one empty schema at once, as
// a deploy behind a load balancer does: all must start, and each migration
// must be applied once.
func TestMigrationsRace(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	const n = 4
	var (
		wg   sync.WaitGroup
		dbs  = make([]*postgres.DB, n)
		errs = make([]error, n)
	)
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(ctx, dsn) })
	}
	wg.Wait()
	for i, db := range dbs {
		if db != nil {
			t.Cleanup(func() { db.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("server %d of %d failed to start: %v", i+1, n, errs[i])
		}
	}
	versions := appliedVersions(t, dbs[0])
	seen := map[int]bool{}
	for _, v := range versions {
		if seen[v] {
			t.Fatalf("migration %d recorded twice: %v", v, versions)
		}
		seen[v] = true
	}
	for i, db := range dbs {
		c := storetest.NewClip(fmt.Appendf(nil, "server %d", i), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), i+1)
		if _, err := db.RegisterClip(ctx, c); err != nil {
			t.Fatalf("server %d: %v", i+1, err)
		}
	}
}

// TestMigrationsWaitForTheLock shows that Open migrates only while holding
// the advisory lock: while another session holds it, Open waits and creates
// nothing.
func TestMigrationsWaitForTheLock(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	holder, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", postgres.MigrationLockKey); err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", postgres.MigrationLockKey)
		}
	}()

	wctx, cancel := context.WithTimeout(ctx, time.Second)
	db, err := postgres.Open(wctx, dsn)
	cancel()
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded while another session held the migration lock")
	}
	var exists *string
	if err := holder.QueryRow(ctx, "SELECT to_regclass('schema_migrations')::text").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists != nil {
		t.Fatal("Open created schema_migrations without the migration lock")
	}

	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", postgres.MigrationLockKey); err != nil {
		t.Fatal(err)
	}
	locked = false
	db = mustOpenDSN(t, dsn)
	if !tableExists(t, db, "clips") {
		t.Fatal("Open after the lock was released did not create clips")
	}
	// Open released the lock: another session can take it. (The lock is
	// per database, not per schema, so a test in another package opening
	// its own schema may hold it for a moment: retry briefly.)
	var got bool
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := holder.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", postgres.MigrationLockKey).Scan(&got)
		if err == nil && got {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("migration lock after Open: taken = %v, %v; want it free", got, err)
		}
	}
	holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", postgres.MigrationLockKey)
}

// TestTwoInstances runs two stores on one database, as two servers behind a
// load balancer: what one writes, the other serves, and a clip uploaded
// through both at once is registered once.
func TestTwoInstances(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	a, b := mustOpenDSN(t, dsn), mustOpenDSN(t, dsn)

	token, err := a.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := b.AuthenticateStation(ctx, token); err != nil || st.ID != "dock-01" {
		t.Fatalf("station created on a, authenticated on b = %+v, %v", st, err)
	}
	if _, err := b.CreateStation(ctx, &evidock.Station{ID: "dock-01"}); evidock.ErrorCode(err) != evidock.ECONFLICT {
		t.Fatalf("station created again on b = %v; want ECONFLICT", err)
	}

	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		ids     = map[int64]bool{}
	)
	for i := range n {
		store := []*postgres.DB{a, b}[i%2]
		wg.Go(func() {
			c := storetest.NewClip([]byte("raced"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
			c.StationID = "dock-01"
			ok, err := store.RegisterClip(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("RegisterClip: %v", err)
				return
			}
			if ok {
				created++
			}
			ids[c.ID] = true
		})
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d registrations reported created and %d IDs were returned; want 1 and 1", created, len(ids))
	}
	for _, store := range []*postgres.DB{a, b} {
		if clips, total, err := store.FindClips(ctx, evidock.ClipFilter{}); err != nil || total != 1 || len(clips) != 1 {
			t.Fatalf("FindClips = %d clips (total %d), %v; want the one clip", len(clips), total, err)
		}
	}
}

// TestTwoInstancesInsertTheSameClipsInOtherOrders registers the same clips
// through two servers at once, in opposite orders and one transaction
// each: the servers insert before they take the log's lock, so without a
// common order of insertion each would wait for a row the other inserted,
// and PostgreSQL would abort one transaction as a deadlock.
func TestTwoInstancesInsertTheSameClipsInOtherOrders(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	a, b := mustOpenDSN(t, dsn), mustOpenDSN(t, dsn)
	const rounds, perBatch = 10, 32
	for round := range rounds {
		forward, backward := make([]*evidock.Clip, perBatch), make([]*evidock.Clip, perBatch)
		for i := range perBatch {
			c := storetest.NewClip(fmt.Appendf(nil, "round %d clip %d", round, i), "A123456", "100001", time.Date(2024, 5, 1, 9, i, 0, 0, evidock.ChinaTime), i+1)
			c2 := *c
			forward[i], backward[perBatch-1-i] = c, &c2
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { errs[0] = a.RegisterBatch(ctx, forward) })
		wg.Go(func() { errs[1] = b.RegisterBatch(ctx, backward) })
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: server %c: %v", round, 'a'+i, err)
			}
		}
	}
	if n, err := a.LogSize(ctx); err != nil || n != rounds*perBatch {
		t.Fatalf("LogSize = %d, %v; want %d, each clip once", n, err, rounds*perBatch)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, dsn string
		code      string
	}{
		{"empty", "", evidock.EINVALID},
		{"malformed", "postgres://evidock:hunter2@[::1/evidock", evidock.EINVALID},
		{"unknown setting", "postgres://evidock:hunter2@127.0.0.1/evidock?sslmode=sometimes", evidock.EINVALID},
		{"nobody listening", "postgres://evidock:hunter2@127.0.0.1:1/evidock?connect_timeout=5", evidock.EUNAVAILABLE},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.Open(ctx, tt.dsn)
			if err == nil {
				db.Close()
			}
			if evidock.ErrorCode(err) != tt.code {
				t.Fatalf("Open = %v; want %s", err, tt.code)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), "hunter2") {
					t.Fatalf("Open error %q shows the password", err)
				}
			}
			if !strings.Contains(err.Error(), "postgres") {
				t.Fatalf("Open error %q does not say it is about PostgreSQL", err)
			}
		})
	}
}

func TestTarget(t *testing.T) {
	db := MustOpen(t)
	if got := db.Target(); !strings.Contains(got, "@") || !strings.Contains(got, "/") || strings.Contains(got, "?") {
		t.Fatalf("Target = %q; want user@host:port/database", got)
	}
}

// TestUnavailable shows that a database that goes away while the server
// runs gives EUNAVAILABLE, which clients retry, and not an internal error.
// The database is reached through a loopback proxy, which the test cuts: the
// one fault the real server cannot be made to show without stopping it for
// every other test.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewSchema(t)
	p := startProxy(t, dsn)
	db := mustOpenDSN(t, p.dsn)
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	p.cut()

	c := storetest.NewClip([]byte("late"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
	for name, call := range map[string]func() error{
		"Ping":                func() error { return db.Ping(ctx) },
		"RegisterClip":        func() error { _, err := db.RegisterClip(ctx, c); return err },
		"FindClipByDigest":    func() error { _, err := db.FindClipByDigest(ctx, c.Digest); return err },
		"FindClips":           func() error { _, _, err := db.FindClips(ctx, evidock.ClipFilter{}); return err },
		"CreateStation":       func() error { _, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-02"}); return err },
		"AuthenticateStation": func() error { _, err := db.AuthenticateStation(ctx, token); return err },
		"ReportDock": func() error {
			return db.ReportDock(ctx, storetest.NewRecorder("A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime)))
		},
		"FindRecorder":  func() error { _, err := db.FindRecorder(ctx, "A123456"); return err },
		"FindRecorders": func() error { _, err := db.FindRecorders(ctx, ""); return err },
	} {
		if err := call(); evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
			t.Errorf("%s with the database gone = %v; want EUNAVAILABLE", name, err)
		}
	}
}

// proxy forwards loopback connections to the test PostgreSQL until cut.
type proxy struct {
	dsn string // the test DSN, pointed at the proxy
	ln  net.Listener

	mu    sync.Mutex
	conns []net.Conn
}

// startProxy starts a proxy to the server dsn names; it is cut when t ends.
func startProxy(t *testing.T, dsn string) *proxy {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	upstream := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = net.JoinHostPort("127.0.0.1", port)
		p.dsn = u.String()
	} else {
		p.dsn = dsn + " host=127.0.0.1 port=" + port
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// cut closes the listener and every connection through it.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestHashStore(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunHashStore(t, func(t *testing.T) storetest.LogStore { return MustOpen(t) })
}
