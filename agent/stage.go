package agent

import (
	"context"
	"sync"
	"time"
)

// stage is one step of the pipeline and how it is scheduled.
type stage struct {
	name   string
	wake   chan struct{} // signalled when a recording may have entered states
	states []State       // the states step takes recordings from
	step   func(context.Context, *Recording) error
	// retry says whether a step error may pass by itself; the recording is
	// then tried again after a growing pause, else it is marked failed.
	retry   func(error) bool
	workers int // steps at once
	// exclusive, if set, names a resource (the recorder) that only one step,
	// of any stage, may use at a time.
	exclusive func(*Recording) string
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
		attempts := map[int64]int{}
		notBefore := map[int64]time.Time{}
		defer func() {
			for range running {
				// Let the steps see ctx is done and return, and free what
				// they held: the Agent may run again.
				if res := <-results; s.exclusive != nil {
					a.busy.release(s.exclusive(res.r))
				}
			}
		}()
		for {
			// Start what may start now.
			var nextRetry time.Time
			if len(running) < s.workers {
				// Without a per-recorder limit the first few candidates are
				// enough; with one, a busy recorder's files must not hide
				// the other recorders'.
				f := RecordingFilter{States: s.states}
				if s.exclusive == nil {
					f.Limit = 8 * s.workers
				}
				recs, err := a.State.FindRecordings(ctx, f)
				if err != nil {
					return err
				}
				for _, r := range recs {
					if len(running) == s.workers {
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
					if s.exclusive != nil && !a.busy.take(s.exclusive(r)) {
						continue
					}
					running[r.ID] = true
					go func() { results <- result{r, s.step(ctx, r)} }()
				}
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
				if s.exclusive != nil {
					a.busy.release(s.exclusive(r))
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
