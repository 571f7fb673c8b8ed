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
	open func(delta int)
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
	return &trackFile{File: f, done: func() { t.open(-1) }}, nil
}

type trackFile struct {
	fs.File
	done func()
	once sync.Once
}

func (f *trackFile) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return f.File.Read(p)
}

func (f *trackFile) Close() error {
	f.once.Do(f.done)
	return f.File.Close()
}
