package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"evidock"
	"evidock/server"
	evhttp "evidock/server/http"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/translog"
)

// serverStore is what the case server needs of a database, as
// cmd/evidock-server wires it.
type serverStore interface {
	evidock.ClipService
	evidock.StationService
	evidock.RecorderService
	evidock.UnitService
	evidock.OfficerService
	evidock.CaseService
	evidock.LinkService
	translog.HashStore
	Ping(context.Context) error
	Close() error
}

// benchDB is a fresh, migrated database of one kind: the product's store on
// it, and a raw connection for the peer and for bulk loading.
type benchDB struct {
	store serverStore
	exec  func(ctx context.Context, query string, args ...any) error
	sqlDB *sql.DB       // SQLite
	pool  *pgxpool.Pool // PostgreSQL
	drop  func()
}

func (d *benchDB) close() {
	if d.store != nil {
		d.store.Close()
	}
	if d.sqlDB != nil {
		d.sqlDB.Close()
	}
	if d.pool != nil {
		d.pool.Close()
	}
	if d.drop != nil {
		d.drop()
	}
}

// dbKind opens fresh databases of one kind.
type dbKind struct {
	Name string
	open func(ctx context.Context) (*benchDB, error)
	// placeholder returns the i-th (from 1) parameter marker.
	placeholder func(i int) string
}

var dbSeq atomic.Int64

// sqliteKind makes database files under dir, with the pragmas the product
// uses (WAL, synchronous FULL, foreign keys) on the raw connection too.
func sqliteKind(dir string) dbKind {
	return dbKind{Name: "SQLite", placeholder: func(int) string { return "?" }, open: func(ctx context.Context) (*benchDB, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, fmt.Sprintf("db-%d.sqlite", dbSeq.Add(1)))
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		raw, err := sql.Open("sqlite", path+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)")
		if err != nil {
			st.Close()
			return nil, err
		}
		raw.SetMaxIdleConns(32) // as the store keeps them: reopening costs more than an INSERT
		d := &benchDB{store: st, sqlDB: raw, drop: func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}}
		d.exec = func(ctx context.Context, q string, args ...any) error {
			_, err := raw.ExecContext(ctx, q, args...)
			return err
		}
		return d, nil
	}}
}

// postgresKind makes a schema of its own for every database in the
// PostgreSQL that the tests use, dropped by close.
func postgresKind() dbKind {
	return dbKind{Name: "PostgreSQL", placeholder: func(i int) string { return "$" + strconv.Itoa(i) }, open: func(ctx context.Context) (*benchDB, error) {
		base := os.Getenv(pgtest.EnvDSN)
		if base == "" {
			base = pgtest.DefaultDSN
		}
		b := make([]byte, 6)
		rand.Read(b)
		schema := "evidock_bench_" + hex.EncodeToString(b)
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			return nil, err
		}
		d := &benchDB{drop: func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if c, err := pgx.Connect(ctx, base); err == nil {
				c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
				c.Close(ctx)
			}
		}}
		dsn, err := pgtest.WithSearchPath(base, schema)
		if err == nil {
			d.store, err = postgres.Open(ctx, dsn)
		}
		if err == nil {
			d.pool, err = openRawPool(ctx, dsn)
		}
		if err != nil {
			d.close()
			return nil, err
		}
		d.exec = func(ctx context.Context, q string, args ...any) error {
			_, err := d.pool.Exec(ctx, q, args...)
			return err
		}
		return d, nil
	}}
}

// openRawPool opens the peer's pool with as many connections as the
// store's (16): pgxpool's own default, 4 on 2 cores, would queue 8
// clients on 4 connections and flatter evidock.
func openRawPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 16
	return pgxpool.NewWithConfig(ctx, cfg)
}

// Clips the section makes up. Every clip is a recorder's video of 9 bytes
// (its set and index), so that its object can be put in versitygw cheaply; the
// registry checks the size, not the length of a real video.
var clipBase = time.Date(2024, 1, 1, 8, 0, 0, 0, evidock.ChinaTime)

// benchOfficers is how many officers (and recorders, one each) the clips
// are spread over.
const benchOfficers = 2000

// benchClip returns clip i of the set salt, recorded by officer i mod
// benchOfficers; n clips of a set cover one year.
func benchClip(salt byte, i, n int) *evidock.Clip {
	var body [9]byte
	body[0] = salt
	binary.BigEndian.PutUint64(body[1:], uint64(i))
	h := evidock.NewHasher() // not DigestOf, whose 1 MiB buffer would dominate
	h.Write(body[:])
	d, size := h.Digest(), int64(len(body))
	k := i % benchOfficers
	serial, officer := fmt.Sprintf("R%06d", k), fmt.Sprintf("%06d", 100000+k)
	started := clipBase.Add(365 * 24 * time.Hour / time.Duration(n) * time.Duration(i)).Truncate(time.Second) // i × (year/n): i × year overflows
	seq := (i / benchOfficers) % 10000
	name := evidock.RecordingName{DeviceSerial: serial, OfficerNo: officer, StartedAt: started, Seq: seq, Ext: "MP4", Kind: evidock.MediaVideo}
	return &evidock.Clip{Digest: d, Size: size, ObjectKey: evidock.ObjectKey(d), FileName: name.String(),
		DeviceSerial: serial, OfficerNo: officer, StartedAt: started, CorrectedStartedAt: started,
		Seq: seq, Kind: evidock.MediaVideo, DurationMS: 61_500, IngestedAt: started.Add(9 * time.Hour)}
}

func benchBody(salt byte, i int) []byte {
	var body [9]byte
	body[0] = salt
	binary.BigEndian.PutUint64(body[1:], uint64(i))
	return body[:]
}

// clipInsert is the peer's statement: the columns RegisterClip writes.
const clipInsertColumns = `blake3, size, object_key, file_name, device_serial, officer_no, started_at,
	clock_offset_ms, corrected_started_at, important, seq, kind, duration_ms, station_id, ingested_at, registered_at`

const clipColumnCount = 16

// sqliteTime is the form the SQLite store keeps times in.
func sqliteTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000000Z")
}

// clipArgs returns c's column values as kind stores them.
func clipArgs(kind string, c *evidock.Clip, station string, now time.Time) []any {
	if kind == "SQLite" {
		return []any{c.Digest.String(), c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo,
			sqliteTime(c.StartedAt), c.ClockOffsetMS, sqliteTime(c.CorrectedStartedAt), c.Important, c.Seq,
			string(c.Kind), c.DurationMS, station, sqliteTime(c.IngestedAt), sqliteTime(now)}
	}
	return []any{c.Digest[:], c.Size, c.ObjectKey, c.FileName, c.DeviceSerial, c.OfficerNo,
		c.StartedAt, c.ClockOffsetMS, c.CorrectedStartedAt, c.Important, c.Seq,
		string(c.Kind), c.DurationMS, station, c.IngestedAt, now.Truncate(time.Microsecond)}
}

// insertSQL returns a multi-row INSERT of rows clips.
func insertSQL(k dbKind, rows int) string {
	var w strings.Builder
	w.WriteString("INSERT INTO clips (" + clipInsertColumns + ") VALUES ")
	p := 1
	for r := range rows {
		if r > 0 {
			w.WriteString(", ")
		}
		w.WriteString("(")
		for c := range clipColumnCount {
			if c > 0 {
				w.WriteString(", ")
			}
			w.WriteString(k.placeholder(p))
			p++
		}
		w.WriteString(")")
	}
	return w.String()
}

// memObjects stands in for the object store only when versitygw is
// missing; the report says so.
type memObjects struct{ sizes map[string]int64 }

func memObjectsFor(clips []*evidock.Clip) *memObjects {
	m := &memObjects{sizes: make(map[string]int64, len(clips))}
	for _, c := range clips {
		m.sizes[c.ObjectKey] = c.Size
	}
	return m
}

func (m *memObjects) StatObject(_ context.Context, key string) (evidock.ObjectInfo, error) {
	size, ok := m.sizes[key]
	if !ok {
		return evidock.ObjectInfo{}, evidock.Errorf(evidock.ENOTFOUND, "object %s not found", key)
	}
	return evidock.ObjectInfo{Key: key, Size: size}, nil
}

func (m *memObjects) OpenObject(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("memObjects: no content")
}

// serverCfg is the section's sizes.
type serverCfg struct {
	regClips, workers       int
	searchClips, cases      int
	requests                int
	searchWindow            time.Duration
	caseActivities, perActs int
}

func (b *Bench) serverCfg() serverCfg {
	c := serverCfg{regClips: 5000, workers: 8, searchClips: 1_000_000, cases: 500, requests: 300,
		searchWindow: 30 * 24 * time.Hour, caseActivities: 3, perActs: 2}
	if b.cfg.Quick {
		c.regClips, c.searchClips, c.cases, c.requests = 500, 20_000, 50, 100
	}
	return c
}

// registrationSection measures registrations per second through the
// case server's API, on SQLite and on PostgreSQL.
func (b *Bench) registrationSection(ctx context.Context) error {
	sc := b.serverCfg()
	objects, objNote, err := b.registrationObjects(ctx, sc)
	if err != nil {
		return fmt.Errorf("put the clips' objects: %w", err)
	}
	b.notef("Registrations (server section): %d clips of %d bytes registered by %d concurrent clients, each POSTing one clip at a time to /api/v1/clips with a station token over loopback, to an in-process server/http.Server wired as evidock-server serve wires it (server.Registry with VerifyDigest off, so it HEADs each object; the transparency log appended inside RegisterClip's transaction; receipts returned). %s The peer INSERTs the same rows (`INSERT INTO clips (...) VALUES (...)`, one autocommitted statement per row) with the same concurrency into a fresh, migrated database of the same kind. Each run uses a fresh database; %d runs of each, alternating, every other round in reverse order, best shown. The \"object check from memory\" row is the API run with the object store answered from a map, to show what the HEAD costs; the \"store only\" row calls the store's RegisterClip directly (no HTTP, no object check, no receipt) against the same peer; the \"object check alone\" row is only the HEADs, from as many goroutines through the server's own store client, with no database, so that the object check's own cost and rate can be read beside the registrations' (on a machine where versitygw, the database and the server share the cores, both of the HEAD's ends take CPU the registrations need); the \"bare HTTP handler\" rows are the floor of any HTTP API in front of the same database: as many clients POST each clip's JSON (encoding/json, keep-alive) to a net/http handler that decodes it and runs the peer's INSERT, with no authentication, object check, log or receipt, compared with the raw INSERTs and with evidock's API. The peer's PostgreSQL pool has 16 connections, as the store's has. These rows count clips per second, not MB/s; the ratio is evidock's clips per second over the peer's.",
		sc.regClips, 9, sc.workers, objNote, b.cfg.Reps)
	var failed []error
	for _, k := range b.serverKinds() {
		if err := b.registrations(ctx, sc, k, objects); err != nil {
			failed = append(failed, fmt.Errorf("%s registrations: %w", k.Name, err))
			b.rows = append(b.rows, row{Figure: "registrations, " + k.Name, Evidock: "error", Peer: "—", Ratio: "—", Goal: "≥ 0.5×", Met: "error: " + err.Error()})
		}
	}
	return errors.Join(failed...)
}

// latencySection measures the case server's read latency at scale, on
// SQLite and on PostgreSQL.
func (b *Bench) latencySection(ctx context.Context) error {
	sc := b.serverCfg()
	b.notef("Read latency (server section): %d clips bulk-loaded into the migrated schema (PostgreSQL: COPY; SQLite: 200-row INSERTs in one transaction; the clips triggers stay on), over %d officers and a year, plus %d cases of %d activities with %d confirmed links each, made through the store's own methods; PostgreSQL is ANALYZEd after the load, as autovacuum would. Then %d requests of each kind, one at a time, through the HTTP API with a station token: `GET /api/v1/clips?officer=O&from=F&to=F+30d&limit=50` for a random officer and window, and `GET /api/v1/cases/{number}` for a random case; p50/p95/p99 of the wall time per request, body read. The bulk-loaded clips have no transparency log entries (neither request reads them); the search names an officer, as supervisors' searches do.",
		sc.searchClips, benchOfficers, sc.cases, sc.caseActivities, sc.perActs, sc.requests)
	var failed []error
	for _, k := range b.serverKinds() {
		if err := b.readLatency(ctx, sc, k); err != nil {
			failed = append(failed, fmt.Errorf("%s latency: %w", k.Name, err))
			b.rows = append(b.rows, row{Figure: "read latency, " + k.Name, Evidock: "error", Peer: "—", Ratio: "—", Goal: "—", Met: "error: " + err.Error()})
		}
	}
	return errors.Join(failed...)
}

// serverKinds are the databases the server sections measure.
func (b *Bench) serverKinds() []dbKind {
	return []dbKind{sqliteKind(filepath.Join(b.work, "server")), postgresKind()}
}

// registrationObjects puts the registration clips' objects into versitygw,
// or, if it is missing, into a map, and says which.
func (b *Bench) registrationObjects(ctx context.Context, sc serverCfg) (evidock.ObjectReader, string, error) {
	if p := b.peers["versitygw"]; p.Missing != "" {
		clips := make([]*evidock.Clip, sc.regClips)
		for i := range clips {
			clips[i] = benchClip(1, i, sc.regClips)
		}
		return memObjectsFor(clips), "versitygw is missing, so the object check answered from memory (the figure flatters evidock).", nil
	}
	gw, err := b.gateway()
	if err != nil {
		return nil, "", err
	}
	store, err := gw.createBucket(ctx, "server-registrations")
	if err != nil {
		return nil, "", err
	}
	b.logf("  putting %d objects into versitygw", sc.regClips)
	err = parallel(ctx, sc.regClips, sc.workers, func(i int) error {
		c := benchClip(1, i, sc.regClips)
		return store.PutObject(ctx, c.ObjectKey, bytes.NewReader(benchBody(1, i)), c.Size, nil)
	})
	return store, "The objects were put into a real versitygw beforehand (untimed), so each registration's object check is a real HEAD over loopback.", err
}

// parallel calls f(0..n-1) from workers goroutines and returns the first
// error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					errs[w] = err
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// startServer serves db through the API on a loopback port, wired as
// evidock-server serve wires it, and returns it with a station token.
func startServer(ctx context.Context, db serverStore, objects evidock.ObjectReader) (*evhttp.Server, string, error) {
	skey, _, err := translog.GenerateKey("evidock.bench/registry")
	if err != nil {
		return nil, "", err
	}
	rlog, err := translog.New(db, skey)
	if err != nil {
		return nil, "", err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := &server.Registry{Clips: db, Objects: objects, VerifyDigest: false}
	srv := evhttp.NewServer(reg, db, db, db.Ping, logger)
	srv.SetLog(rlog)
	srv.SetCases(evhttp.CaseServices{Units: db, Officers: db, Cases: db, Links: db})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return nil, "", err
	}
	go srv.Serve()
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "bench-dock-01", Name: "bench"})
	if err != nil {
		srv.Shutdown(ctx)
		return nil, "", err
	}
	return srv, token, nil
}

// rateSide is a side whose Bytes count rows, so MBps × 10⁶ is rows/s.
func rateSide(name, how string, n int) *side {
	return &side{Name: name, How: how, Bytes: int64(n), Items: fmt.Sprintf("%d clips", n)}
}

func (b *Bench) registrations(ctx context.Context, sc serverCfg, k dbKind, objects evidock.ObjectReader) error {
	clips := make([]*evidock.Clip, sc.regClips)
	for i := range clips {
		clips[i] = benchClip(1, i, sc.regClips)
	}
	api := rateSide("evidock API", fmt.Sprintf("%d clients POST /api/v1/clips", sc.workers), sc.regClips)
	memAPI := rateSide("evidock API, objects in memory", fmt.Sprintf("%d clients POST /api/v1/clips; the object check answered from memory", sc.workers), sc.regClips)
	direct := rateSide("evidock store", fmt.Sprintf("%d goroutines call RegisterClip", sc.workers), sc.regClips)
	raw := rateSide("raw INSERT", fmt.Sprintf("%d goroutines INSERT INTO clips (...) VALUES (...)", sc.workers), sc.regClips)
	heads := rateSide("object check alone", fmt.Sprintf("%d goroutines HEAD each clip's object", sc.workers), sc.regClips)
	bare := rateSide("bare HTTP + INSERT", fmt.Sprintf("%d clients POST each clip's JSON to a bare net/http handler that INSERTs it", sc.workers), sc.regClips)
	q := insertSQL(k, 1)
	cpuOf := map[*side][]cpuUse{} // per run, as Samples
	for rep := 1; rep <= b.cfg.Reps; rep++ {
		order := []*side{api, raw, memAPI, direct, heads, bare}
		if rep%2 == 0 { // as alternateN does
			slices.Reverse(order)
		}
		for _, s := range order {
			if s.Err != nil {
				continue
			}
			d, cpu, err := b.registerOnce(ctx, sc, k, s, clips, objects, q)
			if err != nil {
				s.Err = err
				b.logf("  registrations %s / %s run %d: FAILED: %v", k.Name, s.Name, rep, err)
				continue
			}
			s.Samples = append(s.Samples, d)
			cpuOf[s] = append(cpuOf[s], cpu)
			b.logf("  registrations %s / %s run %d: %v, %.0f/s; CPU per clip: %s", k.Name, s.Name, rep, d.Round(time.Millisecond), float64(sc.regClips)/d.Seconds(), cpu)
		}
	}
	bestCPU := func(s *side) cpuUse { return cpuOf[s][slices.Index(s.Samples, s.Best())] }
	var used []string
	for _, s := range []*side{api, memAPI, direct, heads, bare, raw} {
		if len(s.Samples) > 0 {
			used = append(used, fmt.Sprintf("%s: %s", s.Name, bestCPU(s)))
		}
	}
	b.notef("Registrations, %s: CPU time per clip in each side's best run, by process (the clients run in the benchmark's process, beside the in-process server): %s.", k.Name, strings.Join(used, "; "))
	if b.gw != nil && len(heads.Samples) > 0 && len(bare.Samples) > 0 && len(raw.Samples) > 0 && len(api.Samples) > 0 {
		// What the goal asks of this machine: the CPU of the two parts
		// every registration here needs, spread over every core.
		floor := bestCPU(heads).total() + bestCPU(bare).total()
		ceiling := float64(runtime.NumCPU()) * 1e6 / floor
		rawRate := float64(sc.regClips) / raw.Best().Seconds()
		b.notef("Registrations, %s: the object check alone and the bare HTTP handler together took %.0f µs of CPU per clip in their best runs, so no HTTP API that checks each object in the store could register more than %.0f clips/s on this machine's %d cores, even with every core busy and no authentication, log or receipt: %.2f× the raw INSERTs' %.0f/s. evidock's API took %.0f µs per clip.",
			k.Name, floor, ceiling, runtime.NumCPU(), ceiling/rawRate, rawRate, bestCPU(api).total())
	}
	b.addRateRow(fmt.Sprintf("registrations/s, %s, %d clients", k.Name, sc.workers), api, raw, 0.5)
	b.addRateRow(fmt.Sprintf("registrations/s, %s, %d clients, object check from memory", k.Name, sc.workers), memAPI, raw, 0)
	b.addRateRow(fmt.Sprintf("registrations/s, %s, store only", k.Name), direct, raw, 0)
	b.addRateRow(fmt.Sprintf("object checks/s (HEAD alone, no database), beside %s", k.Name), heads, raw, 0)
	b.addRateRow(fmt.Sprintf("rows/s through a bare HTTP handler, %s, %d clients", k.Name, sc.workers), bare, raw, 0)
	b.addRateRow(fmt.Sprintf("registrations/s, %s, %d clients, vs the bare HTTP handler", k.Name, sc.workers), api, bare, 0)
	return errors.Join(api.Err, raw.Err, memAPI.Err, direct.Err, heads.Err, bare.Err)
}

// cpuUse is the CPU time per clip that each process busy in a registration
// run used, in the order sampleCPU lists them.
type cpuUse []procCPU

type procCPU struct {
	name string
	us   float64 // per clip
}

// total returns the CPU time per clip of all the processes together.
func (u cpuUse) total() float64 {
	var t float64
	for _, p := range u {
		t += p.us
	}
	return t
}

func (u cpuUse) String() string {
	parts := make([]string, len(u))
	for i, p := range u {
		parts[i] = fmt.Sprintf("%s %.0f µs", p.name, p.us)
	}
	return strings.Join(parts, ", ")
}

// sampleCPU starts counting the CPU time of the processes a registration
// run keeps busy: this one (clients and server), versitygw and, for
// PostgreSQL, its backends. The function it returns says how much each used
// per clip since, for n clips.
func (b *Bench) sampleCPU(k dbKind) func(n int) cpuUse {
	type proc struct {
		name  string
		ticks func() int64
	}
	procs := []proc{{"evidock (clients and server)", func() int64 { return pidTicks(os.Getpid()) }}}
	if b.gw != nil {
		procs = append(procs, proc{"versitygw", func() int64 { return pidTicks(b.gw.PID()) }})
	}
	if k.Name == "PostgreSQL" {
		// Backends that exit during the run are not counted: the pool keeps
		// its connections until the run's database is closed.
		procs = append(procs, proc{"postgres", func() int64 { return commandTicks("postgres") }})
	}
	start := make([]int64, len(procs))
	for i, p := range procs {
		start[i] = p.ticks()
	}
	return func(n int) cpuUse {
		u := make(cpuUse, len(procs))
		for i, p := range procs {
			u[i] = procCPU{p.name, float64(p.ticks()-start[i]) / clockTicks * 1e6 / float64(n)}
		}
		return u
	}
}

// registerOnce opens a fresh database and times one side's run. It returns
// the run's time and the CPU time per clip of each process busy in it
// (see sampleCPU), read before the database is closed: PostgreSQL backends
// take their counts with them when they exit.
func (b *Bench) registerOnce(ctx context.Context, sc serverCfg, k dbKind, s *side, clips []*evidock.Clip, objects evidock.ObjectReader, q string) (time.Duration, cpuUse, error) {
	db, err := k.open(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer db.close()
	run := func(f func() error) (time.Duration, cpuUse, error) {
		used := b.sampleCPU(k)
		d, err := timed(f)
		return d, used(len(clips)), err
	}
	switch s.Name {
	case "evidock API", "evidock API, objects in memory":
		if s.Name != "evidock API" {
			objects = memObjectsFor(clips)
		}
		srv, token, err := startServer(ctx, db.store, objects)
		if err != nil {
			return 0, nil, err
		}
		defer srv.Shutdown(context.Background())
		client := evhttp.NewClient(srv.URL(), token)
		client.HTTPClient.Transport.(*http.Transport).MaxIdleConnsPerHost = sc.workers
		return run(func() error {
			return parallel(ctx, len(clips), sc.workers, func(i int) error {
				c := *clips[i]
				created, err := client.RegisterClip(ctx, &c)
				if err == nil && !created {
					err = fmt.Errorf("clip %d was registered before", i)
				}
				return err
			})
		})
	case "object check alone":
		return run(func() error {
			return parallel(ctx, len(clips), sc.workers, func(i int) error {
				_, err := objects.StatObject(ctx, clips[i].ObjectKey)
				return err
			})
		})
	case "bare HTTP + INSERT":
		if _, err := db.store.CreateStation(ctx, &evidock.Station{ID: "bench-dock-01", Name: "bench"}); err != nil {
			return 0, nil, err
		}
		url, stop, err := startBareHTTP(k, db, q)
		if err != nil {
			return 0, nil, err
		}
		defer stop()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: sc.workers}}
		defer client.CloseIdleConnections()
		return run(func() error {
			return parallel(ctx, len(clips), sc.workers, func(i int) error {
				return postBare(ctx, client, url, clips[i])
			})
		})
	case "evidock store":
		if _, err := db.store.CreateStation(ctx, &evidock.Station{ID: "bench-dock-01", Name: "bench"}); err != nil {
			return 0, nil, err
		}
		return run(func() error {
			return parallel(ctx, len(clips), sc.workers, func(i int) error {
				c := *clips[i]
				c.StationID = "bench-dock-01"
				_, err := db.store.RegisterClip(ctx, &c)
				return err
			})
		})
	default:
		if _, err := db.store.CreateStation(ctx, &evidock.Station{ID: "bench-dock-01", Name: "bench"}); err != nil {
			return 0, nil, err
		}
		return run(func() error {
			return parallel(ctx, len(clips), sc.workers, func(i int) error {
				return db.exec(ctx, q, clipArgs(k.Name, clips[i], "bench-dock-01", time.Now())...)
			})
		})
	}
}

// addRateRow is addRow for sides that count rows: the figures are rows per
// second.
func (b *Bench) addRateRow(figure string, ev, peer *side, goal float64) {
	b.addRow(figure, ev, peer, goal)
	r := &b.rows[len(b.rows)-1]
	r.Evidock, r.Peer = rateFigure(ev), peer.Name+": "+rateFigure(peer)
}

func rateFigure(s *side) string {
	if !s.ok() {
		return sideFigure(s)
	}
	return fmt.Sprintf("%.0f/s", s.MBps()*1e6)
}

// readLatency loads sc.searchClips clips and some cases into a fresh
// database of kind k and measures the clip search and the case page.
func (b *Bench) readLatency(ctx context.Context, sc serverCfg, k dbKind) error {
	db, err := k.open(ctx)
	if err != nil {
		return err
	}
	defer db.close()
	if _, err := db.store.CreateStation(ctx, &evidock.Station{ID: "bench-dock-02", Name: "bench"}); err != nil {
		return err
	}
	b.logf("  %s: loading %d clips", k.Name, sc.searchClips)
	d, err := timed(func() error { return bulkLoad(ctx, k, db, sc.searchClips) })
	if err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	b.logf("  %s: loaded in %v", k.Name, d.Round(time.Millisecond))
	numbers, err := makeCases(ctx, db.store, sc)
	if err != nil {
		return fmt.Errorf("make cases: %w", err)
	}
	if db.pool != nil {
		if _, err := db.pool.Exec(ctx, "ANALYZE"); err != nil {
			return err
		}
	}
	srv, token, err := startServer(ctx, db.store, &memObjects{})
	if err != nil {
		return err
	}
	defer srv.Shutdown(context.Background())
	client := &http.Client{Timeout: time.Minute}
	get := func(path string) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
		}
		return d, err
	}
	rng := newRand(uint64(len(numbers)))
	span := 365*24*time.Hour - sc.searchWindow
	search := func() string {
		from := clipBase.Add(time.Duration(rng.next() % uint64(span))).Truncate(time.Second)
		q := url.Values{"officer": {fmt.Sprintf("%06d", 100000+rng.next()%benchOfficers)},
			"from": {from.Format(time.RFC3339)}, "to": {from.Add(sc.searchWindow).Format(time.RFC3339)}, "limit": {"50"}}
		return "/api/v1/clips?" + q.Encode()
	}
	casePage := func() string { return "/api/v1/cases/" + url.PathEscape(numbers[rng.next()%uint64(len(numbers))]) }
	goal := "info"
	if k.Name == "PostgreSQL" {
		goal = "p95 < 100 ms"
	}
	size := fmt.Sprintf("%d", sc.searchClips)
	if sc.searchClips%1_000_000 == 0 {
		size = fmt.Sprintf("%dM", sc.searchClips/1_000_000)
	} else if sc.searchClips%1000 == 0 {
		size = fmt.Sprintf("%dk", sc.searchClips/1000)
	}
	var failed []error
	for _, m := range []struct {
		figure string
		path   func() string
	}{
		{fmt.Sprintf("clip search latency, %s, %s clips", k.Name, size), search},
		{fmt.Sprintf("case page latency, %s, %s clips, %d cases", k.Name, size, len(numbers)), casePage},
	} {
		for range 20 { // warm-up: connections, plans, caches
			if _, err := get(m.path()); err != nil {
				return err
			}
		}
		var lat []time.Duration
		for range sc.requests {
			d, err := get(m.path())
			if err != nil {
				failed = append(failed, err)
				break
			}
			lat = append(lat, d)
		}
		b.addLatencyRow(m.figure, lat, goal, sc.requests)
		b.logf("  %s: %s", m.figure, b.rows[len(b.rows)-1].Evidock)
	}
	return errors.Join(failed...)
}

// addLatencyRow adds a row with the percentiles of lat; goal "p95 < 100 ms"
// is checked, anything else is information.
func (b *Bench) addLatencyRow(figure string, lat []time.Duration, goal string, want int) {
	r := row{Figure: figure, Peer: "—", Ratio: "—", Goal: goal, Met: "—"}
	if len(lat) < want {
		r.Evidock, r.Met = "error", "error (see the log)"
		b.rows = append(b.rows, r)
		return
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	r.Evidock = fmt.Sprintf("p50 %s / p95 %s / p99 %s ms (%d requests)", ms(pct(0.50)), ms(pct(0.95)), ms(pct(0.99)), len(lat))
	if goal == "p95 < 100 ms" {
		r.Met = "yes"
		if pct(0.95) >= 100*time.Millisecond {
			r.Met = "**no**"
		}
	}
	b.rows = append(b.rows, r)
}

// bulkLoad puts n clips (set 2) into db's clips table directly: COPY on
// PostgreSQL, 200-row INSERTs in one transaction on SQLite.
func bulkLoad(ctx context.Context, k dbKind, db *benchDB, n int) error {
	now := time.Now()
	if db.pool != nil {
		i := 0
		cols := strings.Split(strings.NewReplacer("\n", "", "\t", "", " ", "").Replace(clipInsertColumns), ",")
		_, err := db.pool.CopyFrom(ctx, pgx.Identifier{"clips"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i >= n {
				return nil, nil
			}
			c := benchClip(2, i, n)
			i++
			return clipArgs(k.Name, c, "bench-dock-02", now), nil
		}))
		return err
	}
	const batch = 200
	tx, err := db.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, insertSQL(k, batch))
	if err != nil {
		return err
	}
	args := make([]any, 0, batch*clipColumnCount)
	for start := 0; start < n; start += batch {
		args = args[:0]
		end := min(n, start+batch)
		for i := start; i < end; i++ {
			args = append(args, clipArgs(k.Name, benchClip(2, i, n), "bench-dock-02", now)...)
		}
		if end-start < batch {
			_, err = tx.ExecContext(ctx, insertSQL(k, end-start), args...)
		} else {
			_, err = stmt.ExecContext(ctx, args...)
		}
		if err != nil {
			return err
		}
	}
	stmt.Close()
	return tx.Commit()
}

// makeCases files sc.cases cases through the store, each with
// sc.caseActivities activities of one officer, each with sc.perActs of that
// officer's clips confirmed, and returns their numbers.
func makeCases(ctx context.Context, st serverStore, sc serverCfg) ([]string, error) {
	const officers = 100
	if err := st.CreateUnit(ctx, &evidock.Unit{Code: "BENCH", Name: "Bench bureau", Level: evidock.UnitBureau},
		&evidock.AuditEvent{Actor: "system:bench", Action: evidock.AuditCreateUnit, Outcome: evidock.AuditAllowed}); err != nil {
		return nil, err
	}
	err := parallel(ctx, officers, 4, func(k int) error {
		return st.CreateOfficer(ctx, &evidock.Officer{No: fmt.Sprintf("%06d", 100000+k), CertificateNo: fmt.Sprintf("C%06d", k),
			Name: fmt.Sprintf("Officer %d", k), UnitCode: "BENCH"})
	})
	if err != nil {
		return nil, err
	}
	numbers := make([]string, sc.cases)
	err = parallel(ctx, sc.cases, 4, func(i int) error {
		numbers[i] = fmt.Sprintf("BENCH-2024-%05d", i+1)
		c := &evidock.Case{Number: numbers[i], Kind: evidock.CasePenalty, Title: "Bench case", UnitCode: "BENCH",
			Parties:   []evidock.Party{{Role: evidock.PartyEmployer, Name: "Bench Co."}},
			CaseDates: evidock.CaseDates{FiledAt: clipBase.Add(-24 * time.Hour)}}
		if err := st.CreateCase(ctx, c); err != nil {
			return err
		}
		for a := range sc.caseActivities {
			k := (i*sc.caseActivities + a) % officers
			// Clips of officer k are k, k+benchOfficers, ...; pick a few
			// consecutive ones.
			first := k + benchOfficers*((i*7+a*13)%max(1, sc.searchClips/benchOfficers-sc.perActs))
			clip := benchClip(2, first, sc.searchClips)
			act := &evidock.Activity{CaseID: c.ID, Type: evidock.ActivityInspection, Officers: []string{clip.OfficerNo},
				StartedAt: clip.CorrectedStartedAt.Add(-time.Minute), EndedAt: clip.CorrectedStartedAt.Add(2 * time.Hour), Place: "Bench site"}
			if err := st.CreateActivity(ctx, act); err != nil {
				return err
			}
			for l := range sc.perActs {
				lc := benchClip(2, first+l*benchOfficers, sc.searchClips)
				if err := st.ChangeLink(ctx, &evidock.LinkEntry{ActivityID: act.ID, Digest: lc.Digest, Action: evidock.LinkConfirm, By: clip.OfficerNo}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return numbers, err
}

// xorshift is a small deterministic generator, so that every run asks for
// the same things.
type xorshift struct{ s uint64 }

func newRand(seed uint64) *xorshift { return &xorshift{s: seed*2654435761 + 88172645463325252} }

func (x *xorshift) next() uint64 {
	x.s ^= x.s << 13
	x.s ^= x.s >> 7
	x.s ^= x.s << 17
	return x.s
}
