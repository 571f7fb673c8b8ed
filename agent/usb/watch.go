package usb

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Defaults for the fields of Watcher.
const (
	DefaultSettle   = 2 * time.Second
	DefaultInterval = time.Second
)

// DefaultRoots are where Linux desktops and udisks mount removable media.
var DefaultRoots = []string{"/media", "/run/media"}

// Watcher reports volumes that are mounted below Roots and stay mounted for
// Settle, and their unmounting. Set the fields, then call Run; zero values
// take the defaults.
type Watcher struct {
	// Roots are the directories below which mounts count (at any depth; not
	// the roots themselves). Linux only: on Windows every removable drive
	// letter counts. DefaultRoots when empty.
	Roots []string
	// Settle is how long a mount must stay before it is reported, so that
	// a volume mounted and unmounted again at once (a flaky contact, a
	// remount with other options) is not scanned half-way. DefaultSettle
	// when 0.
	Settle time.Duration
	// SysRoot is where sysfs is mounted (Linux); DefaultSysRoot when empty.
	SysRoot string
	// Interval is how often drive letters are listed (Windows);
	// DefaultInterval when 0.
	Interval time.Duration
	// Logger receives the watcher's notes: roots it cannot watch, devices
	// it cannot identify (once per volume); slog.Default() when nil.
	Logger *slog.Logger
}

// Run sends an Event to events for every volume that appears below the roots
// and stays for Settle, including those already mounted when Run starts,
// and for every reported volume that goes away, until ctx is done. A
// volume's removal is reported once, whether it was unmounted or unplugged.
// Run does not close events. It returns nil when ctx is done, and an error
// only if the mount table cannot be read or watched at all; a restarted Run
// reports the mounted volumes again.
func (w *Watcher) Run(ctx context.Context, events chan<- Event) error {
	if w.Settle < 0 || w.Interval < 0 {
		return errors.New("usb watcher: negative settle or interval")
	}
	return w.run(ctx, events)
}

func (w *Watcher) settle() time.Duration   { return cmp.Or(w.Settle, DefaultSettle) }
func (w *Watcher) interval() time.Duration { return cmp.Or(w.Interval, DefaultInterval) }
func (w *Watcher) sysRoot() string         { return cmp.Or(w.SysRoot, DefaultSysRoot) }

func (w *Watcher) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

// roots returns the roots as absolute paths with symlinks resolved, as the
// kernel prints mount points.
func (w *Watcher) roots() ([]string, error) {
	roots := w.Roots
	if len(roots) == 0 {
		roots = DefaultRoots
	}
	var out []string
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, err
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		out = append(out, abs)
	}
	return out, nil
}

// under reports whether mount point mp is strictly below one of roots.
func under(roots []string, mp string) bool {
	for _, r := range roots {
		prefix := r
		if !strings.HasSuffix(prefix, string(filepath.Separator)) {
			prefix += string(filepath.Separator)
		}
		if strings.HasPrefix(mp, prefix) && len(mp) > len(prefix) {
			return true
		}
	}
	return false
}

// candidate is a volume present at a mount point in one scan.
type candidate struct {
	// ident changes when another file system is mounted at the same point.
	ident string
	// resolve describes the volume; called once, when it has settled.
	resolve func() Volume
}

// debouncer turns scans of the mount table into events: a mount is
// reported once it has been present, unchanged, for settle; a reported
// mount is reported gone once.
type debouncer struct {
	settle   time.Duration
	pending  map[string]pendingMount // by mount point
	reported map[string]reportedMount
}

type pendingMount struct {
	candidate
	since time.Time
}

type reportedMount struct {
	ident string
	vol   Volume
}

type settled struct {
	mountPoint string
	candidate
}

func newDebouncer(settle time.Duration) *debouncer {
	return &debouncer{settle: settle, pending: map[string]pendingMount{}, reported: map[string]reportedMount{}}
}

// observe takes the mounts present at now and returns the reported volumes
// that are gone, by mount point.
func (d *debouncer) observe(now time.Time, present map[string]candidate) []Volume {
	var gone []Volume
	for mp, r := range d.reported {
		if c, ok := present[mp]; !ok || c.ident != r.ident {
			gone = append(gone, r.vol)
			delete(d.reported, mp)
		}
	}
	for mp, p := range d.pending {
		c, ok := present[mp]
		switch {
		case !ok:
			delete(d.pending, mp) // never reported, so nothing to say
		case c.ident != p.ident:
			d.pending[mp] = pendingMount{c, now}
		}
	}
	for mp, c := range present {
		_, rep := d.reported[mp]
		_, pend := d.pending[mp]
		if !rep && !pend {
			d.pending[mp] = pendingMount{c, now}
		}
	}
	slices.SortFunc(gone, func(a, b Volume) int { return strings.Compare(a.MountPoint, b.MountPoint) })
	return gone
}

// due returns the mounts that have settled by now, sorted by mount point,
// and when the next one will (zero if none is pending). The caller reports
// each with report.
func (d *debouncer) due(now time.Time) (ready []settled, next time.Time) {
	for mp, p := range d.pending {
		at := p.since.Add(d.settle)
		if !at.After(now) {
			ready = append(ready, settled{mp, p.candidate})
			delete(d.pending, mp)
		} else if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	slices.SortFunc(ready, func(a, b settled) int { return strings.Compare(a.mountPoint, b.mountPoint) })
	return ready, next
}

func (d *debouncer) report(s settled, v Volume) {
	d.reported[s.mountPoint] = reportedMount{s.ident, v}
}

// loop rescans whenever wake fires or a pending mount is due, and sends the
// events, until ctx is done or fatal delivers an error.
func (w *Watcher) loop(ctx context.Context, events chan<- Event, wake <-chan struct{}, fatal <-chan error,
	scan func() (map[string]candidate, error)) error {
	d := newDebouncer(w.settle())
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	send := func(kind EventKind, v Volume) bool {
		w.logger().Debug("volume "+kind.String(), "volume", v.String())
		select {
		case events <- Event{kind, v}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		present, err := scan()
		if err != nil {
			return err
		}
		now := time.Now()
		for _, v := range d.observe(now, present) {
			if !send(Unmounted, v) {
				return nil
			}
		}
		ready, next := d.due(now)
		for _, s := range ready {
			v := s.resolve()
			d.report(s, v)
			if !send(Mounted, v) {
				return nil
			}
		}
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-fatal:
			return err
		case <-wake:
		case <-timer.C:
		}
	}
}

// notify wakes the loop without blocking; wakes coalesce.
func notify(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
