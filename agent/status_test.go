package agent

import (
	"math"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// TestCopyETA drives one recorder's copy on a fake clock and checks the
// time until it may be unplugged, with known answers: bytes left to copy
// over the rate of reading in the last CopyRateWindow.
func TestCopyETA(t *testing.T) {
	const MB = 1_000_000
	clock := &fakeClock{t: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)}
	a := &Agent{}
	a.live.now = clock.now
	const vol = "/media/evidock/DSJ0001"
	recs := []*Recording{
		{ID: 1, FileName: "A.MP4", Size: 40 * MB, State: StateCleared},
		{ID: 2, FileName: "B.MP4", Size: 1120 * MB, State: StateCopying},
		{ID: 3, FileName: "C.MP4", Size: 200 * MB, State: StateDiscovered},
		{ID: 4, FileName: "BAD.MP4", Size: 7 * MB, State: StateRejected},
	}
	status := func() RecorderStatus { return a.recorderStatus(vol, recs) }
	check := func(what string, rs RecorderStatus, left int64, rate, eta float64) {
		t.Helper()
		if rs.CopyBytesLeft != left || !near(rs.CopyBytesPerSec, rate) || !near(rs.CopyETASeconds, eta) {
			t.Errorf("%s: copy left %d at %.0f B/s, ETA %.3f s; want %d at %.0f B/s, ETA %.3f s",
				what, rs.CopyBytesLeft, rs.CopyBytesPerSec, rs.CopyETASeconds, left, rate, eta)
		}
	}

	b := a.live.begin(2, StateCopying)
	check("copy just begun", status(), 1320*MB, 0, -1) // no rate yet: unknown, not "now"

	// 60 MB in 2 s: 30 MB/s, 1260 MB left: 42 s.
	clock.advance(2 * time.Second)
	b.done.Store(60 * MB)
	check("after 2 s", status(), 1260*MB, 30*MB, 42)

	// It slows to 10 MB/s, polled every second: once the fast start is out
	// of the window, the rate is the recent one, not the average.
	for range 20 {
		clock.advance(time.Second)
		b.done.Add(10 * MB)
	}
	// Polled only now: the base is the sample 20 s ago, the only one.
	check("polled after 20 s", status(), 1060*MB, 10*MB, 106)
	for range 20 {
		clock.advance(time.Second)
		b.done.Add(10 * MB)
		status()
	}
	check("after 20 more s", status(), 860*MB, 10*MB, 86)
	// Now 40 MB/s for 15 s, polled each second: the window holds only that.
	for range 15 {
		clock.advance(time.Second)
		b.done.Add(40 * MB)
		status()
	}
	check("at 40 MB/s", status(), 260*MB, 40*MB, 6.5)

	// B is staged; C has not started (between files): the rate holds.
	a.live.end(2)
	recs[1].State = StateStaged
	clock.advance(500 * time.Millisecond)
	rs := status()
	if rs.CopyBytesLeft != 200*MB || rs.CopyETASeconds <= 0 || rs.Phase != PhaseCopying {
		t.Errorf("between files: %d left, ETA %.1f, %s", rs.CopyBytesLeft, rs.CopyETASeconds, rs.Phase)
	}

	// C fails mid-copy: the count went back, the measure starts over, and
	// the copy in flight's own average stands in until it is a second old.
	recs[2].State = StateCopying
	c := a.live.begin(3, StateCopying)
	clock.advance(time.Second)
	c.done.Store(50 * MB)
	status()
	a.live.end(3)
	recs[2].State = StateDiscovered // requeued from the start
	c = a.live.begin(3, StateCopying)
	recs[2].State = StateCopying
	clock.advance(400 * time.Millisecond)
	c.done.Store(8 * MB) // 20 MB/s on its own
	check("after a restart", status(), 192*MB, 20*MB, 9.6)

	// All copied: safe to unplug now, whatever the rate.
	a.live.end(3)
	recs[2].State = StateStaged
	rs = status()
	check("all copied", rs, 0, rs.CopyBytesPerSec, 0)
	if !rs.SafeToUnplug || rs.Phase != PhaseUploading {
		t.Errorf("all copied: %s, safe %v", rs.Phase, rs.SafeToUnplug)
	}
	// A recorder that has gone loses its measure.
	a.live.keepMeters([]string{"/media/evidock/other"})
	if _, ok := a.live.meters[vol]; ok {
		t.Error("the meter of an undocked recorder is kept")
	}
}

// TestCopyRateWaitsForStart checks that a recorder that waits for a copy
// slot is not measured across the wait.
func TestCopyRateWaitsForStart(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)}
	l := &liveTransfers{now: clock.now}
	for range 30 { // waiting, polled each second
		if r, _ := l.copyRate("v", 0); r != 0 {
			t.Fatalf("rate while waiting: %v", r)
		}
		clock.advance(time.Second)
	}
	clock.advance(time.Second)
	if r, ok := l.copyRate("v", 25_000_000); !ok || !near(r, 12_500_000) {
		t.Errorf("first rate after the wait: %v %v, want 12.5 MB/s over the 2 s since the count last rested", r, ok)
	}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }
