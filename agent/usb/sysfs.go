package usb

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultSysRoot is where sysfs is mounted.
const DefaultSysRoot = "/sys"

// ErrNoBlockDevice means that no block device has the asked major:minor.
var ErrNoBlockDevice = errors.New("no such block device")

// BlockDevice returns the kernel name (sdb1, loop0, dm-0) of the block device
// major:minor, from the symlink sysRoot/dev/block/MAJ:MIN. It returns an
// error wrapping ErrNoBlockDevice if there is none (tmpfs and other
// anonymous devices, or a device already unplugged).
func BlockDevice(sysRoot string, major, minor uint32) (string, error) {
	link := filepath.Join(sysRoot, "dev", "block", fmt.Sprintf("%d:%d", major, minor))
	target, err := os.Readlink(link)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("block device %d:%d: %w", major, minor, ErrNoBlockDevice)
	}
	if err != nil {
		return "", fmt.Errorf("block device %d:%d: %w", major, minor, err)
	}
	return filepath.Base(target), nil
}

// maxStack bounds how deep ResolveUSB follows device-mapper and md slaves.
const maxStack = 8

// ResolveUSB returns the USB device that holds the block device devName
// (sdb1, sdb, dm-0), as sysfs under sysRoot describes it: the nearest
// ancestor of sysRoot/class/block/devName that has idVendor and idProduct
// (partition → disk → SCSI device → USB interface → USB device). A
// device-mapper or md device (LUKS, LVM) is followed through its slaves.
//
// It returns nil and no error if the device is not on USB (loop, virtio, an
// internal disk); an error if devName is not in sysfs, if sysfs cannot be
// read, if an ID is garbled, or if a stacked device spans several USB
// devices.
func ResolveUSB(sysRoot, devName string) (*Device, error) {
	root, err := filepath.EvalSymlinks(sysRoot)
	if err != nil {
		return nil, fmt.Errorf("resolve USB of %s: %w", devName, err)
	}
	d, err := resolveUSB(root, devName, 0)
	if err != nil {
		return nil, fmt.Errorf("resolve USB of %s: %w", devName, err)
	}
	return d, nil
}

func resolveUSB(root, devName string, depth int) (*Device, error) {
	if devName == "" || devName == "." || devName == ".." || strings.ContainsAny(devName, `/\`) {
		return nil, fmt.Errorf("%q is not a block device name", devName)
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(root, "class", "block", devName))
	if err != nil {
		return nil, err
	}
	devices := filepath.Join(root, "devices")
	if !within(devices, dir) {
		return nil, fmt.Errorf("%s is outside %s", dir, devices)
	}
	for p := dir; within(devices, p) && p != devices; p = filepath.Dir(p) {
		d, err := readDevice(p)
		if err != nil || d != nil {
			return d, err
		}
	}
	// Not under a USB device itself; a stacked device may sit on one.
	slaves, err := os.ReadDir(filepath.Join(dir, "slaves"))
	if errors.Is(err, fs.ErrNotExist) || len(slaves) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if depth >= maxStack {
		return nil, fmt.Errorf("%s: block devices stacked more than %d deep", devName, maxStack)
	}
	var found *Device
	for _, s := range slaves {
		d, err := resolveUSB(root, s.Name(), depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s slave %w", devName, err)
		}
		if d == nil {
			continue
		}
		if found != nil && found.SysPath != d.SysPath {
			return nil, fmt.Errorf("%s spans USB devices %s and %s", devName, found, d)
		}
		found = d
	}
	return found, nil
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// readDevice returns the USB device whose sysfs directory is dir, nil if dir
// is not a USB device.
func readDevice(dir string) (*Device, error) {
	vendor, err := readAttr(dir, "idVendor")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	product, err := readAttr(dir, "idProduct")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	vid, err1 := strconv.ParseUint(vendor, 16, 16)
	pid, err2 := strconv.ParseUint(product, 16, 16)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%s: USB ID %q:%q is not hex", dir, vendor, product)
	}
	d := &Device{ID: ID{uint16(vid), uint16(pid)}, SysPath: dir}
	// Devices without these strings are common (cheap card readers have no
	// serial number); only a read error of a present file counts.
	for _, a := range []struct {
		name string
		to   *string
	}{{"serial", &d.Serial}, {"manufacturer", &d.Manufacturer}, {"product", &d.Product}} {
		v, err := readAttr(dir, a.name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		*a.to = v
	}
	return d, nil
}

// readAttr returns a sysfs attribute without surrounding white space.
// Attributes are at most a page; reading more would mean it is no sysfs.
func readAttr(dir, name string) (string, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil && n == 0 && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

// labelOf returns the file system label of the block device devName from
// udev's symlinks in dir (/dev/disk/by-label), "" if it has none there.
func labelOf(dir, devName string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && filepath.Base(target) == devName {
			return unescapeUdev(e.Name())
		}
	}
	return ""
}

// unescapeUdev decodes udev's \xHH escapes in a link name.
func unescapeUdev(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
