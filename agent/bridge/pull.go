package bridge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"evidock/firmware-bridge/protocol"
)

// SpoolMarker is a file at the root of a volume that the dock pulled over
// serial: the agent's copy of a recorder without mass storage. Clearing
// such a volume removes only the dock's copy; the recorder keeps its files
// (the protocol has no delete), and loop recording overwrites them later.
const SpoolMarker = ".evidock-spool"

// pull downloads every finished recording of the recorder into
// SpoolDir/<serial>/DCIM/, resuming a partial download from where the last
// dock left it, and returns that volume's directory. Each chunk is checked
// with its CRC-32 and each file's size against the listing, so no bad byte
// reaches the pipeline; a file that fails keeps its verified part for the
// next dock, and the error names it.
func (d *Dock) pull(ctx context.Context, c *protocol.Client, serial string, entries []protocol.Entry) (string, error) {
	vol := filepath.Join(d.SpoolDir, serial)
	media := filepath.Join(vol, "DCIM")
	if err := os.MkdirAll(media, 0o750); err != nil {
		return "", fmt.Errorf("spool %s: %w", serial, err)
	}
	if err := os.WriteFile(filepath.Join(vol, SpoolMarker), []byte("pulled over serial by evidock-agent\n"), 0o640); err != nil {
		return "", fmt.Errorf("spool %s: %w", serial, err)
	}
	var failed []error
	for _, e := range entries {
		if e.InProgress() {
			continue // the recorder is still writing it; next dock
		}
		if err := d.pullOne(ctx, c, media, e); err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			failed = append(failed, err)
			if errors.Is(err, protocol.ErrTimeout) {
				break // the recorder stopped answering: no use asking for the rest
			}
		}
	}
	if len(failed) > 0 {
		return vol, fmt.Errorf("pull from %s: %d of %d recordings failed (their verified parts are kept for the next dock): %w",
			serial, len(failed), len(entries), errors.Join(failed...))
	}
	return vol, nil
}

func (d *Dock) pullOne(ctx context.Context, c *protocol.Client, dir string, e protocol.Entry) error {
	final := filepath.Join(dir, filepath.Base(e.Name))
	if fi, err := os.Stat(final); err == nil && fi.Size() == e.Size {
		return nil // pulled at an earlier dock
	}
	partial := final + ".partial"
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	resume := min(fi.Size(), e.Size)
	n, err := c.Download(ctx, e.Name, f, resume, nil)
	if err != nil {
		// Keep only what was verified, so the next dock resumes there.
		_ = f.Truncate(n)
		_ = f.Sync()
		return fmt.Errorf("%s: %w (resumes at byte %d)", e.Name, err, n)
	}
	if n != e.Size {
		return fmt.Errorf("%s: got %d bytes, listed %d", e.Name, n, e.Size)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(partial, final)
}

// IsSpool reports whether the volume at dir was pulled over serial.
func IsSpool(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, SpoolMarker))
	return !errors.Is(err, fs.ErrNotExist)
}
