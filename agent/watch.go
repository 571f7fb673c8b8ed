package agent

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"evidock"
)

// watch scans every volume already under MountRoot, then every volume that
// appears there, once it has been quiet for Settle.
func (a *Agent) watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer w.Close()
	if err := w.Add(a.MountRoot); err != nil {
		return fmt.Errorf("watch mount root %s: %w", a.MountRoot, err)
	}
	a.Logger.Info("watching for recorders", "mount_root", a.MountRoot)

	// Debounce per volume: every event restarts that volume's timer.
	settled := make(chan string)
	timers := map[string]*time.Timer{}
	defer func() {
		for _, t := range timers {
			t.Stop()
		}
	}()
	touch := func(name string) {
		if t, ok := timers[name]; ok {
			t.Reset(a.Settle)
			return
		}
		timers[name] = time.AfterFunc(a.Settle, func() {
			select {
			case settled <- name:
			case <-ctx.Done():
			}
		})
	}
	entries, err := os.ReadDir(a.MountRoot)
	if err != nil {
		return fmt.Errorf("watch mount root %s: %w", a.MountRoot, err)
	}
	for _, e := range entries {
		if e.IsDir() && !hidden(e.Name()) {
			touch(e.Name())
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			return fmt.Errorf("watch mount root %s: %w", a.MountRoot, err)
		case ev := <-w.Events:
			name := filepath.Base(ev.Name)
			if hidden(name) {
				continue
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				if t, ok := timers[name]; ok {
					t.Stop()
					delete(timers, name)
				}
				a.Logger.Info("recorder volume gone", "volume", ev.Name)
				continue
			}
			touch(name)
		case name := <-settled:
			delete(timers, name)
			dir := filepath.Join(a.MountRoot, name)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				continue
			}
			if err := a.ScanVolume(ctx, dir); err != nil {
				if evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
					return err // the state store failed
				}
				a.Logger.Error("scan failed", "volume", dir, "err", err)
			}
		}
	}
}

// ScanVolume records every footage file on the recorder volume at dir and
// queues the new ones. Files with a footage extension but a name the recorder
// would not write, and empty files, are recorded as rejected with the reason.
// It returns an EUNAVAILABLE error if the volume cannot be read (unplugged),
// or the state store's error, which has no domain code.
func (a *Agent) ScanVolume(ctx context.Context, dir string) error {
	a.init()
	fsys := a.OpenVolume(dir)
	var found, queued, rejected int
	serials := map[string]bool{}
	var stateErr error
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && hidden(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !evidock.IsFootage(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		r := &Recording{Volume: dir, RelPath: p, FileName: path.Base(p), Size: fi.Size(), ModTime: fi.ModTime(), State: StateDiscovered}
		if name, err := evidock.ParseRecordingName(r.FileName); err != nil {
			r.State, r.Error = StateRejected, evidock.ErrorMessage(err)
		} else if r.Size == 0 {
			r.State, r.Error = StateRejected, fmt.Sprintf("%s is empty (0 bytes): nothing to ingest", p)
		} else {
			r.DeviceSerial, r.OfficerNo, r.StartedAt, r.Seq, r.Kind = name.DeviceSerial, name.OfficerNo, name.StartedAt, name.Seq, name.Kind
			serials[name.DeviceSerial] = true
		}
		found++
		added, err := a.State.AddRecording(ctx, r)
		if err != nil {
			stateErr = err
			return fs.SkipAll
		}
		switch {
		case added && r.State == StateRejected:
			rejected++
			a.Logger.Warn("recording rejected", "volume", dir, "file", p, "reason", r.Error)
		case added:
			queued++
		}
		return nil
	})
	if stateErr != nil {
		return stateErr
	}
	if err != nil {
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "scan %s: %v", dir, err)
	}
	a.Logger.Info("recorder docked", "volume", dir, "recorders", keys(serials), "files", found, "queued", queued, "rejected", rejected)
	// Requeued recordings may resume at any stage.
	for _, c := range []chan struct{}{a.ingestWake, a.uploadWake, a.registerWake, a.clearWake} {
		notify(c)
	}
	return nil
}

// hidden names are system files of the volume or our own temporaries.
func hidden(name string) bool {
	return strings.HasPrefix(name, ".") || strings.EqualFold(name, "System Volume Information") || strings.EqualFold(name, "$RECYCLE.BIN")
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
