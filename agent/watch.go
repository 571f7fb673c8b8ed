package agent

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"evidock"
	"evidock/agent/usb"
)

// watch runs the configured detection: real mounts with USB admission when
// Mounts is set, else directories under MountRoot.
func (a *Agent) watch(ctx context.Context) error {
	if a.Mounts != nil {
		return a.watchMounts(ctx)
	}
	return a.watchDirectories(ctx)
}

// watchMounts scans each volume the mount watcher reports, once Admission
// admits it: an allowlisted USB recorder with a recorder's layout. Anything
// else is logged and never read.
func (a *Agent) watchMounts(ctx context.Context) error {
	events := make(chan usb.Event)
	errc := make(chan error, 1)
	go func() { errc <- a.Mounts.Run(ctx, events) }()
	a.Logger.Info("watching mounts for recorders", "roots", a.Mounts.Roots)
	for {
		select {
		case err := <-errc:
			return err
		case ev := <-events:
			dir := ev.Volume.MountPoint
			if ev.Kind == usb.Unmounted {
				a.undock(dir)
				a.Logger.Info("recorder volume gone", "volume", ev.Volume.String())
				continue
			}
			ok, why := a.Admission.Admit(ev.Volume, a.OpenVolume(dir))
			if !ok {
				a.Logger.Warn("volume ignored, never read", "volume", ev.Volume.String(), "reason", why)
				continue
			}
			a.Logger.Info("recorder volume admitted", "volume", ev.Volume.String(), "reason", why)
			if err := a.ScanVolume(ctx, dir); err != nil {
				if evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
					return err // the state store failed
				}
				a.Logger.Error("scan failed", "volume", dir, "err", err)
			}
		}
	}
}

// watchDirectories scans every volume already under MountRoot, then every
// volume that appears there, once it has been quiet for Settle. It serves
// docking PCs where recorders are mounted by other means, and the demo.
func (a *Agent) watchDirectories(ctx context.Context) error {
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
				a.undock(ev.Name)
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
	docks := map[string]*RecorderDock{} // by device serial, nil if never docked through the bridge
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
			r.State, r.ErrorCode, r.Error = StateRejected, NoteBadName, evidock.ErrorMessage(err)
		} else if r.Size == 0 {
			r.State, r.ErrorCode, r.Error = StateRejected, NoteEmptyFile, fmt.Sprintf("%s is empty (0 bytes): nothing to ingest", p)
		} else {
			r.DeviceSerial, r.OfficerNo, r.StartedAt, r.Seq, r.Kind = name.DeviceSerial, name.OfficerNo, name.StartedAt, name.Seq, name.Kind
			serials[name.DeviceSerial] = true
			if _, ok := docks[r.DeviceSerial]; !ok {
				d, err := a.State.LastDock(ctx, r.DeviceSerial)
				switch {
				case err == nil:
					docks[r.DeviceSerial] = &d
				case evidock.ErrorCode(err) == evidock.ENOTFOUND:
					docks[r.DeviceSerial] = nil
				default:
					stateErr = err
					return fs.SkipAll
				}
			}
			if d := docks[r.DeviceSerial]; d != nil {
				r.ClockOffsetMS, r.Important = d.stamp(r)
			}
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
	a.dock(dir)
	a.Logger.Info("recorder docked", "volume", dir, "recorders", keys(serials), "files", found, "queued", queued, "rejected", rejected)
	a.wakeAll() // requeued recordings may resume at any stage
	return nil
}

// dock and undock keep the set of docked volumes that the dock screen shows.
func (a *Agent) dock(dir string) {
	a.dockedMu.Lock()
	defer a.dockedMu.Unlock()
	if a.docked == nil {
		a.docked = map[string]bool{}
	}
	a.docked[dir] = true
}

func (a *Agent) undock(dir string) {
	a.dockedMu.Lock()
	defer a.dockedMu.Unlock()
	delete(a.docked, dir)
}

func (a *Agent) dockedVolumes() []string {
	a.dockedMu.Lock()
	defer a.dockedMu.Unlock()
	var dirs []string
	for d := range a.docked {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
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
