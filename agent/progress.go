package agent

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// liveTransfers tracks the bytes moved by copies and uploads in flight, so
// that the dock screen can show progress, speed and time left.
type liveTransfers struct {
	now    func() time.Time // the clock; time.Now when nil (tests set a fake one)
	mu     sync.Mutex
	m      map[int64]*transfer   // by recording ID
	meters map[string]*rateMeter // recent copy rate, by recorder volume
}

func (l *liveTransfers) clock() func() time.Time {
	if l.now == nil {
		return time.Now
	}
	return l.now
}

// transfer is one copy or upload in flight.
type transfer struct {
	phase   State // StateCopying or StateUploading
	done    atomic.Int64
	started time.Time
	now     func() time.Time
}

// begin starts tracking a transfer of recording id; the caller adds to the
// returned counter as bytes move and calls end when done.
func (l *liveTransfers) begin(id int64, phase State) *transfer {
	now := l.clock()
	t := &transfer{phase: phase, started: now(), now: now}
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
	secs := t.now().Sub(t.started).Seconds()
	if secs < 0.2 {
		return 0 // too early to say
	}
	return float64(t.done.Load()) / secs
}

// CopyRateWindow is how far back the dock looks to measure how fast a
// recorder is being read: long enough to even out a USB stick's bursts,
// short enough that the time left follows a slower file or a busier disk.
const CopyRateWindow = 15 * time.Second

// copyRate notes that copied bytes have been read off the recorder at
// volume so far and returns the rate of reading over about the last
// CopyRateWindow. ok is false until there is a measure at least a second
// long; copied going down (a copy failed and starts over) starts the
// measure over.
func (l *liveTransfers) copyRate(volume string, copied int64) (rate float64, ok bool) {
	now := l.clock()()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.meters == nil {
		l.meters = map[string]*rateMeter{}
	}
	m := l.meters[volume]
	if m == nil {
		m = &rateMeter{}
		l.meters[volume] = m
	}
	return m.observe(now, copied)
}

// keepMeters forgets the copy rates of volumes not in docked.
func (l *liveTransfers) keepMeters(docked []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for v := range l.meters {
		if !slices.Contains(docked, v) {
			delete(l.meters, v)
		}
	}
}

// rateMeter measures how fast a count grows from samples of it taken when
// someone asks (the dock screen asks every second).
type rateMeter struct {
	samples []rateSample // oldest first; the first is the base of the measure
}

type rateSample struct {
	at time.Time
	n  int64
}

// Samples closer together than this are not all kept: the answer depends
// only on the base, and this bounds the memory to window/step samples.
const rateSampleStep = 250 * time.Millisecond

// observe adds the sample n at now and returns the count's rate per second
// since the base: the newest sample at least CopyRateWindow old, else the
// oldest. While the count has not moved since the base, the base moves up
// to now, so that a copy that starts after a wait (for a free copy slot,
// for staging room) is not measured across the wait.
func (m *rateMeter) observe(now time.Time, n int64) (float64, bool) {
	if len(m.samples) > 0 && (n < m.samples[len(m.samples)-1].n || now.Before(m.samples[len(m.samples)-1].at)) {
		m.samples = m.samples[:0] // the count or the clock went back: start over
	}
	if len(m.samples) == 0 {
		m.samples = append(m.samples, rateSample{now, n})
		return 0, false
	}
	for len(m.samples) > 1 && !m.samples[1].at.After(now.Add(-CopyRateWindow)) {
		m.samples = m.samples[1:]
	}
	base := m.samples[0]
	span := now.Sub(base.at)
	rate, ok := 0.0, span >= time.Second
	if ok {
		rate = float64(n-base.n) / span.Seconds()
	}
	switch {
	case n == base.n:
		m.samples = append(m.samples[:0], rateSample{now, n})
	case now.Sub(m.samples[len(m.samples)-1].at) >= rateSampleStep:
		m.samples = append(m.samples, rateSample{now, n})
	}
	return rate, ok
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
		out = append(out, newAlarm(k, m))
	}
	return out
}
