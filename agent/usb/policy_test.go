package usb

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

const recording = "DSJ0001_100234_20240501070000_0001.MP4"

// countingFS records what is opened, so that a test can see that a volume
// was never read.
type countingFS struct {
	fs.FS
	opened []string
}

func (c *countingFS) Open(name string) (fs.File, error) {
	c.opened = append(c.opened, name)
	return c.FS.Open(name)
}

func TestAdmit(t *testing.T) {
	recorderID, stickID := ID{0x2e3c, 0x5740}, ID{0x0781, 0x5581}
	recorder := &Device{ID: recorderID, Serial: "DSJ0001", Manufacturer: "ZFJLY", Product: "执法记录仪"}
	stick := &Device{ID: stickID, Serial: "4C53", Manufacturer: "SanDisk", Product: "Cruzer"}
	layout := fstest.MapFS{"DCIM/100MEDIA/" + recording: {Data: []byte("x")}, "INFO.TXT": {}}
	flat := fstest.MapFS{"dcim/" + strings.ToLower(recording): {}}
	many := fstest.MapFS{}
	for i := range 2000 {
		many[fmt.Sprintf("DCIM/%04d.MP4", i)] = &fstest.MapFile{}
	}
	many["DCIM/"+recording] = &fstest.MapFile{} // sorted last by MapFS
	crowdedRoot := fstest.MapFS{"DCIM/" + recording: {}}
	for i := range 2000 {
		crowdedRoot[fmt.Sprintf("A%04d", i)] = &fstest.MapFile{}
	}
	allow := Allowlist{recorderID}

	for _, tt := range []struct {
		name   string
		p      Policy
		v      Volume
		fsys   fs.FS
		ok     bool
		reason string // a part of it
		read   bool   // whether fsys may be opened
	}{
		{"allowed recorder", Policy{Allow: allow}, Volume{USB: recorder, MountPoint: "/media/r"}, layout, true, "DCIM/100MEDIA/" + recording, true},
		{"layout directly in dcim, any case", Policy{Allow: allow}, Volume{USB: recorder}, flat, true, "is a recorder", true},
		{"private stick, recorder layout copied", Policy{Allow: allow, AllowNonUSB: true}, Volume{USB: stick, MountPoint: "/media/s"}, layout, false,
			"USB 0781:5581 SanDisk Cruzer serial 4C53 at /media/s is not an allowed recorder: ignored, never read", false},
		{"empty allowlist allows no USB device", Policy{}, Volume{USB: recorder}, layout, false, "not an allowed recorder", false},
		{"unknown USB device (IDs unreadable)", Policy{Allow: allow, AllowNonUSB: true}, Volume{USB: &Device{}}, layout, false, "0000:0000", false},
		{"not on USB, not allowed", Policy{Allow: allow}, Volume{Device: "/dev/loop0", FSType: "ext4", MountPoint: "/media/l"}, layout, false,
			"/dev/loop0 (ext4) at /media/l is not on USB and non-USB volumes are not allowed (allow_non_usb): ignored, never read", false},
		{"not on USB, allowed", Policy{AllowNonUSB: true}, Volume{Device: "tmpfs"}, layout, true, "is a recorder", true},
		{"allowed recorder without DCIM", Policy{Allow: allow}, Volume{USB: recorder}, fstest.MapFS{"100MEDIA/" + recording: {}}, false, "no DCIM directory", true},
		{"DCIM is a file", Policy{Allow: allow}, Volume{USB: recorder}, fstest.MapFS{"DCIM": {}}, false, "no DCIM directory", true},
		{"DCIM without recordings", Policy{Allow: allow}, Volume{USB: recorder}, fstest.MapFS{"DCIM/100MEDIA/IMG_0001.JPG": {}, "DCIM/x.MP4": {}}, false, "named as a recorder", true},
		{"recording two levels down is not looked for", Policy{Allow: allow}, Volume{USB: recorder}, fstest.MapFS{"DCIM/a/b/" + recording: {}}, false, "named as a recorder", true},
		{"hidden file", Policy{Allow: allow}, Volume{USB: recorder}, fstest.MapFS{"DCIM/._" + recording: {}}, false, "named as a recorder", true},
		{"recording past the entry cap", Policy{Allow: allow, MaxEntries: 500}, Volume{USB: recorder}, many, false, "among the first 500 entries", true},
		{"recording within a raised cap", Policy{Allow: allow, MaxEntries: 3000}, Volume{USB: recorder}, many, true, "is a recorder", true},
		{"DCIM past the entry cap", Policy{Allow: allow, MaxEntries: 100}, Volume{USB: recorder}, crowdedRoot, false, "no DCIM directory among the first 100 entries", true},
		{"volume gone", Policy{Allow: allow}, Volume{USB: recorder}, errFS{}, false, "no recorder layout", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &countingFS{FS: tt.fsys}
			ok, reason := tt.p.Admit(tt.v, c)
			if ok != tt.ok || !strings.Contains(reason, tt.reason) {
				t.Errorf("Admit = %v, %q; want %v, containing %q", ok, reason, tt.ok, tt.reason)
			}
			if !tt.read && len(c.opened) > 0 {
				t.Errorf("Admit read the volume (%v); it must not be touched", c.opened)
			}
		})
	}
}

type errFS struct{}

func (errFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func TestParseIDs(t *testing.T) {
	ids, err := ParseIDs(" 2e3c:5740, 0x0781:0X5581 ,")
	if err != nil || len(ids) != 2 || ids[0] != (ID{0x2e3c, 0x5740}) || ids[1] != (ID{0x0781, 0x5581}) {
		t.Fatalf("ParseIDs = %v, %v", ids, err)
	}
	if !ids.Contains(ID{0x0781, 0x5581}) || ids.Contains(ID{0x0781, 0x5582}) {
		t.Error("Contains is wrong")
	}
	if ids[0].String() != "2e3c:5740" {
		t.Errorf("String = %q", ids[0].String())
	}
	for _, bad := range []string{"2e3c", "2e3c:", ":5740", "12345:1", "g:1", "2e3c:5740:1", "2e3c:5740,x"} {
		if _, err := ParseIDs(bad); err == nil {
			t.Errorf("ParseIDs(%q) gave no error", bad)
		}
	}
	if ids, err := ParseIDs(""); err != nil || len(ids) != 0 {
		t.Errorf("ParseIDs(\"\") = %v, %v", ids, err)
	}
}

func TestDeviceString(t *testing.T) {
	d := &Device{ID: ID{0x0781, 0x5581}, Manufacturer: "Evil\x1b[2J", Product: "Stick", Serial: "a\nb"}
	if got, want := d.String(), `0781:5581 "Evil\x1b[2J" Stick serial "a\nb"`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
}
