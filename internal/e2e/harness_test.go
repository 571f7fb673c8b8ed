package e2e_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"evidock"
	"evidock/agent"
	agentsqlite "evidock/agent/sqlite"
	"evidock/firmware-bridge/sim"
	"evidock/internal/s3test"
	"evidock/internal/tlsca"
	"evidock/s3"
	"evidock/server"
	serverhttp "evidock/server/http"
	serversqlite "evidock/server/sqlite"
	"evidock/server/translog"
)

// env is one docking station and one case server sharing one versitygw.
type env struct {
	t          *testing.T
	s3         *s3test.Server
	store      *s3.Store
	objects    *countingStore
	serverDB   *serversqlite.DB
	serverURL  string
	serverAddr string
	handler    http.Handler
	httpSrv    *http.Server
	token      string             // the station's
	logKey     string             // the registry log's verifier key
	client     *serverhttp.Client // authenticated as the station
	state      *agentsqlite.DB
	agent      *agent.Agent
	mountRoot  string
	logs       *logBuffer
	stop       func()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, s3test.Start(t))
}

// newEnvTLS is newEnv with the object store and the case server on https,
// with certificates of a CA that only the configuration trusts (ca_file).
func newEnvTLS(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, s3test.StartTLS(t))
}

func newEnvWith(t *testing.T, store *s3test.Server) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, s3: store, logs: &logBuffer{}}
	e.store = e.s3.MustOpen(t)
	e.objects = &countingStore{ObjectStore: e.store}

	dir := t.TempDir()
	var err error
	if e.serverDB, err = serversqlite.Open(ctx, filepath.Join(dir, "server.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.serverDB.Close() })
	registry := &server.Registry{Clips: e.serverDB, Objects: e.store, VerifyDigest: true}
	api := serverhttp.NewServer(registry, e.serverDB, e.serverDB, e.serverDB.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)))
	skey, vkey, err := translog.GenerateKey("evidock.test/registry")
	if err != nil {
		t.Fatal(err)
	}
	log, err := translog.New(e.serverDB, skey)
	if err != nil {
		t.Fatal(err)
	}
	api.SetLog(log)
	e.handler, e.logKey = api, vkey
	e.startServer("127.0.0.1:0")
	token, err := e.serverDB.CreateStation(ctx, &evidock.Station{ID: "dock-01", Name: "test dock"})
	if err != nil {
		t.Fatal(err)
	}
	e.token = token
	e.client = serverhttp.NewClient(e.serverURL, token)
	tlsConfig, err := tlsca.Load(e.s3.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	e.client.UseTLS(tlsConfig)

	if e.state, err = agentsqlite.Open(ctx, filepath.Join(dir, "agent.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.state.Close() })
	e.mountRoot = filepath.Join(dir, "media")
	if err := os.MkdirAll(e.mountRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	e.agent = &agent.Agent{
		StationID:          "dock-01",
		MountRoot:          e.mountRoot,
		StagingDir:         filepath.Join(dir, "staging"),
		State:              e.state,
		Objects:            e.objects,
		Registry:           e.client,
		LogKey:             e.logKey,
		Settle:             100 * time.Millisecond,
		MultipartThreshold: 6 << 20,
		PartSize:           5 << 20,
		// Independent of the test machine's free disk space.
		StagingReserve:  1,
		StagingLowWater: 1,
		Logger:          slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, testWriter{t}), nil)),
	}
	return e
}

// startServer serves the case server's API on addr.
func (e *env) startServer(addr string) {
	e.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.t.Fatal(err)
	}
	srv := &http.Server{Handler: e.handler}
	scheme := "http://"
	if e.s3.CAFile != "" { // the store's certificate is for 127.0.0.1 too
		scheme = "https://"
		go srv.ServeTLS(ln, e.s3.CAFile, e.s3.KeyFile)
	} else {
		go srv.Serve(ln)
	}
	e.t.Cleanup(func() { srv.Close() })
	e.httpSrv, e.serverAddr, e.serverURL = srv, ln.Addr().String(), scheme+ln.Addr().String()
}

// stopServer takes the case server down, as an outage would.
func (e *env) stopServer() { e.httpSrv.Close() }

// restartServer serves again on the same address after stopServer.
func (e *env) restartServer() { e.startServer(e.serverAddr) }

// start runs the agent until the test ends or stop is called.
func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.agent.Run(ctx) }()
	e.stop = func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("agent.Run: %v", err)
		}
		e.stop = func() {}
	}
	e.t.Cleanup(func() { e.stop() })
}

// docked is a footage file on a simulated recorder, hashed before docking
// (the agent deletes what it has cleared).
type docked struct {
	sim.File
	Name   string // base name
	BLAKE3 string // raw digest bytes, from the BLAKE3 library directly
	Size   int64
}

// dock creates a simulated recorder volume, hashes its files, and moves it
// under the mount root at once, as a mount appears.
func (e *env) dock(name string, v sim.Volume) []docked {
	e.t.Helper()
	built := filepath.Join(e.t.TempDir(), name)
	files, err := v.Create(context.Background(), built)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []docked
	for _, f := range files {
		d, n := fileBLAKE3(e.t, filepath.Join(built, f.Path))
		out = append(out, docked{File: f, Name: filepath.Base(f.Path), BLAKE3: d, Size: n})
	}
	if err := os.Rename(built, filepath.Join(e.mountRoot, name)); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// waitSettled waits until no recording is pending and at least n are known.
func (e *env) waitSettled(n int) []*agent.Recording {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		recs, err := e.state.FindRecordings(context.Background(), agent.RecordingFilter{})
		if err != nil {
			e.t.Fatal(err)
		}
		pending := 0
		for _, r := range recs {
			if r.State.Pending() {
				pending++
			}
		}
		if pending == 0 && len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			for _, r := range recs {
				e.t.Logf("%s: %s %s", r.FileName, r.State, r.Error)
			}
			e.t.Fatalf("timed out: %d recordings known, %d pending, want %d settled", len(recs), pending, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the agent has logged msg at least n times.
func (e *env) waitLog(msg string, n int) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e.logs.count(msg) < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("agent never logged %q %d times", msg, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shiftVolume is a recorder holding a shift's footage: one recording larger
// than the multipart threshold (6 MiB) and several small ones.
func shiftVolume(serial string) sim.Volume {
	sizes := []int64{13<<20 + 12345, 3 << 20, 1 << 20, 300 << 10, 64 << 10, 7001}
	durs := make([]time.Duration, len(sizes))
	for i := range durs {
		durs[i] = time.Duration(i+1) * time.Minute
	}
	recs, err := sim.Consecutive(time.Date(2026, 11, 25, 8, 30, 0, 0, evidock.ChinaTime), time.Minute, 1, sizes, durs)
	if err != nil {
		panic(err)
	}
	return sim.Volume{DeviceSerial: serial, OfficerNo: "100234", Recordings: recs}
}

// fileBLAKE3 hashes a file with the BLAKE3 library directly, independently of
// the agent's code path.
func fileBLAKE3(t *testing.T, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := blake3.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return string(h.Sum(nil)), n
}

// countingStore is the real object store, counting the writes that reach it.
type countingStore struct {
	evidock.ObjectStore
	mu            sync.Mutex
	puts, uploads int
}

func (c *countingStore) PutObject(ctx context.Context, key string, body io.ReadSeeker, size int64, meta map[string]string) error {
	c.mu.Lock()
	c.puts++
	c.mu.Unlock()
	return c.ObjectStore.PutObject(ctx, key, body, size, meta)
}

func (c *countingStore) CreateUpload(ctx context.Context, key string, meta map[string]string) (string, error) {
	c.mu.Lock()
	c.uploads++
	c.mu.Unlock()
	return c.ObjectStore.CreateUpload(ctx, key, meta)
}

func (c *countingStore) writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts + c.uploads
}

// logBuffer collects the agent's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), s)
}

func (l *logBuffer) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), "msg=\""+msg+"\"") + strings.Count(l.buf.String(), "msg="+msg+" ")
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// unplugFS is a recorder volume that fails reading one file after some bytes,
// as a recorder pulled out mid-copy does (EIO); a real unplug cannot be
// timed inside a test.
type unplugFS struct {
	fs.FS
	name  string
	after int64
}

func (u unplugFS) Open(name string) (fs.File, error) {
	f, err := u.FS.Open(name)
	if err != nil || filepath.Base(name) != u.name {
		return f, err
	}
	return &unplugFile{File: f, left: u.after}, nil
}

type unplugFile struct {
	fs.File
	left int64
}

func (f *unplugFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, &fs.PathError{Op: "read", Path: "recorder", Err: errIO}
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.File.Read(p)
	f.left -= int64(n)
	return n, err
}

var errIO = ioError("input/output error (device unplugged)")

type ioError string

func (e ioError) Error() string { return string(e) }
