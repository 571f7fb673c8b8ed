package fixity_test

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
	"testing"
	"time"

	"golang.org/x/time/rate"

	"evidock"
	"evidock/internal/s3test"
	"evidock/s3"
	"evidock/server/fixity"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// forEachDB runs test on a fresh SQLite database and on a fresh schema of
// the test PostgreSQL.
func forEachDB(t *testing.T, test func(t *testing.T, db storetest.FixityStore)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, openPostgres(t)) })
}

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "evidock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// env is a registry database beside a real S3-compatible store (versitygw,
// whose posix backend keeps each object as a file, so that a test can
// lose or damage footage behind the server's back, as a failing disk or a
// careless administrator would).
type env struct {
	s3     *s3test.Server
	store  *s3.Store
	db     storetest.FixityStore
	log    *syncBuffer
	logger *slog.Logger
}

func newEnv(t *testing.T, db storetest.FixityStore) *env {
	t.Helper()
	srv := s3test.Start(t)
	log := &syncBuffer{}
	e := &env{s3: srv, store: srv.MustOpen(t), db: db, log: log,
		logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("checker log:\n%s", log.String())
		}
	})
	return e
}

// upload stores body as the agent would and registers its clip.
func (e *env) upload(t *testing.T, body []byte, seq int) *evidock.Clip {
	t.Helper()
	ctx := context.Background()
	c := storetest.NewClip(body, "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime).Add(time.Duration(seq)*time.Minute), seq)
	if err := e.store.PutObject(ctx, c.ObjectKey, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatalf("put %s: %v", c.ObjectKey, err)
	}
	if _, err := e.db.RegisterClip(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.objectFile(c)); err != nil {
		t.Fatalf("versitygw does not keep the object where the test looks for it: %v", err)
	}
	return c
}

// objectFile returns the file versitygw keeps c's object in.
func (e *env) objectFile(c *evidock.Clip) string {
	return filepath.Join(e.s3.DataDir, e.s3.Bucket, filepath.FromSlash(c.ObjectKey))
}

// checker returns a Checker named holder on e, quick to retry.
func (e *env) checker(holder string) *fixity.Checker {
	return &fixity.Checker{Store: e.db, Objects: e.store, Holder: holder, Logger: e.logger,
		RetryAfter: 300 * time.Millisecond, Idle: 50 * time.Millisecond}
}

func (e *env) summary(t *testing.T) *fixity.Summary {
	t.Helper()
	s, err := e.db.FixitySummary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) openAlarms(t *testing.T) []*fixity.Alarm {
	t.Helper()
	alarms, err := e.db.FindAlarms(context.Background(), fixity.AlarmFilter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	return alarms
}

func footage(tag string, n int) []byte {
	b := bytes.Repeat([]byte(tag+" "), n/(len(tag)+1)+1)
	return b[:n]
}

// TestCheckerFindsLossAndDamage loses one clip's object and damages two
// others' on the store's disk: the checker finds each, opens one alarm per
// clip, logs it as an ALARM at ERROR, and leaves the intact clip be.
func TestCheckerFindsLossAndDamage(t *testing.T) {
	forEachDB(t, func(t *testing.T, db storetest.FixityStore) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.upload(t, footage("intact", 5000), 1)
		gone := e.upload(t, footage("gone", 5000), 2)
		flipped := e.upload(t, footage("flipped", 5000), 3)
		cut := e.upload(t, footage("cut", 5000), 4)

		// Object Lock stops S3 deletes, not a disk failing or someone at
		// the store's shell.
		if err := os.Remove(e.objectFile(gone)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(e.objectFile(flipped))
		if err != nil {
			t.Fatal(err)
		}
		b[2500] ^= 0x01
		if err := os.WriteFile(e.objectFile(flipped), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(e.objectFile(cut), 4000); err != nil {
			t.Fatal(err)
		}

		ch := e.checker("a")
		if n, err := ch.CheckDue(ctx); n != 4 || err != nil {
			t.Fatalf("CheckDue = %d, %v; want 4 clips checked", n, err)
		}
		s := e.summary(t)
		if s.Clips != 4 || s.Checked != 4 || s.OK != 1 || s.Failures[fixity.Missing] != 1 || s.Failures[fixity.Changed] != 2 ||
			s.Failures[fixity.Unreachable] != 0 || s.OpenAlarms != 3 || s.AllCheckedSince == nil {
			t.Fatalf("summary = %+v; want 1 ok, 1 missing, 2 changed, 3 open alarms", s)
		}
		want := map[string]string{
			gone.Digest.String():    fixity.AlarmObjectMissing,
			flipped.Digest.String(): fixity.AlarmObjectChanged,
			cut.Digest.String():     fixity.AlarmObjectChanged,
		}
		alarms := e.openAlarms(t)
		for _, a := range alarms {
			if want[a.Subject] != a.Kind {
				t.Errorf("alarm %+v; want kinds %v", a, want)
			}
			delete(want, a.Subject)
		}
		if len(want) != 0 || len(alarms) != 3 {
			t.Fatalf("alarms %d, missing %v", len(alarms), want)
		}
		if got := countLines(e.log.String(), "level=ERROR", "ALARM"); got != 3 {
			t.Errorf("%d ALARM lines at ERROR; want 3", got)
		}
		if !strings.Contains(e.log.String(), "4000 bytes, but the registry says 5000") {
			t.Errorf("log does not say how the cut clip changed")
		}
		if c := ch.Checks(); c[fixity.OK] != 1 || c[fixity.Missing] != 1 || c[fixity.Changed] != 2 || c[fixity.Unreachable] != 0 {
			t.Errorf("Checks = %v", c)
		}

		// Nothing is due again within the interval.
		if n, err := e.checker("b").CheckDue(ctx); n != 0 || err != nil {
			t.Fatalf("second pass = %d, %v; want nothing due", n, err)
		}
		// A pass after the interval finds the same, and opens no second
		// alarm while the first is open.
		again := e.checker("c")
		again.Interval = time.Nanosecond
		if n, err := again.CheckDue(ctx); n != 4 || err != nil {
			t.Fatalf("pass after the interval = %d, %v; want all 4 checked again", n, err)
		}
		if n := len(e.openAlarms(t)); n != 3 {
			t.Fatalf("%d open alarms after the second pass; want still 3", n)
		}
	})
}

// TestCheckerStoreDown stops the object store: the checker records the
// clip it tried as unreachable, opens no alarm, gives back the rest, and
// once the store is back checks them all.
func TestCheckerStoreDown(t *testing.T) {
	forEachDB(t, func(t *testing.T, db storetest.FixityStore) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.upload(t, footage("one", 3000), 1)
		e.upload(t, footage("two", 3000), 2)

		e.s3.Stop()
		ch := e.checker("a")
		n, err := ch.CheckDue(ctx)
		if n != 1 || evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
			t.Fatalf("CheckDue with the store down = %d, %v; want 1 check and EUNAVAILABLE", n, err)
		}
		s := e.summary(t)
		if s.Checked != 0 || s.Failures[fixity.Unreachable] != 1 || s.OpenAlarms != 0 {
			t.Fatalf("summary = %+v; want one unreachable clip, none checked, no alarm", s)
		}
		if ch.StoreUnreachableSince() == nil {
			t.Error("the checker does not report the store unreachable")
		}
		// The clip not tried was given back at once.
		got, err := db.ClaimClips(ctx, "someone else", 10, time.Hour, time.Millisecond)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim after the outage = %v, %v; want the clip not tried", got, err)
		}
		time.Sleep(5 * time.Millisecond) // let that lease run out

		e.s3.Restart(t)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- ch.Run(runCtx) }()
		deadline := time.Now().Add(60 * time.Second)
		for s = e.summary(t); s.OK != 2; s = e.summary(t) {
			if time.Now().After(deadline) {
				t.Fatalf("summary = %+v; want both clips ok after the store came back", s)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v; want nil after cancel", err)
		}
		if s.Failures[fixity.Unreachable] != 0 || s.OpenAlarms != 0 || len(e.openAlarms(t)) != 0 {
			t.Fatalf("summary = %+v; want no failures and no alarm", s)
		}
		if strings.Contains(e.log.String(), "ALARM") {
			t.Error("an unreachable store raised an ALARM")
		}
		if since := ch.StoreUnreachableSince(); since != nil {
			t.Errorf("the checker reports the store unreachable since %v after reading from it", since)
		}
		if c := ch.Checks(); c[fixity.Unreachable] != 1 || c[fixity.OK] != 2 {
			t.Errorf("Checks = %v; want 1 unreachable, 2 ok", c)
		}
	})
}

// TestCheckerUnreadableObjects makes single objects unreadable (refused by
// the store, which versitygw running as this user cannot be made to do):
// one such object is retried later without holding up the others, but
// MaxUnreadable in a row stop the round as a failing store would.
func TestCheckerUnreadableObjects(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, openSQLite(t))
	var clips []*evidock.Clip
	for i := range 5 {
		clips = append(clips, e.upload(t, footage(fmt.Sprint("unreadable", i), 1000), i+1))
	}
	refuse := &refusingObjects{ObjectReader: e.store, keys: map[string]bool{clips[0].ObjectKey: true}}
	ch := e.checker("a")
	ch.Objects = refuse
	ch.RetryAfter = time.Hour
	if n, err := ch.CheckDue(ctx); n != 5 || err != nil {
		t.Fatalf("CheckDue with one object refused = %d, %v; want all 5 tried", n, err)
	}
	if s := e.summary(t); s.OK != 4 || s.Failures[fixity.Unreachable] != 1 || s.OpenAlarms != 0 {
		t.Fatalf("summary = %+v; want 4 ok, 1 unreachable, no alarm", s)
	}
	if ch.StoreUnreachableSince() != nil {
		t.Error("one refused object made the checker report the store unreachable")
	}

	// Due again: the four read before, then three refused in a row.
	for _, c := range clips[1:4] {
		refuse.keys[c.ObjectKey] = true
	}
	again := e.checker("b")
	again.Objects, again.Interval = refuse, time.Nanosecond
	n, err := again.CheckDue(ctx)
	if n != fixity.MaxUnreadable || evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
		t.Fatalf("CheckDue with %d refused in a row = %d, %v; want to stop after them with EUNAVAILABLE", fixity.MaxUnreadable, n, err)
	}
	if again.StoreUnreachableSince() == nil {
		t.Error("the checker does not report the store failing")
	}
}

// refusingObjects refuses to open the objects in keys.
type refusingObjects struct {
	evidock.ObjectReader
	keys map[string]bool
}

func (r *refusingObjects) OpenObject(ctx context.Context, key string) (io.ReadCloser, error) {
	if r.keys[key] {
		return nil, evidock.Errorf(evidock.EFORBIDDEN, "s3: get %s: AccessDenied", key)
	}
	return r.ObjectReader.OpenObject(ctx, key)
}

// TestCheckerRate checks that the limiter is applied: a pass over K bytes
// at N bytes a second, with a burst of B, cannot take less than (K-B)/N.
// It is a bound that holds on any machine, not a measure of speed.
func TestCheckerRate(t *testing.T) {
	const n, size, clips = 100_000, 100_000, 3
	e := newEnv(t, openSQLite(t))
	for i := range clips {
		e.upload(t, footage(fmt.Sprint("rate", i), size), i+1)
	}
	ch := e.checker("a")
	ch.Limiter = fixity.NewLimiter(n)
	start := time.Now()
	if got, err := ch.CheckDue(context.Background()); got != clips || err != nil {
		t.Fatalf("CheckDue = %d, %v", got, err)
	}
	elapsed := time.Since(start)
	if floor := time.Duration(float64(clips*size-ch.Limiter.Burst()) / n * float64(time.Second)); elapsed < floor {
		t.Fatalf("a pass over %d bytes at %d B/s took %v; the limiter allows no less than %v", clips*size, n, elapsed, floor)
	}
	if s := e.summary(t); s.OK != clips {
		t.Fatalf("summary = %+v", s)
	}
}

// TestCheckerGivesBackOnStop stops a checker part way through a batch: the
// clips it claimed, the one it was reading too, are free for another
// checker at once.
func TestCheckerGivesBackOnStop(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	for i := range 3 {
		e.upload(t, footage(fmt.Sprint("stop", i), 50_000), i+1)
	}
	ch := e.checker("a")
	ch.Limiter = rate.NewLimiter(50_000, 8192) // a second a clip
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ch.CheckDue(ctx)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckDue after cancel = %v; want context.Canceled", err)
	}
	got, err := e.db.ClaimClips(context.Background(), "b", 10, time.Hour, time.Hour)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim after the stop = %d clips, %v; want all 3 given back", len(got), err)
	}
}

// TestCheckersShareClips runs two checkers on one PostgreSQL, as two server
// instances would: every clip is checked once, never by both at the same
// time. Each clip takes longer to read than a lease lasts, so the checkers
// must renew leases while reading; and expired leases of clips waiting in
// a batch are taken over by the other checker.
func TestCheckersShareClips(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, openPostgres(t))
	const clips = 6
	for i := range clips {
		e.upload(t, footage(fmt.Sprint("shared", i), 50_000), i+1)
	}
	watch := &watchedObjects{ObjectReader: e.store, open: map[string]int{}, opens: map[string]int{}}
	var checkers []*fixity.Checker
	// Unequal batches: the second checker comes back for more while the
	// first is still reading, and finds the first's waiting clips with
	// their leases run out, and the clip it is reading with its lease
	// renewed.
	for i, holder := range []string{"server-1", "server-2"} {
		ch := e.checker(holder)
		ch.Objects = watch
		ch.Batch = []int{3, 1}[i]
		ch.Lease = 250 * time.Millisecond
		ch.Limiter = rate.NewLimiter(100_000, 8192) // half a second a clip
		checkers = append(checkers, ch)
	}
	var wg sync.WaitGroup
	for _, ch := range checkers {
		wg.Go(func() {
			if _, err := ch.CheckDue(ctx); err != nil {
				t.Errorf("%s: %v", ch.Holder, err)
			}
		})
	}
	wg.Wait()
	if len(watch.overlaps) > 0 {
		t.Fatalf("objects read by both checkers at once: %v", watch.overlaps)
	}
	for key, n := range watch.opens {
		if n != 1 {
			t.Errorf("object %s read %d times; want once", key, n)
		}
	}
	s := e.summary(t)
	a, b := checkers[0].Checks()[fixity.OK], checkers[1].Checks()[fixity.OK]
	if s.Checked != clips || s.OK != clips || a+b != clips || len(watch.opens) != clips {
		t.Fatalf("summary %+v, checks %d + %d; want each of %d clips checked once", s, a, b, clips)
	}
	if a == 0 || b == 0 {
		t.Errorf("checks %d + %d: one checker did all the work", a, b)
	}
	t.Logf("checks %d + %d; %d clips taken over from a lapsed lease", a, b, strings.Count(e.log.String(), "taken over"))
}

// watchedObjects records which objects are open, to catch two checkers
// reading one object at once.
type watchedObjects struct {
	evidock.ObjectReader
	mu       sync.Mutex
	open     map[string]int
	opens    map[string]int
	overlaps []string
}

func (w *watchedObjects) OpenObject(ctx context.Context, key string) (io.ReadCloser, error) {
	w.mu.Lock()
	w.open[key]++
	w.opens[key]++
	if w.open[key] > 1 {
		w.overlaps = append(w.overlaps, key)
	}
	w.mu.Unlock()
	rc, err := w.ObjectReader.OpenObject(ctx, key)
	if err != nil {
		w.closed(key)
		return nil, err
	}
	return &watchedBody{ReadCloser: rc, close: func() { w.closed(key) }}, nil
}

func (w *watchedObjects) closed(key string) {
	w.mu.Lock()
	w.open[key]--
	w.mu.Unlock()
}

type watchedBody struct {
	io.ReadCloser
	close func()
	once  sync.Once
}

func (b *watchedBody) Close() error {
	b.once.Do(b.close)
	return b.ReadCloser.Close()
}

// countLines returns how many lines of log hold every one of words.
func countLines(log string, words ...string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			n++
		}
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for the checker's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
