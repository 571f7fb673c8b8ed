package agent

import (
	"sync"
	"sync/atomic"
	"time"
)

// liveTransfers tracks the bytes moved by copies and uploads in flight, so
// that the dock screen can show progress, speed and time left.
type liveTransfers struct {
	mu sync.Mutex
	m  map[int64]*transfer // by recording ID
}

// transfer is one copy or upload in flight.
type transfer struct {
	phase   State // StateCopying or StateUploading
	done    atomic.Int64
	started time.Time
}

// begin starts tracking a transfer of recording id; the caller adds to the
// returned counter as bytes move and calls end when done.
func (l *liveTransfers) begin(id int64, phase State) *transfer {
	t := &transfer{phase: phase, started: time.Now()}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[int64]*transfer{}
	}
	l.m[id] = t
	return t
}

func (l *liveTransfers) end(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, id)
}

func (l *liveTransfers) get(id int64) *transfer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[id]
}

// rate returns the transfer's average speed in bytes per second.
func (t *transfer) rate() float64 {
	secs := time.Since(t.started).Seconds()
	if secs < 0.2 {
		return 0 // too early to say
	}
	return float64(t.done.Load()) / secs
}

// alarmSet holds the conditions an officer or administrator must see now,
// by kind, each with its message.
type alarmSet struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *alarmSet) set(kind, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[kind] = msg
}

func (s *alarmSet) clear(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, kind)
}

func (s *alarmSet) list() []Alarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Alarm
	for k, m := range s.m {
		out = append(out, Alarm{Kind: k, Message: m})
	}
	return out
}
