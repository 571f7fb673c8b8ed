package e2e_test

import (
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"

	"evidock/agent"
)

// TestParallelDocks docks three recorders at once: they are read in
// parallel, but each one by one file at a time.
func TestParallelDocks(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	active := map[string]int{}
	maxPerVolume, maxTotal, total := 0, 0, 0
	e.agent.OpenVolume = func(dir string) fs.FS {
		return trackFS{FS: os.DirFS(dir), open: func(delta int) {
			mu.Lock()
			defer mu.Unlock()
			active[dir] += delta
			total += delta
			maxPerVolume = max(maxPerVolume, active[dir])
			maxTotal = max(maxTotal, total)
		}}
	}
	var n int
	for i := range 3 {
		n += len(e.dock(fmt.Sprintf("PAR%04d", i), shiftVolume(fmt.Sprintf("PAR%04d", i))))
	}
	e.start()
	for _, r := range e.waitSettled(n) {
		if r.State != agent.StateCleared {
			t.Errorf("%s: %s %q", r.FileName, r.State, r.Error)
		}
	}
	if maxPerVolume != 1 || maxTotal < 2 {
		t.Errorf("at most %d reads at once on one recorder (want 1), %d in all (want 2 or more)", maxPerVolume, maxTotal)
	}
}

// trackFS reports each file open and close, and slows reads a little so
// that copies overlap as they do on real USB.
type trackFS struct {
	fs.FS
	open  func(delta int)
	delay time.Duration // per read; a millisecond when zero
}

func (t trackFS) Open(name string) (fs.File, error) {
	f, err := t.FS.Open(name)
	if err != nil {
		return f, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return f, nil
	}
	t.open(1)
	return &trackFile{File: f, done: func() { t.open(-1) }, delay: max(t.delay, time.Millisecond)}, nil
}

type trackFile struct {
	fs.File
	done  func()
	once  sync.Once
	delay time.Duration
}

func (f *trackFile) Read(p []byte) (int, error) {
	time.Sleep(f.delay)
	return f.File.Read(p)
}

func (f *trackFile) Close() error {
	f.once.Do(f.done)
	return f.File.Close()
}

// TestRestartMidCopy stops the agent while it is copying and runs it again:
// the recorder is not left marked busy, and everything goes through.
func TestRestartMidCopy(t *testing.T) {
	e := newEnv(t)
	e.agent.OpenVolume = func(dir string) fs.FS {
		return trackFS{FS: os.DirFS(dir), open: func(int) {}, delay: 30 * time.Millisecond}
	}
	files := e.dock("RST0001", shiftVolume("RST0001"))
	e.start()
	e.waitFor("a copy under way", func(recs []*agent.Recording) bool {
		for _, r := range recs {
			if r.State == agent.StateCopying {
				return true
			}
		}
		return false
	})
	e.stop()
	e.start()
	for _, r := range e.waitSettled(len(files)) {
		if r.State != agent.StateCleared {
			t.Errorf("%s: %s %q", r.FileName, r.State, r.Error)
		}
	}
}
