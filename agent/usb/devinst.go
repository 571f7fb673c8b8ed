package usb

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file reads Windows device instance IDs. It builds on every OS so
// that the parsing, which decides what the allowlist sees on Windows, is
// tested everywhere; watch_windows.go only collects the IDs.

// maxDeviceIDLen is MAX_DEVICE_ID_LEN: Windows keeps device instance IDs
// shorter than this many characters.
const maxDeviceIDLen = 200

// maxDeviceChain bounds how many devnodes, from a disk up to the root of
// the device tree, are looked at; real chains have fewer than ten.
const maxDeviceChain = 32

// DeviceInstanceID is a Windows device instance ID cut into its three
// parts: USB\VID_2E3C&PID_5740\DSJ0001 is enumerator USB, device
// VID_2E3C&PID_5740 and instance DSJ0001.
type DeviceInstanceID struct {
	Enumerator string // the bus: USB, USBSTOR, SCSI, PCI, HTREE
	Device     string // the bus's device ID: VID_2E3C&PID_5740, DISK&VEN_…
	Instance   string // the device's serial number, or an ID Windows made up
	// USB tells whether this is a USB device or a function of one:
	// enumerator USB and a device part VID_xxxx&PID_yyyy. Hubs
	// (USB\ROOT_HUB30\…) are not.
	USB bool
	// ID is the vendor and product ID when USB is true.
	ID ID
	// Interface is the xx of &MI_xx: the function of a composite USB
	// device, whose parent devnode is the device itself and holds the
	// serial number; -1 for a whole device and when USB is false.
	Interface int
}

// ParseDeviceInstanceID splits s, as CM_Get_Device_ID returns it, into its
// parts and reads the USB vendor, product and interface numbers (case does
// not matter). It returns an error if s is not three non-empty parts
// separated by backslashes, is too long or holds a character Windows does
// not allow in IDs (space, comma, control or non-ASCII characters), or if a
// USB device part has a VID, PID or MI that is not hex.
func ParseDeviceInstanceID(s string) (DeviceInstanceID, error) {
	d := DeviceInstanceID{Interface: -1}
	if len(s) >= maxDeviceIDLen {
		return d, fmt.Errorf("device instance ID %.40q…: longer than %d characters", s, maxDeviceIDLen-1)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return d, fmt.Errorf("device instance ID %q: character %q at %d is not allowed in IDs", s, c, i)
		}
	}
	parts := strings.Split(s, `\`)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return d, fmt.Errorf(`device instance ID %q: want ENUMERATOR\DEVICE\INSTANCE`, s)
	}
	d.Enumerator, d.Device, d.Instance = parts[0], parts[1], parts[2]
	if !strings.EqualFold(d.Enumerator, "USB") || !hasPrefixFold(d.Device, "VID_") {
		return d, nil
	}
	// USB\VID_v(4)&PID_d(4) for a device, &MI_z(2) added for one function
	// of a composite device.
	fields := strings.Split(d.Device, "&")
	vid, err := hexField(fields[0], "VID_", 4)
	var pid uint64
	if err == nil && len(fields) > 1 {
		pid, err = hexField(fields[1], "PID_", 4)
	} else if err == nil {
		err = strconv.ErrSyntax
	}
	if err != nil {
		return d, fmt.Errorf("device instance ID %q: want VID_xxxx&PID_yyyy in hex after USB\\", s)
	}
	for _, f := range fields[2:] {
		if !hasPrefixFold(f, "MI_") {
			// Not in instance IDs as Windows writes them; nothing in them
			// changes whose device this is.
			continue
		}
		mi, err := hexField(f, "MI_", 2)
		if err != nil || d.Interface >= 0 {
			return d, fmt.Errorf("device instance ID %q: want one MI_xx in hex", s)
		}
		d.Interface = int(mi)
	}
	d.USB, d.ID = true, ID{uint16(vid), uint16(pid)}
	return d, nil
}

// hexField parses f as prefix followed by exactly digits hex digits.
func hexField(f, prefix string, digits int) (uint64, error) {
	if !hasPrefixFold(f, prefix) || len(f) != len(prefix)+digits {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(f[len(prefix):], 16, 16)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// String returns the ID as Windows writes it.
func (d DeviceInstanceID) String() string {
	return d.Enumerator + `\` + d.Device + `\` + d.Instance
}

// Serial returns the serial number the USB device reported, "" if it is
// not a whole USB device or reported none. Windows uses a device's serial
// number as its instance ID unchanged; when a device has none (or one
// Windows rejects), the instance ID is made from the port, such as
// 5&2B3F3B6A&0&3, and has an ampersand, which serial numbers in practice
// do not.
func (d DeviceInstanceID) Serial() string {
	if !d.USB || d.Interface >= 0 || strings.Contains(d.Instance, "&") {
		return ""
	}
	return d.Instance
}

// storageNames returns the vendor and product strings that a USB or UAS
// disk (USBSTOR\DISK&VEN_SANDISK&PROD_ULTRA&REV_1.00\…,
// SCSI\DISK&VEN_SAMSUNG&PROD_PORTABLE_SSD_T5\…) reported over SCSI, with
// Windows' underscores for spaces turned back; "" where there is none.
func (d DeviceInstanceID) storageNames() (vendor, product string) {
	if !strings.EqualFold(d.Enumerator, "USBSTOR") && !strings.EqualFold(d.Enumerator, "SCSI") {
		return "", ""
	}
	for _, f := range strings.Split(d.Device, "&") {
		switch {
		case hasPrefixFold(f, "VEN_"):
			vendor = strings.TrimSpace(strings.ReplaceAll(f[4:], "_", " "))
		case hasPrefixFold(f, "PROD_"):
			product = strings.TrimSpace(strings.ReplaceAll(f[5:], "_", " "))
		}
	}
	return vendor, product
}

// USBFromDeviceChain returns the USB device that holds a disk, given the
// device instance IDs from the disk's devnode up towards the root of the
// device tree, one parent after another:
//
//	USBSTOR\DISK&VEN_ZFJLY&PROD_DSJ&REV_1.00\DSJ0001&0
//	USB\VID_2E3C&PID_5740\DSJ0001
//	USB\ROOT_HUB30\4&2A6F3A5B&0&0
//	…
//
// The first USB device in the chain is the one; if it is one function of a
// composite device (&MI_xx), the serial number is its parent's, which must
// be the same USB device without MI. Manufacturer and Product are the
// vendor and product the disk reported over SCSI, when it is a USBSTOR or
// SCSI disk; SysPath is the USB device's instance ID.
//
// It returns nil and no error if no ID in the chain is a USB device (an SD
// card in a built-in PCI reader); an error if the chain is empty or longer
// than 32, if an ID up to the USB device does not parse, or if a composite
// function has no parent of the same VID:PID.
func USBFromDeviceChain(chain []string) (*Device, error) {
	if len(chain) == 0 {
		return nil, errors.New("USB device from device chain: no device instance IDs")
	}
	if len(chain) > maxDeviceChain {
		return nil, fmt.Errorf("USB device from device chain: more than %d devices deep", maxDeviceChain)
	}
	var vendor, product string
	for i, s := range chain {
		d, err := ParseDeviceInstanceID(s)
		if err != nil {
			return nil, fmt.Errorf("USB device from device chain: %w", err)
		}
		if i == 0 {
			vendor, product = d.storageNames()
		}
		if !d.USB {
			continue
		}
		dev := &Device{ID: d.ID, Serial: d.Serial(), Manufacturer: vendor, Product: product, SysPath: d.String()}
		if d.Interface < 0 {
			return dev, nil
		}
		if i+1 == len(chain) {
			return nil, fmt.Errorf("USB device from device chain: %s is a function of a composite device, but has no parent", d)
		}
		parent, err := ParseDeviceInstanceID(chain[i+1])
		if err != nil {
			return nil, fmt.Errorf("USB device from device chain: %w", err)
		}
		if !parent.USB || parent.ID != d.ID || parent.Interface >= 0 {
			return nil, fmt.Errorf("USB device from device chain: %s is a function of a composite device, but its parent is %s", d, parent)
		}
		dev.Serial, dev.SysPath = parent.Serial(), parent.String()
		return dev, nil
	}
	return nil, nil
}
