package usb

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ID is a USB vendor and product ID.
//
// It is the same pair as firmware-bridge/serial.USBID, defined again here so
// that the agent does not link the serial-port library it never uses.
type ID struct {
	VID, PID uint16
}

// String returns the ID as lsusb prints it: 0781:5581.
func (id ID) String() string { return fmt.Sprintf("%04x:%04x", id.VID, id.PID) }

// ParseID parses VID:PID in hex, e.g. 2e3c:5740 (either case, with or without
// 0x). It returns an error that shows the expected form.
func ParseID(s string) (ID, error) {
	v, p, ok := strings.Cut(strings.TrimSpace(s), ":")
	vid, err1 := parseHex16(v)
	pid, err2 := parseHex16(p)
	if !ok || err1 != nil || err2 != nil {
		return ID{}, fmt.Errorf("USB ID %q: want VID:PID in hex, e.g. 2e3c:5740", s)
	}
	return ID{vid, pid}, nil
}

// ParseIDs parses a comma-separated list of VID:PID; an empty list gives
// none. It returns the error of the first item that does not parse.
func ParseIDs(list string) (Allowlist, error) {
	var ids Allowlist
	for item := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		id, err := ParseID(item)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func parseHex16(s string) (uint16, error) {
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
	if s == "" || len(s) > 4 {
		return 0, strconv.ErrSyntax
	}
	v, err := strconv.ParseUint(s, 16, 16)
	return uint16(v), err
}

// Device is the USB device a volume lives on, as sysfs (Linux) or the
// device tree (Windows, USBFromDeviceChain) describes it. The
// strings are what the device says about itself: anyone can program them,
// so they identify, they do not authenticate.
type Device struct {
	ID
	Serial       string // iSerialNumber; empty if the device has none
	Manufacturer string
	Product      string
	SysPath      string // the device's directory in sysfs; on Windows its device instance ID
}

// String names the device for logs: 0781:5581 SanDisk Ultra serial 4C53…;
// the device-provided strings are quoted if they hold anything unprintable.
func (d *Device) String() string {
	var b strings.Builder
	b.WriteString(d.ID.String())
	if s := strings.TrimSpace(printable(d.Manufacturer) + " " + printable(d.Product)); s != "" {
		b.WriteString(" " + s)
	}
	if d.Serial != "" {
		b.WriteString(" serial " + printable(d.Serial))
	}
	return b.String()
}

// printable returns s, or s quoted if it holds control characters or invalid
// UTF-8, cut to 64 bytes: the strings come from the device.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Volume is a mounted file system that may be a docked recorder.
type Volume struct {
	MountPoint string // /media/evidock/REC1, or E:\ on Windows
	Device     string // /dev/sdb1; the mount source if it is no block device
	FSType     string // vfat, exfat, ext4, tmpfs; NTFS, FAT32 on Windows
	Label      string // the file system label, when known
	// USB is the USB device holding the volume; nil if the volume is not on
	// USB (tmpfs, loop, an internal disk, a built-in card reader). It
	// is a Device with a zero ID if the volume has a block device whose
	// origin could not be read, so that an unknown device is not taken for
	// one that is not on USB.
	USB *Device
}

// String names the volume for logs: USB 2e3c:5740 ZFJLY 执法记录仪 serial
// DSJ0001 /dev/sdc1 (vfat) "REC" at /media/evidock/REC.
func (v Volume) String() string {
	var parts []string
	if v.USB != nil {
		parts = append(parts, "USB "+v.USB.String())
	}
	if v.Device != "" {
		parts = append(parts, v.Device)
	}
	if v.FSType != "" {
		parts = append(parts, "("+v.FSType+")")
	}
	if v.Label != "" {
		parts = append(parts, strconv.Quote(v.Label))
	}
	return strings.Join(append(parts, "at", v.MountPoint), " ")
}

// EventKind says what happened to a volume.
type EventKind int

// Kinds of Event.
const (
	Mounted   EventKind = iota + 1 // the volume appeared and stayed for the settle time
	Unmounted                      // a reported volume is gone (unmounted or unplugged)
)

// String returns "mounted" or "unmounted".
func (k EventKind) String() string {
	switch k {
	case Mounted:
		return "mounted"
	case Unmounted:
		return "unmounted"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is a volume being docked or undocked. The Volume of an Unmounted
// event is the one reported when it was mounted: the device may be gone.
type Event struct {
	Kind   EventKind
	Volume Volume
}
