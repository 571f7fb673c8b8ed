package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"evidock"
	"evidock/agent"
	agentsqlite "evidock/agent/sqlite"
	"evidock/s3"
	"evidock/server"
	serverhttp "evidock/server/http"
	serversqlite "evidock/server/sqlite"
)

// uploadTimeout bounds one upload run, so that a stuck side fails its row
// instead of hanging the report.
const uploadTimeout = 10 * time.Minute

// upload compares the agent's real upload stage with rclone and a bare
// aws-sdk-go-v2 loop on the same versitygw, at the same concurrency and
// part size, first for one large file, then for many small ones.
func (b *Bench) upload(ctx context.Context) error {
	if why := b.skip("versitygw"); why != "" {
		for _, f := range []string{"upload " + b.largeSet.describe(), "upload " + b.smallSet.describe()} {
			b.rows = append(b.rows, row{Figure: f, Evidock: "skipped", Peer: "skipped", Ratio: "—", Goal: "≥ 1.5× rclone, ≥ 0.9× bare", Met: "skipped: " + why})
		}
		return nil
	}
	gw, err := b.gateway()
	if err != nil {
		return err
	}
	n, m := b.cfg.Transfers, 1
	b.notef("Upload: agent MaxUploads = rclone --transfers = bare-loop workers = %d. The agent sends the parts of one recording one after another, so parts in flight per file = rclone --s3-upload-concurrency = %d on the matched rows; one row shows rclone with %d parts in flight per file (not matched: the agent cannot do that). Part size %s, multipart above %s, on every side. Each run writes to a new bucket (with Object Lock, as the demo makes it) that is deleted from disk afterwards; the agent's state and the case server's database are new each run.",
		n, m, agent.DefaultMaxUploads, sizeString(b.cfg.PartSize), sizeString(b.cfg.Threshold))
	b.notef("Upload, agent side: a real agent.Agent (state in agent/sqlite, preloaded with the recordings in state staged; ClearAfter never; empty mount root) on an s3.Store, registering with a real case server in-process (server/http + server/sqlite + server.Registry, VerifyDigest off). Timed from Run until the state store has recorded every recording as stored (observed in UpdateRecording, not polled; the agent's own HEAD check after each upload is included; registration runs alongside). Its work includes re-hashing each staged copy (BLAKE3) and CRC32C on every request.")
	b.notef("Upload, peers: rclone computes MD5 of every file (its own integrity check; left on); the bare loop uses the SDK's default checksums (CRC32) and PutObject / UploadPart with nothing else. Every run's objects are counted afterwards.")

	large, small := b.largeSet, b.smallSet
	ev := b.agentSide(ctx, gw, "large", large, n)
	rc := b.rcloneSide(ctx, gw, "large", large, n, m)
	bare := b.bareSide(ctx, gw, "large", large, n, m)
	rc4 := b.rcloneSide(ctx, gw, "large", large, n, agent.DefaultMaxUploads)
	rc4.Name = fmt.Sprintf("rclone (%d parts in flight)", agent.DefaultMaxUploads)
	b.alternate("upload large", ev, rc, bare, rc4)
	fig := fmt.Sprintf("upload %s, %d part stream, vs", large.describe(), m)
	b.addRow(fig+" rclone", ev, rc, 1.5)
	b.addRow(fig+" bare SDK loop", ev, bare, 0.9)
	b.addRow(fmt.Sprintf("upload %s vs rclone with %d parts in flight (not matched; info)", large.describe(), agent.DefaultMaxUploads), ev, rc4, 0)

	ev = b.agentSide(ctx, gw, "small", small, n)
	rc = b.rcloneSide(ctx, gw, "small", small, n, m)
	bare = b.bareSide(ctx, gw, "small", small, n, m)
	b.alternate("upload small", ev, rc, bare)
	fig = fmt.Sprintf("upload %s, %d at once, vs", small.describe(), n)
	b.addRow(fig+" rclone", ev, rc, 1.5)
	b.addRow(fig+" bare SDK loop", ev, bare, 0.9)
	return nil
}

// bucketName returns a new bucket name for one run of one side.
func (b *Bench) bucketName(side, set string) string {
	b.buckets++
	return fmt.Sprintf("%s-%s-%d", side, set, b.buckets)
}

// agentSide runs the agent's pipeline on set, whose recordings are already
// staged.
func (b *Bench) agentSide(ctx context.Context, gw *gateway, label string, set *fileSet, uploads int) *side {
	var run *agentRun
	warned := 0
	return &side{Name: "evidock", Bytes: set.Bytes,
		How: fmt.Sprintf("agent.Agent{MaxUploads: %d, PartSize: %s, MultipartThreshold: %s}.Run until all stored", uploads, sizeString(b.cfg.PartSize), sizeString(b.cfg.Threshold)),
		Prep: func() error {
			var err error
			run, err = b.newAgentRun(ctx, gw, b.bucketName("agent", label), set, uploads)
			return err
		},
		Run: func() (time.Duration, error) { return run.run(ctx) },
		After: func() error {
			if run.warnings != "" {
				lines := strings.Split(strings.TrimSpace(run.warnings), "\n")
				b.logf("  the agent logged %d warnings or errors; first: %s", len(lines), lines[0])
				if warned++; warned == 1 {
					b.notef("Upload %s: the agent logged warnings or errors during a run that still stored everything (%d lines in bucket %s's run). First: `%s`", label, len(lines), run.bucket, cell(lines[0]))
				}
			}
			err := run.close()
			if rerr := gw.removeBucket(run.bucket); err == nil {
				err = rerr
			}
			return err
		},
	}
}

// agentRun is one agent, its state and its case server, for one run.
type agentRun struct {
	dir, bucket string
	want        int
	state       *agentsqlite.DB
	watch       *watchStore
	reg         *registry
	agent       *agent.Agent
	logs        *syncBuffer
	warnings    string // what the agent logged at warn or above during a good run
}

func (b *Bench) newAgentRun(ctx context.Context, gw *gateway, bucket string, set *fileSet, uploads int) (*agentRun, error) {
	r := &agentRun{dir: filepath.Join(b.work, "runs", bucket), bucket: bucket, want: len(set.Files), logs: &syncBuffer{}}
	if err := os.MkdirAll(filepath.Join(r.dir, "media"), 0o755); err != nil {
		return nil, err
	}
	store, err := gw.createBucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	if r.reg, err = startRegistry(ctx, filepath.Join(r.dir, "server.db"), store); err != nil {
		return nil, err
	}
	if r.state, err = agentsqlite.Open(ctx, filepath.Join(r.dir, "agent.db")); err != nil {
		r.close()
		return nil, err
	}
	if err := preload(ctx, r.state, filepath.Join(r.dir, "media", "BEN0001"), set); err != nil {
		r.close()
		return nil, err
	}
	r.watch = newWatchStore(r.state, r.want)
	r.agent = &agent.Agent{
		StationID:          registryStation,
		MountRoot:          filepath.Join(r.dir, "media"),
		StagingDir:         filepath.Join(r.dir, "staging"),
		State:              r.watch,
		Objects:            store,
		Registry:           serverhttp.NewClient(r.reg.srv.URL(), r.reg.token),
		MultipartThreshold: b.cfg.Threshold,
		PartSize:           b.cfg.PartSize,
		MaxUploads:         uploads,
		ClearAfter:         agent.ClearNever,
		// The generated clips are the staged copies: nothing may prune them.
		StagingReserve:  1,
		StagingLowWater: 1,
		Logger:          slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	return r, nil
}

// preload records every file of set as a recording staged from volume.
func preload(ctx context.Context, st *agentsqlite.DB, volume string, set *fileSet) error {
	now := time.Now()
	for _, f := range set.Files {
		r := &agent.Recording{
			Volume: volume, RelPath: "DCIM/" + f.Name, FileName: f.Name, Size: f.Size, ModTime: now,
			DeviceSerial: f.Rec.DeviceSerial, OfficerNo: f.Rec.OfficerNo, StartedAt: f.Rec.StartedAt,
			Seq: f.Rec.Seq, Kind: f.Rec.Kind, State: agent.StateDiscovered,
		}
		if _, err := st.AddRecording(ctx, r); err != nil {
			return err
		}
		r.State, r.Digest, r.StagedPath, r.IngestedAt = agent.StateStaged, f.Digest, f.Path, now
		if err := st.UpdateRecording(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// run starts the agent and returns the time until every recording was
// durably recorded as stored.
func (r *agentRun) run(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, uploadTimeout)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- r.agent.Run(ctx) }()
	var err error
	var d time.Duration
	stopped := false
	select {
	case <-r.watch.done:
		d = r.watch.at.Sub(start)
	case <-r.watch.failed:
		err = fmt.Errorf("a recording failed: %v", r.watch.failure)
	case rerr := <-done:
		err, stopped = fmt.Errorf("agent stopped before all were stored: %v", rerr), true
	case <-ctx.Done():
		err = fmt.Errorf("not all stored after %v", uploadTimeout)
	}
	cancel()
	if !stopped {
		if rerr := <-done; err == nil && rerr != nil {
			err = rerr
		}
	}
	if err == nil {
		err = r.check(context.Background())
	}
	if err != nil {
		return 0, fmt.Errorf("%w; agent log: %s", err, tail(r.logs.String(), 2000))
	}
	if log := r.logs.String(); log != "" {
		r.warnings = log
	}
	return d, nil
}

// check confirms from the state store that every recording is stored (or
// past it).
func (r *agentRun) check(ctx context.Context) error {
	recs, err := r.state.FindRecordings(ctx, agent.RecordingFilter{})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		switch {
		case rec.State == agent.StateStored || rec.State == agent.StateRegistered ||
			rec.State == agent.StateVerified || rec.State == agent.StateKept:
		case rec.State == agent.StateFailed && r.watch.wasStored(rec.ID):
			// Registration failed after the upload; the agent's log (in
			// the notes) says why.
		default:
			return fmt.Errorf("%s is %s (%s) after the run", rec.FileName, rec.State, rec.Error)
		}
	}
	if len(recs) != r.want {
		return fmt.Errorf("%d recordings in the state store, want %d", len(recs), r.want)
	}
	return nil
}

func (r *agentRun) close() error {
	var errs []error
	if r.reg != nil {
		errs = append(errs, r.reg.close())
	}
	if r.state != nil {
		errs = append(errs, r.state.Close())
	}
	errs = append(errs, os.RemoveAll(r.dir))
	return errors.Join(errs...)
}

// watchStore passes every call to the agent's state store and notes when
// the last recording becomes stored, or the first fails.
type watchStore struct {
	agent.StateStore
	want int

	mu      sync.Mutex
	stored  map[int64]bool
	done    chan struct{}
	at      time.Time
	failed  chan struct{}
	failure error
}

func newWatchStore(st agent.StateStore, want int) *watchStore {
	return &watchStore{StateStore: st, want: want, stored: map[int64]bool{}, done: make(chan struct{}), failed: make(chan struct{})}
}

func (w *watchStore) wasStored(id int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stored[id]
}

func (w *watchStore) UpdateRecording(ctx context.Context, r *agent.Recording) error {
	if err := w.StateStore.UpdateRecording(ctx, r); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch r.State {
	case agent.StateStored:
		if !w.stored[r.ID] {
			w.stored[r.ID] = true
			if len(w.stored) == w.want {
				w.at = time.Now()
				close(w.done)
			}
		}
	case agent.StateFailed:
		if w.stored[r.ID] {
			return nil // registration failed after the upload: see check
		}
		if w.failure == nil {
			w.failure = fmt.Errorf("%s: %s", r.FileName, r.Error)
			close(w.failed)
		}
	}
	return nil
}

// registryStation is the station the agent runs as.
const registryStation = "bench-01"

// registry is a real case server on a loopback port: HTTP API, SQLite
// store and the object check (size and digest label; no read-back).
type registry struct {
	db    *serversqlite.DB
	srv   *serverhttp.Server
	token string
	done  chan error
}

func startRegistry(ctx context.Context, path string, store *s3.Store) (*registry, error) {
	db, err := serversqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	token, err := db.CreateStation(ctx, &evidock.Station{ID: registryStation, Name: "benchmark dock"})
	if err != nil {
		db.Close()
		return nil, err
	}
	reg := &server.Registry{Clips: db, Objects: store, VerifyDigest: false}
	srv := serverhttp.NewServer(reg, db, db, db.Ping, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		db.Close()
		return nil, err
	}
	r := &registry{db: db, srv: srv, token: token, done: make(chan error, 1)}
	go func() { r.done <- srv.Serve() }()
	return r, nil
}

func (r *registry) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if serr := <-r.done; err == nil {
		err = serr
	}
	return errors.Join(err, r.db.Close())
}

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
