//go:build unix

package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"evidock"
)

// mapWindow is how much of a file readMapped maps at a time: a large
// recording's pages are not all mapped (and counted in the agent's RSS)
// at once. A multiple of the page size on every platform.
const mapWindow = 64 << 20

// readMapped calls fn with f's bytes from its start, in chunks of at most
// evidock.ReadBufferSize, straight from a read-only memory mapping of the
// file, as b3sum reads: the bytes are not copied out of the page cache
// first, which costs nearly as much as hashing them. mapped is false, with
// nothing passed to fn, when f cannot be mapped (not a regular file, or
// empty); the caller then reads it.
//
// A file of more than one window has its pages mapped ahead of fn by a
// second goroutine (see prefaulter), so that fn neither faults on them nor
// waits for a disk or a recorder that the prefaulter is already waiting on.
//
// A page that cannot be read (the file truncated meanwhile, a recorder
// unplugged, a disk error) faults; the fault comes back as an error, not a
// crash (debug.SetPanicOnFault), so fn must run on this goroutine and keep
// no chunk. A file that grew while it was read is an error too, so that
// total is never short of the file without saying so.
func readMapped(f *os.File, fn func([]byte)) (total int64, mapped bool, err error) {
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || info.Size() == 0 {
		return 0, false, nil
	}
	size := info.Size()
	mapAt := func(off int64) ([]byte, error) {
		w, err := unix.Mmap(int(f.Fd()), off, int(min(mapWindow, size-off)), unix.PROT_READ, unix.MAP_SHARED)
		if err == nil {
			_ = unix.Madvise(w, unix.MADV_SEQUENTIAL) // a hint: read ahead, drop behind
		}
		return w, err
	}
	window, err := mapAt(0)
	if err != nil {
		return 0, false, nil // a filesystem that cannot map: read it
	}
	var next []byte // mapped ahead of window
	var ahead *prefaulter
	if size > mapWindow {
		ahead = newPrefaulter()
		ahead.add(window)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		ahead.close() // no goroutine outlives the call
		for _, w := range [][]byte{window, next} {
			if w != nil {
				unix.Munmap(w)
			}
		}
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			mapped, err = true, fmt.Errorf("read %s after %d bytes: a page could not be read (the file truncated, a recorder unplugged or a disk error)", f.Name(), total)
		}
	}()
	for off := int64(0); off < size; off += mapWindow {
		if off+mapWindow < size {
			if next, err = mapAt(off + mapWindow); err != nil {
				return total, true, fmt.Errorf("map %s at byte %d: %w", f.Name(), off+mapWindow, err)
			}
			ahead.add(next)
		}
		for b := window; len(b) > 0; {
			k := min(len(b), evidock.ReadBufferSize)
			fn(b[:k])
			b, total = b[k:], total+int64(k)
		}
		err, window, next = unix.Munmap(window), next, nil
		if err != nil {
			return total, true, fmt.Errorf("unmap %s: %w", f.Name(), err)
		}
	}
	if _, err := f.ReadAt(make([]byte, 1), size); !errors.Is(err, io.EOF) {
		if err == nil {
			err = fmt.Errorf("read %s: it grew past %d bytes while it was read", f.Name(), size)
		}
		return total, true, err
	}
	return total, true, nil
}

// prefaulter maps the pages of mapped windows into the page table from a
// goroutine of its own, a step at a time, in the order the windows were
// added. On a file in the page cache that takes the page faults off the
// reader (about a tenth of hashing's time); on a file that is not, the
// prefaulter waits for the disk while the reader hashes what came before.
// A page that cannot be read ends its window quietly: the reader then
// faults on that page itself, and says so.
type prefaulter struct {
	windows chan []byte
	stop    atomic.Bool
	done    sync.WaitGroup
}

// prefaultStep bounds what close may wait for: one step of a slow
// recorder.
const prefaultStep = 4 << 20

func newPrefaulter() *prefaulter {
	p := &prefaulter{windows: make(chan []byte, 2)}
	p.done.Go(func() {
		for w := range p.windows {
			for len(w) > 0 && !p.stop.Load() {
				k := min(len(w), prefaultStep)
				if prefault(w[:k]) != nil {
					break // a bad page, or the reader passed us and unmapped the window
				}
				w = w[k:]
			}
		}
	})
	return p
}

// add queues window; the caller has at most two windows mapped.
func (p *prefaulter) add(window []byte) {
	if p != nil {
		p.windows <- window
	}
}

// close stops the prefaulter and waits for it.
func (p *prefaulter) close() {
	if p != nil {
		p.stop.Store(true)
		close(p.windows)
		p.done.Wait()
	}
}
