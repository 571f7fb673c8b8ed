//go:build unix

package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

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
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var window []byte
	defer func() {
		if window != nil {
			unix.Munmap(window)
		}
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			mapped, err = true, fmt.Errorf("read %s at byte %d: a page could not be read (the file truncated, a recorder unplugged or a disk error)", f.Name(), total)
		}
	}()
	for off := int64(0); off < size; off += mapWindow {
		n := int(min(mapWindow, size-off))
		window, err = unix.Mmap(int(f.Fd()), off, n, unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			if off == 0 {
				return 0, false, nil // a filesystem that cannot map: read it
			}
			return total, true, fmt.Errorf("map %s at byte %d: %w", f.Name(), off, err)
		}
		_ = unix.Madvise(window, unix.MADV_SEQUENTIAL) // a hint: read ahead, drop behind
		for b := window; len(b) > 0; {
			k := min(len(b), evidock.ReadBufferSize)
			fn(b[:k])
			b, total = b[k:], total+int64(k)
		}
		err, window = unix.Munmap(window), nil
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
