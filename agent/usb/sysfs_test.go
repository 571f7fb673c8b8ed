package usb

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MustSysfs builds the recorded sysfs tree of testdata/sysfs.txt in a
// temporary directory and returns its root.
func MustSysfs(tb testing.TB) string {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "sysfs.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	root := tb.TempDir()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		name, arg, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		switch kind {
		case "dir":
			err = os.MkdirAll(p, 0o755)
		case "file":
			err = os.WriteFile(p, []byte(arg+"\n"), 0o644)
		case "link":
			err = os.Symlink(filepath.FromSlash(arg), p)
		default:
			tb.Fatalf("testdata/sysfs.txt:%d: unknown kind %q", n, kind)
		}
		if err != nil {
			tb.Fatalf("testdata/sysfs.txt:%d: %v", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return root
}

func TestResolveUSB(t *testing.T) {
	sys := MustSysfs(t)
	stick := &Device{ID: ID{0x0781, 0x5581}, Serial: "4C530001230105117435", Manufacturer: "SanDisk", Product: "Ultra",
		SysPath: "devices/pci0000:00/0000:00:14.0/usb1/1-2"}
	recorder := &Device{ID: ID{0x2e3c, 0x5740}, Serial: "DSJ0001", Manufacturer: "ZFJLY", Product: "执法记录仪",
		SysPath: "devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3.1"}
	reader := &Device{ID: ID{0x0bda, 0x0129}, Product: "USB2.0-CRW",
		SysPath: "devices/pci0000:00/0000:00:14.0/usb1/1-4"}
	for _, tt := range []struct {
		dev  string
		want *Device
		err  bool
	}{
		{"sdb1", stick, false},    // partition → disk → SCSI → interface → device, not the root hub
		{"sdb", stick, false},     // the whole disk
		{"sdc1", recorder, false}, // behind a hub: the nearest USB device
		{"sdd", reader, false},    // no serial number
		{"loop0", nil, false},
		{"dm-0", nil, false},   // device-mapper over a loop device
		{"dm-1", stick, false}, // LUKS on the stick
		{"vda", nil, false},
		{"vda1", nil, false},
		{"md0", nil, true}, // spans two USB devices
		{"sde", nil, true}, // garbled idVendor
		{"sdz", nil, true}, // not there (unplugged)
		{"../../etc", nil, true},
		{"", nil, true},
	} {
		got, err := ResolveUSB(sys, tt.dev)
		if (err != nil) != tt.err {
			t.Errorf("ResolveUSB(%q) error = %v, want error %v", tt.dev, err, tt.err)
			continue
		}
		if got != nil {
			rel, err := filepath.Rel(mustEval(t, sys), got.SysPath)
			if err != nil {
				t.Fatal(err)
			}
			g := *got
			g.SysPath = filepath.ToSlash(rel)
			got = &g
		}
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("ResolveUSB(%q) = %+v, want %+v", tt.dev, got, tt.want)
		}
	}
}

func mustEval(tb testing.TB, p string) string {
	tb.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestBlockDevice(t *testing.T) {
	sys := MustSysfs(t)
	for _, tt := range []struct {
		major, minor uint32
		want         string
	}{
		{8, 17, "sdb1"}, {8, 16, "sdb"}, {8, 33, "sdc1"}, {7, 0, "loop0"}, {253, 1, "dm-1"}, {254, 0, "vda"},
	} {
		if got, err := BlockDevice(sys, tt.major, tt.minor); err != nil || got != tt.want {
			t.Errorf("BlockDevice(%d:%d) = %q, %v; want %q", tt.major, tt.minor, got, err, tt.want)
		}
	}
	if got, err := BlockDevice(sys, 0, 45); !errors.Is(err, ErrNoBlockDevice) {
		t.Errorf("BlockDevice(0:45) (tmpfs) = %q, %v; want ErrNoBlockDevice", got, err)
	}
}

func TestLabel(t *testing.T) {
	dir := t.TempDir()
	for name, target := range map[string]string{
		`REC\x20DSJ0001`: "../../sdc1",
		"STICK":          "../../sdb1",
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for dev, want := range map[string]string{"sdc1": "REC DSJ0001", "sdb1": "STICK", "sdd": ""} {
		if got := labelOf(dir, dev); got != want {
			t.Errorf("labelOf(%s) = %q, want %q", dev, got, want)
		}
	}
	if got := labelOf(filepath.Join(dir, "missing"), "sdb1"); got != "" {
		t.Errorf("labelOf in a missing directory = %q, want none", got)
	}
}
