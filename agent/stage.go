package agent

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// stage is one step of the pipeline and how it is scheduled.
type stage struct {
	name   string
	wake   chan struct{} // signalled when a recording may have entered states
	states []State       // the states step takes recordings from
	step   func(context.Context, *Recording) error
	// holdingStep, if set, is run instead of step: it may call release as
	// soon as it is done with its exclusive resource (the ingest, once the
	// recorder's file is read, before the copy is fsynced), so that the
	// resource's next step need not wait for the rest of it. The resource is
	// released when the step returns in any case.
	holdingStep func(ctx context.Context, r *Recording, release func()) error
	// retry says whether a step error may pass by itself; the recording is
	// then tried again after a growing pause, else it is marked failed.
	retry func(error) bool
	// workers bounds the steps at once; with exclusive, the steps at once
	// that hold their resource.
	workers int
	// linger bounds the steps at once that have released their resource
	// early and go on (beyond workers).
	linger int
	// exclusive, if set, names a resource (the recorder) that only one step,
	// of any stage, may use at a time.
	exclusive func(*Recording) string
	// untilIdle makes the service return once no step runs and none may
	// start or is waiting to be retried, rather than wait for more.
	untilIdle bool
}

// hold is a step's hold on its exclusive resource; the step may release it
// early, from its own goroutine, and the stage releases it when the step
// returns, whichever comes first.
type hold struct {
	name string
	busy *resources
	done atomic.Bool
}

// release frees the resource unless it was freed already.
func (h *hold) release() bool {
	if !h.done.CompareAndSwap(false, true) {
		return false
	}
	h.busy.release(h.name)
	return true
}

// stage returns a service that applies s.step to recordings in s.states,
// oldest recording first so that the nearest deadlines go first, up to
// s.workers at once. A step's error is recorded on its recording. The
// service returns only the state store's errors.
func (a *Agent) stage(s stage) func(context.Context) error {
	return func(ctx context.Context) error {
		type result struct {
			r   *Recording
			err error
		}
		results := make(chan result)
		running := map[int64]bool{}
		holds := map[int64]*hold{} // of the running steps, with exclusive
		attempts := map[int64]int{}
		notBefore := map[int64]time.Time{}
		defer func() {
			for range running {
				// Let the steps see ctx is done and return, and free what
				// they held: the Agent may run again.
				res := <-results
				if h := holds[res.r.ID]; h != nil {
					h.release()
				}
			}
		}()
		// room reports whether another step may start: fewer than workers
		// hold their resource (or run, without one), and fewer than
		// workers+linger run in all.
		room := func() bool {
			if s.exclusive == nil {
				return len(running) < s.workers
			}
			holding := 0
			for _, h := range holds {
				if !h.done.Load() {
					holding++
				}
			}
			return holding < s.workers && len(running) < s.workers+s.linger
		}
		for {
			// Start what may start now.
			var nextRetry time.Time
			if room() {
				// Without a per-recorder limit, enough candidates to fill
				// every free slot even if the running steps' recordings and
				// those waiting out a retry (the oldest, often) come first;
				// with one, a busy recorder's files must not hide the other
				// recorders'. Asking for no more keeps a step's turn cheap
				// when thousands of recordings wait.
				f := RecordingFilter{States: s.states}
				if s.exclusive == nil {
					f.Limit = s.workers + len(notBefore)
				}
				recs, err := a.State.FindRecordings(ctx, f)
				if err != nil {
					return err
				}
				for _, r := range recs {
					if !room() {
						break
					}
					if running[r.ID] {
						continue
					}
					if t, ok := notBefore[r.ID]; ok && time.Now().Before(t) {
						if nextRetry.IsZero() || t.Before(nextRetry) {
							nextRetry = t
						}
						continue
					}
					release := func() {}
					if s.exclusive != nil {
						name := s.exclusive(r)
						if !a.busy.take(name) {
							continue
						}
						h := &hold{name: name, busy: &a.busy}
						holds[r.ID] = h
						release = func() {
							if h.release() {
								a.wakeAll() // this stage may start another step, or another stage use it
							}
						}
					}
					running[r.ID] = true
					if s.holdingStep != nil {
						go func() { results <- result{r, s.holdingStep(ctx, r, release)} }()
					} else {
						go func() { results <- result{r, s.step(ctx, r)} }()
					}
				}
			}

			if s.untilIdle && len(running) == 0 && nextRetry.IsZero() {
				return nil
			}
			var retryAt <-chan time.Time
			if !nextRetry.IsZero() {
				retryAt = time.After(time.Until(nextRetry))
			}
			select {
			case <-ctx.Done():
				return nil
			case <-s.wake:
			case <-retryAt:
			case res := <-results:
				r := res.r
				delete(running, r.ID)
				if h := holds[r.ID]; h != nil {
					delete(holds, r.ID)
					h.release()
					a.wakeAll() // another stage may be waiting for this resource
				}
				if res.err == nil || ctx.Err() != nil {
					delete(attempts, r.ID)
					delete(notBefore, r.ID)
					continue
				}
				if s.retry(res.err) {
					attempts[r.ID]++
					backoff := min(time.Second<<min(attempts[r.ID]-1, 6), maxBackoff)
					notBefore[r.ID] = time.Now().Add(backoff)
					a.Logger.Warn("will retry", "file", r.FileName, "state", r.State, "in", backoff, "err", res.err)
					r.ErrorCode, r.Error = noteOf(s.name, res.err), res.err.Error()
					a.counters.problem(s.name, "retry", res.err)
				} else {
					delete(attempts, r.ID)
					delete(notBefore, r.ID) // it leaves the stage's states
					a.Logger.Error("recording failed", "file", r.FileName, "state", r.State, "err", res.err)
					r.State, r.ErrorCode, r.Error = StateFailed, noteOf(s.name, res.err), res.err.Error()
					a.counters.problem(s.name, "failed", res.err)
				}
				if err := a.State.UpdateRecording(ctx, r); err != nil {
					return err
				}
			}
		}
	}
}

// resources are names that only one step at a time may hold.
type resources struct {
	mu   sync.Mutex
	held map[string]bool
}

// take holds name and returns true, or returns false if it is held.
func (r *resources) take(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held[name] {
		return false
	}
	if r.held == nil {
		r.held = map[string]bool{}
	}
	r.held[name] = true
	return true
}

func (r *resources) release(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.held, name)
}
