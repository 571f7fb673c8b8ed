package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"evidock"
	"evidock/internal/durable"
)

// copyChunk is the read size from a recorder: large enough for USB mass
// storage to stream, small enough to check for cancellation often; the
// buffers come from evidock.ReadBuffers.
// copyBuffers chunks may be in flight between reading, hashing and writing.
const (
	copyChunk      = evidock.ReadBufferSize
	copyBuffers    = 4
	writebackEvery = 8 << 20
)

// ingestStage is the ingest's scheduling. One read at a time per recorder
// (a USB disk reads fastest sequentially), MaxCopies recorders read at once;
// a copy's fsync, rename and directory fsync go on while its recorder's
// next file is read, up to MaxCopies of them. A full staging disk is waited
// out; any other failure fails the recording, which starts over when its
// recorder is docked again.
func (a *Agent) ingestStage() stage {
	return stage{name: "ingest", wake: a.ingestWake, states: []State{StateCopying, StateDiscovered}, holdingStep: a.ingest,
		retry: isStagingFull, workers: a.MaxCopies, linger: a.MaxCopies, exclusive: func(r *Recording) string { return r.Volume }}
}

// IngestQueued runs the ingest alone, as Run does, until no recording is
// left to copy, and returns; the recordings are left staged or failed (see
// ScanVolume to queue a recorder's). It is exported for benchmarks, to
// measure the copy of a recorder without the rest of the pipeline. It
// returns ctx's error if ctx ends first, and the state store's errors.
func (a *Agent) IngestQueued(ctx context.Context) error {
	a.init()
	s := a.ingestStage()
	s.untilIdle = true
	if err := a.stage(s)(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// ingest copies r from its recorder into staging and hashes it in the same
// pass. The copy is written under a temporary name, fsynced, renamed and the
// directory fsynced before the recording is marked staged, so a staged
// recording's bytes are on disk whatever happens next. It calls release
// once the recorder's file is read and closed: the recorder's next file may
// be read while this one is fsynced.
func (a *Agent) ingest(ctx context.Context, r *Recording, release func()) error {
	final := filepath.Join(a.StagingDir, strconv.FormatInt(r.ID, 10)+"_"+r.FileName)
	partial := final + ".partial"
	if err := a.checkStagingSpace(ctx, r); err != nil {
		return err
	}
	// A recording left in copying by a crash restarts its copy from zero.
	if err := a.transition(ctx, r, StateCopying); err != nil {
		return err
	}
	src, err := a.OpenVolume(r.Volume).Open(r.RelPath)
	if err != nil {
		return noted(NoteRecorderUnplugged, fmt.Errorf("open %s on recorder %s (unplugged?): %w", r.RelPath, r.Volume, err))
	}
	var closeOnce sync.Once
	readDone := func() {
		closeOnce.Do(func() {
			src.Close()
			release()
		})
	}
	defer readDone()
	start := time.Now()
	t := a.live.begin(r.ID, StateCopying)
	defer a.live.end(r.ID)
	digest, err := copyAndHash(ctx, src, partial, r.Size, &t.done, readDone)
	if err != nil {
		os.Remove(partial)
		if isDiskFull(err) {
			return a.stagingFull(fmt.Sprintf("disk filled up while copying %s", r.FileName))
		}
		return fmt.Errorf("copy %s from recorder %s: %w", r.RelPath, r.Volume, err)
	}
	if err := os.Rename(partial, final); err != nil {
		os.Remove(partial)
		return noted(NoteStagingWrite, fmt.Errorf("stage %s: %w", r.FileName, err))
	}
	if err := durable.SyncDir(a.StagingDir); err != nil {
		return noted(NoteStagingWrite, fmt.Errorf("stage %s: %w", r.FileName, err))
	}
	r.Digest, r.StagedPath, r.IngestedAt = digest, final, time.Now()
	a.counters.copied.Add(r.Size)
	a.Logger.Info("staged", "file", r.FileName, "bytes", r.Size, "blake3", digest, "took", time.Since(start).Round(time.Millisecond))
	return a.transition(ctx, r, StateStaged)
}

// errStagingFull means the staging disk has no room for the next recording:
// ingest waits, with an alarm, instead of failing or corrupting anything.
var errStagingFull = errors.New("staging disk nearly full")

// checkStagingSpace returns errStagingFull unless the staging disk can take
// r and still keep StagingReserve free; safe staged copies are pruned first.
// The alarm stays up while any recording waits for room.
func (a *Agent) checkStagingSpace(ctx context.Context, r *Recording) error {
	free, err := freeSpace(a.StagingDir)
	if err == nil && free-r.Size < a.StagingReserve {
		if err := a.pruneStaging(ctx); err != nil {
			return err
		}
		free, err = freeSpace(a.StagingDir)
	}
	if err != nil {
		return noted(NoteStagingWrite, fmt.Errorf("staging free space: %w", err))
	}
	a.waitingMu.Lock()
	defer a.waitingMu.Unlock()
	if a.waitingRoom == nil {
		a.waitingRoom = map[int64]bool{}
	}
	if free-r.Size >= a.StagingReserve {
		delete(a.waitingRoom, r.ID)
		if len(a.waitingRoom) == 0 {
			a.alarms.clear(AlarmStagingFull)
		}
		return nil
	}
	a.waitingRoom[r.ID] = true
	return a.stagingFull(fmt.Sprintf("%d MiB free, %d MiB needed plus a %d MiB reserve", free>>20, r.Size>>20, a.StagingReserve>>20))
}

func (a *Agent) stagingFull(detail string) error {
	a.Logger.Error("ALARM: staging disk nearly full; recordings wait until there is room", "staging_dir", a.StagingDir, "detail", detail)
	err := fmt.Errorf("%w (%s): waiting for room; the recorder keeps it", errStagingFull, detail)
	a.alarms.set(AlarmStagingFull, err.Error())
	return err
}

// errSizeChanged means the recorder gave fewer or more bytes than it listed.
var errSizeChanged = errors.New("recording changed size while being copied")

// CopyAndHash is the agent's one-pass ingest of a recording: it writes src
// to a new file at dst, hashing the bytes as they pass, and fsyncs it. It is
// exported for benchmarks; it returns an error unless exactly size bytes
// were read.
func CopyAndHash(ctx context.Context, src io.Reader, dst string, size int64) (evidock.Digest, error) {
	var copied atomic.Int64
	return copyAndHash(ctx, src, dst, size, &copied, nil)
}

// copyAndHash writes src to a new file at dst, computing BLAKE3 of the bytes
// as they pass, and fsyncs it; copied counts the bytes written. readDone, if
// not nil, is called as soon as src has been read for the last time (to its
// end, or up to an error), before the copy is written out and fsynced, so
// that the recorder may serve its next read meanwhile. It returns
// errSizeChanged unless exactly want bytes were read, and stops with ctx's
// error when ctx is done. Its other errors are noted as the recorder's
// (NoteRecorderRead) or the staging disk's (NoteStagingWrite).
func copyAndHash(ctx context.Context, src io.Reader, dst string, want int64, copied *atomic.Int64, readDone func()) (evidock.Digest, error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return evidock.Digest{}, noted(NoteStagingWrite, err)
	}
	defer f.Close()

	// Hashing and writing run beside each other on each chunk as it is
	// read, so that the hash hides behind the disk write; a chunk's buffer
	// goes back to the pool when both are done with it.
	free := make(chan []byte, copyBuffers)
	for range copyBuffers {
		free <- *evidock.ReadBuffers.Get().(*[]byte)
	}
	type piece struct {
		b    []byte
		refs *atomic.Int32
	}
	release := func(p piece) {
		if p.refs.Add(-1) == 0 {
			free <- p.b[:cap(p.b)]
		}
	}
	toHash, toWrite := make(chan piece, copyBuffers), make(chan piece, copyBuffers)
	h := evidock.NewHasher()
	var werr atomic.Value // the first write error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for p := range toHash {
			h.Write(p.b)
			release(p)
		}
	}()
	go func() {
		defer wg.Done()
		var off, flushed int64
		for p := range toWrite {
			if werr.Load() == nil {
				if _, err := f.Write(p.b); err != nil {
					werr.Store(err)
				}
				off += int64(len(p.b))
				copied.Add(int64(len(p.b)))
				// Start writing back what is written so far, so that the
				// final fsync does not wait for the whole file.
				if off-flushed >= writebackEvery {
					startWriteback(f, flushed, off-flushed)
					flushed = off
				}
			}
			release(p)
		}
	}()

	var n int64
	var readErr error
	for {
		if err := ctx.Err(); err != nil {
			readErr = err
			break
		}
		if werr.Load() != nil {
			break
		}
		buf := <-free
		m, rerr := io.ReadFull(src, buf)
		if m > 0 {
			p := piece{b: buf[:m], refs: new(atomic.Int32)}
			p.refs.Store(2)
			toHash <- p
			toWrite <- p
			n += int64(m)
		} else {
			free <- buf
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			readErr = noted(NoteRecorderRead, fmt.Errorf("read after %d bytes: %w", n, rerr))
			break
		}
	}
	if readDone != nil {
		readDone()
	}
	close(toHash)
	close(toWrite)
	wg.Wait()
	// Every buffer is back in free now that both goroutines are done; the
	// next copy may use them while this one is fsynced.
	close(free)
	for b := range free {
		evidock.ReadBuffers.Put(&b)
	}
	switch {
	case readErr != nil:
		return evidock.Digest{}, readErr
	case werr.Load() != nil:
		return evidock.Digest{}, noted(NoteStagingWrite, werr.Load().(error))
	case n != want:
		return evidock.Digest{}, fmt.Errorf("%w: listed %d bytes, read %d", errSizeChanged, want, n)
	}
	if err := f.Sync(); err != nil {
		return evidock.Digest{}, noted(NoteStagingWrite, err)
	}
	return h.Digest(), noted(NoteStagingWrite, f.Close())
}
