package usb

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/windows"
)

// run lists the drive letters every Interval and reports the removable ones
// that hold a readable file system. Recorders present themselves as USB
// mass storage, which Windows gives a removable drive letter. Each drive is
// mapped to its USB device (driveUSB) once it has settled, so that the
// policy judges it by its USB ID as on Linux.
func (w *Watcher) run(ctx context.Context, events chan<- Event) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the ticker goroutine
	wake := make(chan struct{}, 1)
	tick := time.NewTicker(w.interval())
	defer tick.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				notify(wake)
			}
		}
	}()
	w.logger().Info("watching for removable drives", "interval", w.interval(), "settle", w.settle())
	scan := func() (map[string]candidate, error) {
		mask, err := windows.GetLogicalDrives()
		if err != nil {
			return nil, fmt.Errorf("usb watcher: list drives: %w", err)
		}
		present := map[string]candidate{}
		for i := range 26 {
			if mask&(1<<i) == 0 {
				continue
			}
			root := string(rune('A'+i)) + `:\`
			v, ident, ok := removable(root)
			if ok {
				present[root] = candidate{ident: ident, resolve: func() Volume { return w.volume(v) }}
			}
		}
		return present, nil
	}
	return w.loop(ctx, events, wake, nil, scan)
}

// volume adds to v the USB device its drive is on. Failures are logged, not
// returned: the volume is still reported, and a drive whose device cannot
// be identified gets a zero USB ID so that the policy does not take it for
// one that is not on USB. A drive not on USB (an SD card in a built-in
// reader) keeps a nil USB, and allow_non_usb decides.
func (w *Watcher) volume(v Volume) Volume {
	dev, chain, err := driveUSB(v.MountPoint)
	switch {
	case err != nil:
		w.logger().Warn("drive's USB device not identified: treated as an unknown USB device", "volume", v.String(), "devices", chain, "err", err)
		v.USB = &Device{}
	case dev == nil:
		w.logger().Info("drive is not on USB: admitted only if non-USB volumes are allowed (allow_non_usb)", "volume", v.String(), "devices", chain)
	default:
		v.USB = dev
		w.logger().Debug("drive's USB device", "volume", v.String(), "device", dev.SysPath)
	}
	return v
}

// removable describes the drive at root if it is removable and holds a
// file system; a card reader without a card has a letter but no volume.
// The Go runtime has turned off the "insert a disk" dialog, so asking an
// empty drive fails quietly.
func removable(root string) (v Volume, ident string, ok bool) {
	p, err := windows.UTF16PtrFromString(root)
	if err != nil || windows.GetDriveType(p) != windows.DRIVE_REMOVABLE {
		return v, "", false
	}
	var label, fsName [windows.MAX_PATH + 1]uint16
	var serial, maxComp, flags uint32
	if err := windows.GetVolumeInformation(p, &label[0], uint32(len(label)), &serial, &maxComp, &flags, &fsName[0], uint32(len(fsName))); err != nil {
		return v, "", false
	}
	v = Volume{MountPoint: root, Device: root, FSType: windows.UTF16ToString(fsName[:]), Label: windows.UTF16ToString(label[:])}
	var guid [windows.MAX_PATH + 1]uint16
	if err := windows.GetVolumeNameForVolumeMountPoint(p, &guid[0], uint32(len(guid))); err == nil {
		v.Device = windows.UTF16ToString(guid[:]) // \\?\Volume{…}\
	}
	return v, fmt.Sprintf("%s %08x %s", v.Device, serial, v.FSType), true
}
