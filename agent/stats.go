package agent

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"evidock"
)

// Stats is what the agent's metrics report.
type Stats struct {
	ByState       map[State]int // recordings per pending or failed state: the queue depth of each stage
	BytesCopied   int64         // off recorders, since start
	BytesUploaded int64         // to the object store, since start
	// Problems counts step errors since start by stage ("ingest",
	// "upload", "register", "clear"), outcome ("retry" or "failed") and
	// reason (an evidock error code, or "staging_full", "recorder").
	Problems map[Problem]int64
	// OldestUnregistered is the recording time of the oldest recording not
	// yet registered (zero if none): its 2-working-day deadline is nearest.
	OldestUnregistered time.Time
	StagingFreeBytes   int64
	Alarms             []Alarm
}

// Problem is a class of step error.
type Problem struct {
	Stage, Outcome, Reason string
}

// counters are the agent's running totals.
type counters struct {
	copied, uploaded atomic.Int64
	mu               sync.Mutex
	problems         map[Problem]int64
}

func (c *counters) problem(stage, outcome string, err error) {
	reason := evidock.ErrorCode(err)
	switch {
	case errors.Is(err, errStagingFull):
		reason = "staging_full"
	case stage == "ingest" && reason == evidock.EINTERNAL:
		reason = "recorder" // a read from the recorder failed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.problems == nil {
		c.problems = map[Problem]int64{}
	}
	c.problems[Problem{stage, outcome, reason}]++
}

// Stats returns the agent's current figures. It returns the state store's
// error.
func (a *Agent) Stats(ctx context.Context) (Stats, error) {
	a.init()
	recs, err := a.State.FindRecordings(ctx, RecordingFilter{States: []State{
		StateDiscovered, StateCopying, StateStaged, StateUploading, StateStored, StateRegistered, StateVerified, StateFailed}})
	if err != nil {
		return Stats{}, err
	}
	st := Stats{
		ByState:       map[State]int{},
		BytesCopied:   a.counters.copied.Load(),
		BytesUploaded: a.counters.uploaded.Load(),
		Problems:      map[Problem]int64{},
		Alarms:        a.alarms.list(),
	}
	for _, r := range recs {
		st.ByState[r.State]++
		if !r.State.Safe() && r.ClipID == 0 && (st.OldestUnregistered.IsZero() || r.StartedAt.Before(st.OldestUnregistered)) {
			st.OldestUnregistered = r.StartedAt
		}
	}
	a.counters.mu.Lock()
	for k, v := range a.counters.problems {
		st.Problems[k] = v
	}
	a.counters.mu.Unlock()
	if free, err := freeSpace(a.StagingDir); err == nil {
		st.StagingFreeBytes = free
	}
	return st, nil
}
