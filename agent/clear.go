package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"evidock"
)

// volumePresent reports whether a recorder's volume is still mounted there.
func volumePresent(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// spoolMarker marks a volume the dock pulled over serial (see
// evidock/agent/bridge.SpoolMarker).
const spoolMarker = ".evidock-spool"

// ClearPolicy says when a recording is deleted from its recorder.
type ClearPolicy string

// Clear policies. The zero value is ClearAfterRegistered.
const (
	ClearAfterRegistered ClearPolicy = "registered" // once provably safe
	ClearNever           ClearPolicy = "never"      // leave recorders as they are
)

// clear deletes a registered recording from its recorder, but only when
//
//  1. the staged copy's BLAKE3 equals the BLAKE3 of the read from the
//     recorder (r.Digest was computed on that read, and upload re-hashed the
//     staged copy against it),
//  2. the object store holds the object with r's size and digest, checked
//     again now,
//  3. the case server's receipt is in hand, and
//  4. a second read of the recorder's file gives the same BLAKE3, unless
//     SkipSourceReverify is set: a flaky USB read must not clear a recorder.
//
// Only that one verified file is deleted; a recorder is never formatted.
// A second read that differs keeps the file on the recorder, with an alarm.
func (a *Agent) clear(ctx context.Context, r *Recording) error {
	if a.ClearAfter == ClearNever {
		return a.transitionWhy(ctx, r, StateKept, NoteKeptByConfig, "clear_after is never: left on the recorder")
	}
	if r.State == StateRegistered {
		if r.ClipID == 0 || r.Receipt == "" {
			return noted(NoteNoReceipt, evidock.Errorf(evidock.EINTERNAL, "clear %s: no receipt from the case server", r.FileName))
		}
		if err := a.verifyStored(ctx, r); err != nil {
			return fmt.Errorf("clear %s: %w", r.FileName, err)
		}
		if !a.SkipSourceReverify {
			f, err := a.OpenVolume(r.Volume).Open(r.RelPath)
			if errors.Is(err, fs.ErrNotExist) && volumePresent(r.Volume) {
				// Gone from a recorder that is still here: deleted by us
				// before (a scan may have seen it just before), or on the
				// recorder. The footage is safe, and nothing is left to clear.
				return a.transitionWhy(ctx, r, StateCleared, NoteAlreadyCleared, "already gone from the recorder")
			}
			if err != nil {
				return noted(NoteClearUnplugged, fmt.Errorf("clear %s: second read (unplugged?): %w", r.FileName, err))
			}
			d, n, err := secondRead(f)
			f.Close()
			if err != nil {
				return noted(NoteClearRead, fmt.Errorf("clear %s: second read: %w", r.FileName, err))
			}
			if d != r.Digest || n != r.Size {
				a.Logger.Error("ALARM: recorder gave different bytes on a second read; not cleared",
					"file", r.FileName, "volume", r.Volume, "first", r.Digest, "second", d, "bytes", n)
				return a.transitionWhy(ctx, r, StateKept, NoteRereadMismatch, fmt.Sprintf(
					"ALARM: second read gave %d bytes with blake3 %s, first read %d bytes with %s: not cleared; check the recorder and its cable",
					n, d, r.Size, r.Digest))
			}
		}
		if err := a.transition(ctx, r, StateVerified); err != nil {
			return err
		}
	}
	// Verified: delete. A volume pulled over serial is the dock's own
	// copy: deleting it does not clear the recorder, so say so.
	if _, err := os.Stat(filepath.Join(r.Volume, spoolMarker)); err == nil {
		if err := os.Remove(filepath.Join(r.Volume, filepath.FromSlash(r.RelPath))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return noted(NoteClearFailed, fmt.Errorf("clear %s: %w", r.FileName, err))
		}
		return a.transitionWhy(ctx, r, StateKept, NoteKeptSerial, "pulled over serial: safe; the recorder keeps its copy (the serial protocol cannot delete)")
	}
	// A file already gone from a volume that is still
	// there was deleted by us before a crash; a volume that is gone was
	// unplugged, and the recording is cleared at its next dock.
	if !volumePresent(r.Volume) {
		return noted(NoteClearUnplugged, fmt.Errorf("clear %s: recorder unplugged before it was cleared", r.FileName))
	}
	err := os.Remove(filepath.Join(r.Volume, filepath.FromSlash(r.RelPath)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return noted(NoteClearFailed, fmt.Errorf("clear %s: %w", r.FileName, err))
	}
	a.Logger.Info("cleared from recorder", "file", r.FileName, "volume", r.Volume, "clip", r.ClipID)
	return a.transition(ctx, r, StateCleared)
}
