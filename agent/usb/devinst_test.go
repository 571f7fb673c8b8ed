package usb

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseDeviceInstanceID(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   DeviceInstanceID // Enumerator, Device, Instance filled from in
		serial string
		err    string // "" if it parses
	}{
		{in: `USB\VID_12D1&PID_1F01\0123456789ABCDEF`,
			want: DeviceInstanceID{USB: true, ID: ID{0x12d1, 0x1f01}, Interface: -1}, serial: "0123456789ABCDEF"},
		{in: `USB\VID_2E3C&PID_5740\DSJ0001`,
			want: DeviceInstanceID{USB: true, ID: ID{0x2e3c, 0x5740}, Interface: -1}, serial: "DSJ0001"},
		// Lower case, as some tools print them.
		{in: `usb\vid_0781&pid_5581\4c530001230615117264`,
			want: DeviceInstanceID{USB: true, ID: ID{0x0781, 0x5581}, Interface: -1}, serial: "4c530001230615117264"},
		// No serial number: Windows makes the instance from the port.
		{in: `USB\VID_058F&PID_6387\5&2B3F3B6A&0&3`,
			want: DeviceInstanceID{USB: true, ID: ID{0x058f, 0x6387}, Interface: -1}},
		// One function of a composite device: the serial is the parent's.
		{in: `USB\VID_2E3C&PID_5740&MI_00\6&2F1A3B4C&0&0000`,
			want: DeviceInstanceID{USB: true, ID: ID{0x2e3c, 0x5740}, Interface: 0}},
		{in: `USB\VID_2E3C&PID_5740&MI_0A\DSJ0001`,
			want: DeviceInstanceID{USB: true, ID: ID{0x2e3c, 0x5740}, Interface: 10}},
		// Extra fields after VID and PID do not change whose device it is.
		{in: `USB\VID_0781&PID_5581&REV_0100\4C530001`,
			want: DeviceInstanceID{USB: true, ID: ID{0x0781, 0x5581}, Interface: -1}, serial: "4C530001"},
		{in: `USBSTOR\DISK&VEN_SANDISK&PROD_ULTRA&REV_1.00\4C530001230615117264&0`,
			want: DeviceInstanceID{Interface: -1}},
		{in: `USB\ROOT_HUB30\4&2A6F3A5B&0&0`, want: DeviceInstanceID{Interface: -1}},
		// An SD card reader on PCI has a VID too, but is not USB.
		{in: `SD\VID_03&OID_5344&PID_SD32G&REV_8.0\5&3A1B2C&0&0`, want: DeviceInstanceID{Interface: -1}},
		{in: `HTREE\ROOT\0`, want: DeviceInstanceID{Interface: -1}},

		{in: ``, err: `want ENUMERATOR\DEVICE\INSTANCE`},
		{in: `USB\VID_12D1&PID_1F01`, err: `want ENUMERATOR\DEVICE\INSTANCE`},
		{in: `USB\VID_12D1&PID_1F01\A\B`, err: `want ENUMERATOR\DEVICE\INSTANCE`},
		{in: `USB\\0123`, err: `want ENUMERATOR\DEVICE\INSTANCE`},
		{in: `USB\VID_12D1&PID_1F01\0123 4567`, err: `character ' ' at 26`},
		{in: `USB\VID_12D1&PID_1F01\01,23`, err: `character ',' at 24`},
		{in: "USB\\VID_12D1&PID_1F01\\01\x0023", err: `character '\x00' at 24`},
		{in: `USB\VID_12D1&PID_1F01\序列`, err: `is not allowed`},
		{in: `USB\VID_12D1&PID_1F01\` + strings.Repeat("A", 178), err: `longer than 199 characters`},
		{in: `USB\VID_12G1&PID_1F01\0123`, err: `want VID_xxxx&PID_yyyy`},
		{in: `USB\VID_12D1\0123`, err: `want VID_xxxx&PID_yyyy`},
		{in: `USB\VID_12D1&PID_1F0\0123`, err: `want VID_xxxx&PID_yyyy`},
		{in: `USB\VID_12D1&PID_+F01\0123`, err: `want VID_xxxx&PID_yyyy`},
		{in: `USB\VID_12D1&MI_00&PID_1F01\0123`, err: `want VID_xxxx&PID_yyyy`},
		{in: `USB\VID_12D1&PID_1F01&MI_0\0123`, err: `want one MI_xx`},
		{in: `USB\VID_12D1&PID_1F01&MI_00&MI_01\0123`, err: `want one MI_xx`},
	} {
		got, err := ParseDeviceInstanceID(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDeviceInstanceID(%q) = %+v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDeviceInstanceID(%q): %v", tc.in, err)
			continue
		}
		parts := strings.Split(tc.in, `\`)
		want := tc.want
		want.Enumerator, want.Device, want.Instance = parts[0], parts[1], parts[2]
		if got != want {
			t.Errorf("ParseDeviceInstanceID(%q) = %+v; want %+v", tc.in, got, want)
		}
		if s := got.Serial(); s != tc.serial {
			t.Errorf("ParseDeviceInstanceID(%q).Serial() = %q; want %q", tc.in, s, tc.serial)
		}
		if got.String() != tc.in {
			t.Errorf("ParseDeviceInstanceID(%q).String() = %q", tc.in, got.String())
		}
	}
}

// Chains as Device Manager shows them (Properties, Details, "Parent"),
// from the disk up.
var (
	rootChain = []string{
		`USB\ROOT_HUB30\4&2A6F3A5B&0&0`,
		`PCI\VEN_8086&DEV_A36D&SUBSYS_85F01043&REV_10\3&11583659&0&A0`,
		`ACPI\PNP0A08\0`,
		`ACPI_HAL\PNP0C08\0`,
		`HTREE\ROOT\0`,
	}
	stickChain = append([]string{
		`USBSTOR\DISK&VEN_SANDISK&PROD_ULTRA&REV_1.00\4C530001230615117264&0`,
		`USB\VID_0781&PID_5581\4C530001230615117264`,
	}, rootChain...)
	recorderChain = append([]string{
		`USBSTOR\DISK&VEN_ZFJLY&PROD_DSJ_RECORDER&REV_1.00\7&1B2C3D4E&0&DSJ0001&0`,
		`USB\VID_2E3C&PID_5740&MI_00\6&2F1A3B4C&0&0000`,
		`USB\VID_2E3C&PID_5740\DSJ0001`,
	}, rootChain...)
)

func TestUSBFromDeviceChain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chain []string
		want  *Device
		err   string
	}{
		{"stick", stickChain, &Device{ID: ID{0x0781, 0x5581}, Serial: "4C530001230615117264",
			Manufacturer: "SANDISK", Product: "ULTRA", SysPath: `USB\VID_0781&PID_5581\4C530001230615117264`}, ""},
		{"chain cut at the USB device", stickChain[:2], &Device{ID: ID{0x0781, 0x5581}, Serial: "4C530001230615117264",
			Manufacturer: "SANDISK", Product: "ULTRA", SysPath: `USB\VID_0781&PID_5581\4C530001230615117264`}, ""},
		{"composite recorder", recorderChain, &Device{ID: ID{0x2e3c, 0x5740}, Serial: "DSJ0001",
			Manufacturer: "ZFJLY", Product: "DSJ RECORDER", SysPath: `USB\VID_2E3C&PID_5740\DSJ0001`}, ""},
		{"no serial number", append([]string{
			`USBSTOR\DISK&VEN_GENERIC&PROD_FLASH_DISK&REV_8.07\7&2C4A1F2D&0&5&2B3F3B6A&0&3&0`,
			`USB\VID_058F&PID_6387\5&2B3F3B6A&0&3`,
		}, rootChain...), &Device{ID: ID{0x058f, 0x6387}, Manufacturer: "GENERIC", Product: "FLASH DISK",
			SysPath: `USB\VID_058F&PID_6387\5&2B3F3B6A&0&3`}, ""},
		{"UAS disk", append([]string{
			`SCSI\DISK&VEN_SAMSUNG&PROD_PORTABLE_SSD_T5\7&1DEA3E5&0&000000`,
			`USB\VID_04E8&PID_61F5\1234567DC1AB`,
		}, rootChain...), &Device{ID: ID{0x04e8, 0x61f5}, Serial: "1234567DC1AB", Manufacturer: "SAMSUNG",
			Product: "PORTABLE SSD T5", SysPath: `USB\VID_04E8&PID_61F5\1234567DC1AB`}, ""},
		{"first USB device counts, not a hub's VID", []string{
			`USBSTOR\DISK&VEN_ZFJLY&PROD_DSJ&REV_1.00\DSJ0001&0`,
			`USB\VID_2E3C&PID_5740\DSJ0001`,
			`USB\VID_05E3&PID_0610\5&1A2B3C4D&0&4`,
			`USB\ROOT_HUB30\4&2A6F3A5B&0&0`,
		}, &Device{ID: ID{0x2e3c, 0x5740}, Serial: "DSJ0001", Manufacturer: "ZFJLY", Product: "DSJ",
			SysPath: `USB\VID_2E3C&PID_5740\DSJ0001`}, ""},
		{"built-in SD reader", []string{
			`SD\VID_03&OID_5344&PID_SD32G&REV_8.0\5&3A1B2C&0&0`,
			`PCI\VEN_10EC&DEV_5227&SUBSYS_85F01043&REV_01\4&2D8A6C1&0&00E4`,
			`ACPI\PNP0A08\0`,
			`HTREE\ROOT\0`,
		}, nil, ""},

		{"empty", nil, nil, "no device instance IDs"},
		{"too deep", make([]string, maxDeviceChain+1), nil, "more than 32 devices deep"},
		{"garbled disk", []string{`USBSTOR\DISK`}, nil, `want ENUMERATOR\DEVICE\INSTANCE`},
		{"garbled USB ID", []string{stickChain[0], `USB\VID_0781&PID_55X1\4C53`}, nil, "want VID_xxxx&PID_yyyy"},
		{"composite without parent", recorderChain[:2], nil, "has no parent"},
		{"composite with a hub as parent", []string{recorderChain[0], recorderChain[1], rootChain[0]}, nil, "its parent is USB\\ROOT_HUB30"},
		{"composite with another device as parent", []string{recorderChain[0], recorderChain[1], stickChain[1]}, nil, "its parent is USB\\VID_0781"},
		{"composite with another function as parent", []string{recorderChain[0], recorderChain[1], recorderChain[1]}, nil, "its parent is USB\\VID_2E3C&PID_5740&MI_00"},
		{"composite with a garbled parent", []string{recorderChain[0], recorderChain[1], `USB`}, nil, `want ENUMERATOR\DEVICE\INSTANCE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := USBFromDeviceChain(tc.chain)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v; want %+v", got, tc.want)
			}
		})
	}
}

// TestUSBFromDeviceChainPolicy shows that what Windows reports is judged
// like what Linux reports: an allowlisted recorder passes the ID check, a
// stick does not, and a built-in card reader falls to allow_non_usb.
func TestUSBFromDeviceChainPolicy(t *testing.T) {
	allow := Allowlist{{0x2e3c, 0x5740}}
	sd := []string{`SD\VID_03&OID_5344&PID_SD32G&REV_8.0\5&3A1B2C&0&0`, `HTREE\ROOT\0`}
	for _, tc := range []struct {
		chain   []string
		nonUSB  bool
		admit   bool
		wasRead bool
	}{
		{recorderChain, false, true, true},
		{stickChain, false, false, false},
		{stickChain, true, false, false},
		{sd, false, false, false},
		{sd, true, true, true},
	} {
		dev, err := USBFromDeviceChain(tc.chain)
		if err != nil {
			t.Fatal(err)
		}
		fsys := &countingFS{FS: fstest.MapFS{"DCIM/100MEDIA/" + recording: {}}}
		v := Volume{MountPoint: `E:\`, FSType: "exFAT", USB: dev}
		ok, why := Policy{Allow: allow, AllowNonUSB: tc.nonUSB}.Admit(v, fsys)
		if ok != tc.admit || (len(fsys.opened) > 0) != tc.wasRead {
			t.Errorf("%s, allow_non_usb %v: Admit = %v (%s), opened %q; want %v, read %v",
				tc.chain[0], tc.nonUSB, ok, why, fsys.opened, tc.admit, tc.wasRead)
		}
	}
}

func FuzzParseDeviceInstanceID(f *testing.F) {
	f.Add(`USB\VID_12D1&PID_1F01\0123456789ABCDEF`)
	f.Add(`USB\VID_2E3C&PID_5740&MI_00\6&2F1A3B4C&0&0000`)
	f.Add(strings.Join(recorderChain, "\n"))
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeviceInstanceID(s)
		if err == nil {
			if d.String() != s {
				t.Fatalf("String() = %q; want %q", d.String(), s)
			}
			if d.USB {
				prefix := fmt.Sprintf("VID_%04X&PID_%04X", d.ID.VID, d.ID.PID)
				if !hasPrefixFold(d.Device, prefix) {
					t.Fatalf("%q gives ID %v", s, d.ID)
				}
				if d.Interface >= 0 && !strings.Contains(strings.ToUpper(d.Device), fmt.Sprintf("&MI_%02X", d.Interface)) {
					t.Fatalf("%q gives interface %d", s, d.Interface)
				}
			} else if d.ID != (ID{}) || d.Interface != -1 {
				t.Fatalf("%q is not USB but gives %+v", s, d)
			}
			if sn := d.Serial(); sn != "" && (sn != d.Instance || strings.Contains(sn, "&") || d.Interface >= 0) {
				t.Fatalf("%q gives serial %q", s, sn)
			}
		}
		// The same bytes as a chain, one ID a line.
		chain := strings.Split(s, "\n")
		dev, err := USBFromDeviceChain(chain)
		if err != nil || dev == nil {
			return
		}
		found := false
		for _, id := range chain {
			d, err := ParseDeviceInstanceID(id)
			if err == nil && d.USB && d.Interface < 0 && d.String() == dev.SysPath {
				found = d.ID == dev.ID && d.Serial() == dev.Serial
				break
			}
		}
		if !found {
			t.Fatalf("chain %q gives %+v, which is no whole USB device in it", chain, dev)
		}
	})
}
