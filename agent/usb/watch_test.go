package usb

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func cand(ident string) candidate {
	return candidate{ident: ident}
}

func TestDebouncer(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d := newDebouncer(2 * time.Second)
	report := func(now time.Time) []string {
		ready, _ := d.due(now)
		var mps []string
		for _, s := range ready {
			d.report(s, Volume{MountPoint: s.mountPoint, Device: s.ident})
			mps = append(mps, s.mountPoint)
		}
		return mps
	}
	gone := func(now time.Time, present map[string]candidate) []string {
		var mps []string
		for _, v := range d.observe(now, present) {
			mps = append(mps, v.MountPoint+"="+v.Device)
		}
		return mps
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %q, want %q", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: %q, want %q", what, got, want)
			}
		}
	}

	check("gone", gone(at(0), map[string]candidate{"/m/a": cand("1"), "/m/flaky": cand("2")}))
	check("due at once", report(at(0)))
	if _, next := d.due(at(0)); !next.Equal(at(2000)) {
		t.Fatalf("next = %v, want %v", next, at(2000))
	}
	// flaky goes before it settles: never reported, never reported gone.
	check("gone", gone(at(1000), map[string]candidate{"/m/a": cand("1")}))
	check("due before settle", report(at(1999)))
	check("due at settle", report(at(2000)), "/m/a")
	check("due again", report(at(5000)))
	if _, next := d.due(at(5000)); !next.IsZero() {
		t.Fatalf("next = %v with nothing pending", next)
	}
	// Remounted with another device at the same point between two scans:
	// the old one goes, the new one settles afresh.
	check("gone on remount", gone(at(6000), map[string]candidate{"/m/a": cand("3"), "/m/b": cand("4")}), "/m/a=1")
	check("gone on remount, again", gone(at(6500), map[string]candidate{"/m/a": cand("3"), "/m/b": cand("4")}))
	check("due", report(at(8000)), "/m/a", "/m/b")
	// A pending mount whose identity changes starts over.
	check("gone", gone(at(9000), map[string]candidate{"/m/a": cand("3"), "/m/b": cand("4"), "/m/c": cand("5")}))
	check("gone", gone(at(10000), map[string]candidate{"/m/a": cand("3"), "/m/b": cand("4"), "/m/c": cand("6")}))
	check("due", report(at(11500)))
	check("due", report(at(12000)), "/m/c")
	// Unplugged: each reported once.
	check("gone", gone(at(13000), nil), "/m/a=3", "/m/b=4", "/m/c=6")
	check("gone", gone(at(14000), nil))
}

func TestUnder(t *testing.T) {
	roots := []string{filepath.FromSlash("/media"), filepath.FromSlash("/run/media/")}
	for mp, want := range map[string]bool{
		"/media":                 false, // the root itself is no volume
		"/media/":                false,
		"/media/REC":             true,
		"/media/evidock/REC 1":   true,
		"/mediax/REC":            false,
		"/run/media/officer/REC": true,
		"/run/media":             false,
		"/mnt/REC":               false,
	} {
		if got := under(roots, filepath.FromSlash(mp)); got != want {
			t.Errorf("under(%q) = %v, want %v", mp, got, want)
		}
	}
}

// fakeTable is a mount table that a test changes, waking the loop as the
// kernel would.
type fakeTable struct {
	mu      sync.Mutex
	present map[string]candidate
	wake    chan struct{}
}

func (f *fakeTable) set(present map[string]candidate) {
	f.mu.Lock()
	f.present = present
	f.mu.Unlock()
	notify(f.wake)
}

func (f *fakeTable) scan() (map[string]candidate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]candidate{}
	for k, v := range f.present {
		m[k] = v
	}
	return m, nil
}

func TestLoop(t *testing.T) {
	vol := func(mp string) candidate {
		return candidate{ident: mp, resolve: func() Volume { return Volume{MountPoint: mp} }}
	}
	tab := &fakeTable{wake: make(chan struct{}, 1)}
	tab.set(map[string]candidate{"/media/old": vol("/media/old")}) // there before Run
	w := &Watcher{Settle: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event)
	done := make(chan error, 1)
	go func() { done <- w.loop(ctx, events, tab.wake, nil, tab.scan) }()
	next := func() Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
		}
		panic("unreachable")
	}
	if ev := next(); ev.Kind != Mounted || ev.Volume.MountPoint != "/media/old" {
		t.Fatalf("got %v %v, want mounted /media/old", ev.Kind, ev.Volume)
	}
	tab.set(map[string]candidate{"/media/old": vol("/media/old"), "/media/new": vol("/media/new")})
	if ev := next(); ev.Kind != Mounted || ev.Volume.MountPoint != "/media/new" {
		t.Fatalf("got %v %v, want mounted /media/new", ev.Kind, ev.Volume)
	}
	tab.set(map[string]candidate{"/media/new": vol("/media/new")})
	if ev := next(); ev.Kind != Unmounted || ev.Volume.MountPoint != "/media/old" {
		t.Fatalf("got %v %v, want unmounted /media/old", ev.Kind, ev.Volume)
	}
	// Cancelled while an event waits to be taken: Run returns nil.
	tab.set(nil)
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("loop = %v, want nil on cancel", err)
	}
}
