package usb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

const (
	mountInfoPath = "/proc/self/mountinfo"
	byLabelDir    = "/dev/disk/by-label"
	minRescanGap  = 50 * time.Millisecond
)

// run watches the mount table: the kernel marks /proc/self/mountinfo with
// POLLPRI|POLLERR after every change of this mount namespace, so a blocked
// poll(2) wakes exactly when there is something to read. fsnotify on the
// roots is a second signal, in case a kernel (or a sandbox such as gVisor)
// does not wake poll: udisks and systemd create the mount point just before
// mounting, so a directory appearing there is followed by a rescan at once
// and another one Settle later.
func (w *Watcher) run(ctx context.Context, events chan<- Event) error {
	roots, err := w.roots()
	if err != nil {
		return fmt.Errorf("usb watcher: %w", err)
	}
	fd, err := unix.Open(mountInfoPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("usb watcher: open %s: %w", mountInfoPath, err)
	}
	defer unix.Close(fd)

	wake := make(chan struct{}, 1)
	fatal := make(chan error, 2)

	// A pipe wakes the poller when ctx is done; the poller must have
	// returned before fd is closed, or poll could watch a reused number.
	var stop [2]int
	if err := unix.Pipe2(stop[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return fmt.Errorf("usb watcher: pipe: %w", err)
	}
	defer unix.Close(stop[0])
	defer unix.Close(stop[1])
	var wg sync.WaitGroup
	defer wg.Wait()
	defer unix.Write(stop[1], []byte{0}) //nolint:errcheck // a full pipe wakes the poller too
	wg.Go(func() {
		if err := pollMountInfo(fd, stop[0], wake); err != nil {
			fatal <- fmt.Errorf("usb watcher: poll %s: %w", mountInfoPath, err)
		}
	})

	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("usb watcher: %w", err)
	}
	defer fw.Close() // runs before wg.Wait: ends the goroutine below
	for _, r := range roots {
		if err := fw.Add(r); err != nil {
			// The mount table alone still finds mounts below it.
			w.logger().Info("mount root not watched with fsnotify: mounts below it are still seen in the mount table", "root", r, "err", err)
		}
	}
	wg.Go(func() {
		for {
			select {
			case _, ok := <-fw.Events:
				if !ok {
					return
				}
				notify(wake)
				time.AfterFunc(w.settle(), func() { notify(wake) })
			case err, ok := <-fw.Errors:
				if !ok {
					return
				}
				// An overflowed queue only means a rescan is due.
				w.logger().Debug("fsnotify on mount roots", "err", err)
				notify(wake)
			}
		}
	})

	w.logger().Info("watching for docked volumes", "roots", roots, "settle", w.settle())
	sysRoot := w.sysRoot()
	buf := new(bytes.Buffer)
	scan := func() (map[string]candidate, error) {
		buf.Reset()
		if err := readAt0(fd, buf); err != nil {
			return nil, fmt.Errorf("usb watcher: read %s: %w", mountInfoPath, err)
		}
		mounts, err := ParseMountInfo(buf)
		if err != nil {
			return nil, fmt.Errorf("usb watcher: %w", err)
		}
		present := map[string]candidate{}
		for _, m := range mounts {
			if !under(roots, m.MountPoint) {
				continue
			}
			// A later line at the same mount point is mounted over the
			// earlier one and hides it.
			present[m.MountPoint] = candidate{
				ident:   fmt.Sprintf("%d %d:%d %s %s", m.ID, m.Major, m.Minor, m.FSType, m.Source),
				resolve: func() Volume { return w.volume(sysRoot, m) },
			}
		}
		return present, nil
	}
	return w.loop(ctx, events, wake, fatal, scan)
}

// pollMountInfo notifies wake each time the mount table changes, until the
// stop descriptor becomes readable.
func pollMountInfo(fd, stop int, wake chan<- struct{}) error {
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}, {Fd: int32(stop), Events: unix.POLLIN}}
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if fds[1].Revents != 0 {
			return nil
		}
		if fds[0].Revents&unix.POLLNVAL != 0 {
			return errors.New("descriptor not open")
		}
		if fds[0].Revents&(unix.POLLPRI|unix.POLLERR) != 0 {
			notify(wake)
			// Mount storms (a container starting) coalesce into few
			// rescans, and a kernel that always says "changed" cannot make
			// this spin.
			time.Sleep(minRescanGap)
		}
	}
}

// readAt0 reads the whole file from its start. The kernel builds the text
// on each read, so it reflects the table as it is now.
func readAt0(fd int, buf *bytes.Buffer) error {
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return err
	}
	for {
		buf.Grow(16 << 10)
		b := buf.AvailableBuffer()[:16<<10]
		n, err := unix.Read(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		buf.Write(b[:n])
	}
}

// volume describes the mount m, looking its device up in sysfs. Failures
// are logged, not returned: the volume is still reported, and a device
// that is there but cannot be identified gets a zero USB ID so that the
// policy does not take it for one that is not on USB.
func (w *Watcher) volume(sysRoot string, m Mount) Volume {
	v := Volume{MountPoint: m.MountPoint, Device: m.Source, FSType: m.FSType}
	fromDev := strings.HasPrefix(m.Source, "/dev/")
	name, err := BlockDevice(sysRoot, m.Major, m.Minor)
	if errors.Is(err, ErrNoBlockDevice) && fromDev {
		// btrfs and some others report an anonymous st_dev; the source
		// names the device, or a symlink to it as /dev/mapper/x does.
		name, err = sourceDevice(sysRoot, m.Source)
	}
	switch {
	case errors.Is(err, ErrNoBlockDevice) && m.Major == 0 && !fromDev:
		return v // tmpfs, fuse, network file systems: no device, not USB
	case err != nil:
		w.logger().Warn("volume's device not found in sysfs: treated as an unknown USB device", "volume", v.String(), "err", err)
		v.USB = &Device{}
		return v
	}
	v.Device = "/dev/" + name
	v.Label = labelOf(byLabelDir, name)
	usb, err := ResolveUSB(sysRoot, name)
	if err != nil {
		w.logger().Warn("volume's USB device not identified: treated as an unknown USB device", "volume", v.String(), "err", err)
		usb = &Device{}
	}
	v.USB = usb
	return v
}

// sourceDevice returns the kernel name of the block device at path source
// (/dev/sdb1, /dev/mapper/x), or an error wrapping ErrNoBlockDevice.
func sourceDevice(sysRoot, source string) (string, error) {
	real, err := filepath.EvalSymlinks(source)
	if err != nil {
		return "", fmt.Errorf("%s: %w", source, ErrNoBlockDevice)
	}
	name := filepath.Base(real)
	if _, err := os.Stat(filepath.Join(sysRoot, "class", "block", name)); err != nil {
		return "", fmt.Errorf("%s: %w", source, ErrNoBlockDevice)
	}
	return name, nil
}
