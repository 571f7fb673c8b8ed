package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// memState is the part of a StateStore that a stage uses, in memory. The
// scheduling of the stages is tested with it: the real store's speed would
// only blur the instants compared below.
type memState struct {
	StateStore
	mu   sync.Mutex
	recs []Recording
}

func (m *memState) FindRecordings(_ context.Context, f RecordingFilter) ([]*Recording, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Recording
	for _, r := range m.recs {
		if slices.Contains(f.States, r.State) && (f.Limit == 0 || len(out) < f.Limit) {
			out = append(out, &r)
		}
	}
	return out, nil
}

func (m *memState) UpdateRecording(_ context.Context, r *Recording) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.recs {
		if m.recs[i].ID == r.ID {
			m.recs[i] = *r
			return nil
		}
	}
	return fmt.Errorf("no recording %d", r.ID)
}

func (m *memState) left(state State) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.recs {
		if r.State == state {
			n++
		}
	}
	return n
}

// TestStageReleasesEarly runs a stage whose steps read their recorder for a
// second, release it, and go on for two more (as an ingest fsyncs its copy).
// It checks that a recorder is never read by two steps at once, that no
// more than workers read at once and workers+linger run at once, that a
// recorder's next file is read while the previous one finishes, and that a
// step that returns without releasing frees its recorder all the same.
func TestStageReleasesEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const workers, linger = 2, 2
		st := &memState{}
		recorders := []string{"A", "B", "C"}
		for i := range 9 {
			st.recs = append(st.recs, Recording{ID: int64(i + 1), Volume: recorders[i%3], FileName: fmt.Sprint(i), State: StateDiscovered})
		}
		a := &Agent{State: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		a.init()

		var (
			mu                       sync.Mutex
			reading                  = map[string]int{}
			readsAtOnce, stepsAtOnce int
			maxReads, maxSteps       int
			overlapped               bool
			finishing                = map[string]int{} // steps past their read, by recorder
			errs                     []string
		)
		step := func(ctx context.Context, r *Recording, release func()) error {
			mu.Lock()
			reading[r.Volume]++
			readsAtOnce++
			stepsAtOnce++
			maxReads, maxSteps = max(maxReads, readsAtOnce), max(maxSteps, stepsAtOnce)
			if reading[r.Volume] > 1 {
				errs = append(errs, fmt.Sprintf("recorder %s read by %d steps at once", r.Volume, reading[r.Volume]))
			}
			if finishing[r.Volume] > 0 {
				overlapped = true
			}
			mu.Unlock()

			time.Sleep(time.Second) // reading the recorder
			mu.Lock()
			reading[r.Volume]--
			readsAtOnce--
			finishing[r.Volume]++
			mu.Unlock()
			// The files of recorder C return holding it: the stage must
			// free it.
			if r.Volume != "C" {
				release()
				release() // a second call changes nothing
			}
			time.Sleep(2 * time.Second) // fsync, rename, the directory's fsync
			mu.Lock()
			finishing[r.Volume]--
			stepsAtOnce--
			mu.Unlock()
			r.State = StateStaged
			return a.State.UpdateRecording(ctx, r)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- a.stage(stage{name: "ingest", wake: a.ingestWake, states: []State{StateCopying, StateDiscovered},
				holdingStep: step, retry: func(error) bool { return false }, workers: workers, linger: linger,
				exclusive: func(r *Recording) string { return r.Volume }})(ctx)
		}()
		start := time.Now()
		for st.left(StateStaged) < len(st.recs) {
			if time.Since(start) > time.Minute {
				t.Fatalf("%d of %d recordings staged after a minute (fake time)", st.left(StateStaged), len(st.recs))
			}
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(start)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			t.Error(e)
		}
		if maxReads != workers || maxSteps <= workers || maxSteps > workers+linger {
			t.Errorf("at most %d reads and %d steps at once; want %d reads, and more than %d but at most %d steps", maxReads, maxSteps, workers, workers, workers+linger)
		}
		if !overlapped {
			t.Error("no recorder's next file was read while its previous one finished")
		}
		// Without the early release, 9 steps of 3 s, 2 at once, take 15 s;
		// recorder C's files alone take 9 s, one after the other.
		if took >= 12*time.Second {
			t.Errorf("took %v (fake time), want less than 12 s", took)
		}
		t.Logf("took %v (fake time)", took)
		if len(a.busy.held) != 0 {
			t.Errorf("recorders still held after the stage ended: %v", a.busy.held)
		}
	})
}

// TestStageRetriesDoNotHideNewWork runs a stage of one worker on old
// recordings whose steps fail and wait to be retried, and one new
// recording: the candidates the stage asks for must reach past the
// waiting ones, so the new recording goes through before any retry is due.
func TestStageRetriesDoNotHideNewWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &memState{}
		for i := range 20 { // oldest first, as the store returns them
			st.recs = append(st.recs, Recording{ID: int64(i + 1), FileName: fmt.Sprint(i), State: StateStored})
		}
		const fresh = 20
		a := &Agent{State: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		a.init()
		errUnreachable := fmt.Errorf("server unreachable")
		var done time.Duration
		start := time.Now()
		step := func(ctx context.Context, r *Recording) error {
			if r.ID != fresh {
				return errUnreachable
			}
			done = time.Since(start)
			r.State = StateRegistered
			return a.State.UpdateRecording(ctx, r)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		a.stage(stage{name: "register", wake: make(chan struct{}), states: []State{StateStored},
			step: step, retry: func(err error) bool { return err == errUnreachable }, workers: 1})(ctx)
		if st.left(StateRegistered) != 1 {
			t.Fatal("the new recording was never registered")
		}
		if done >= time.Second {
			t.Errorf("the new recording went through after %v (fake time), behind the first retry (1 s); want at once", done)
		}
	})
}
