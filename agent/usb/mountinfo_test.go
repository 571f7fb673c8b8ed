package usb

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseMountInfo(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want []Mount
	}{
		{
			name: "proc(5) example",
			in:   "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
			want: []Mount{{ID: 36, ParentID: 35, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt2", Options: "rw,noatime",
				Optional: []string{"master:1"}, FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue"}},
		},
		{
			name: "udisks mount with a label holding spaces, no optional fields",
			in:   `412 29 8:33 / /media/evidock/REC\040DSJ0001 rw,nosuid,nodev,relatime - vfat /dev/sdc1 rw,fmask=0022,dmask=0022,codepage=437,iocharset=utf8,shortname=mixed,errors=remount-ro`,
			want: []Mount{{ID: 412, ParentID: 29, Major: 8, Minor: 33, Root: "/", MountPoint: "/media/evidock/REC DSJ0001",
				Options: "rw,nosuid,nodev,relatime", FSType: "vfat", Source: "/dev/sdc1",
				SuperOptions: "rw,fmask=0022,dmask=0022,codepage=437,iocharset=utf8,shortname=mixed,errors=remount-ro"}},
		},
		{
			name: "several optional fields, tab, newline and backslash escapes, CRLF kept",
			in: "1 0 0:1 / / rw - rootfs rootfs rw\n\n" +
				`99 1 7:0 /a\011b /run/media/u/x\012y\134z rw shared:7 master:3 propagate_from:2 unbindable - ext4 /dev/loop0 rw` + "\r\n",
			want: []Mount{
				{ID: 1, ParentID: 0, Major: 0, Minor: 1, Root: "/", MountPoint: "/", Options: "rw", FSType: "rootfs", Source: "rootfs", SuperOptions: "rw"},
				{ID: 99, ParentID: 1, Major: 7, Minor: 0, Root: "/a\tb", MountPoint: "/run/media/u/x\ny\\z", Options: "rw",
					Optional: []string{"shared:7", "master:3", "propagate_from:2", "unbindable"}, FSType: "ext4", Source: "/dev/loop0", SuperOptions: "rw\r"},
			},
		},
		{
			name: "empty source, fuse subtype, not-quite escapes kept",
			in:   `50 22 0:45 / /media/a\04 rw,relatime - fuse.sshfs  rw,user_id=0` + "\n" + `51 22 0:46 / /media/\777\x20 rw - tmpfs tmp\040fs rw`,
			want: []Mount{
				{ID: 50, ParentID: 22, Major: 0, Minor: 45, Root: "/", MountPoint: `/media/a\04`, Options: "rw,relatime", FSType: "fuse.sshfs", Source: "", SuperOptions: "rw,user_id=0"},
				{ID: 51, ParentID: 22, Major: 0, Minor: 46, Root: "/", MountPoint: `/media/\777\x20`, Options: "rw", FSType: "tmpfs", Source: "tmp fs", SuperOptions: "rw"},
			},
		},
		{name: "empty", in: "", want: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMountInfo(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParseMountInfoErrors(t *testing.T) {
	for _, in := range []string{
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw",        // no separator
		"36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root",                          // no super options
		"36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw extra",                 // too many after separator
		"x 35 98:0 / /m rw - ext3 /dev/root rw",                               // ID
		"36 -1 98:0 / /m rw - ext3 /dev/root rw",                              // parent ID
		"36 35 98 / /m rw - ext3 /dev/root rw",                                // device
		"36 35 98:x / /m rw - ext3 /dev/root rw",                              // minor
		"36 35 98:99999999999 / /m rw - ext3 /dev/root rw",                    // minor overflows
		"36 35 98:0 / /m rw -  /dev/root rw",                                  // empty type
		"36 35 98:0 /  rw - ext3 /dev/root rw",                                // empty mount point
		"1 0 0:1 / / rw - rootfs rootfs rw\n36 35 98:0 /mnt1 /mnt2 rw - ext3", // second line short
	} {
		if m, err := ParseMountInfo(strings.NewReader(in)); err == nil {
			t.Errorf("ParseMountInfo(%q) = %+v, want an error", in, m)
		} else if !strings.Contains(err.Error(), "mountinfo line ") {
			t.Errorf("ParseMountInfo(%q) error %q does not name the line", in, err)
		}
	}
}

// The parser reads this machine's own table, whatever is mounted.
func TestParseMountInfoSelf(t *testing.T) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no /proc/self/mountinfo here: %v", err)
	}
	defer f.Close()
	mounts, err := ParseMountInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) == 0 {
		t.Fatal("no mounts")
	}
}

func FuzzParseMountInfo(f *testing.F) {
	f.Add([]byte("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"))
	f.Add([]byte(`412 29 8:33 / /media/evidock/REC\040DSJ0001 rw,nosuid - vfat /dev/sdc1 rw,fmask=0022` + "\n"))
	f.Add([]byte("50 22 0:45 / /m rw - fuse.sshfs  rw\n\n51 22 0:46 / /media/\\777 rw - tmpfs tmp\\040fs rw\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mounts, err := ParseMountInfo(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		// What parses prints back as lines that parse to the same mounts.
		var b strings.Builder
		for _, m := range mounts {
			b.WriteString(m.String() + "\n")
		}
		again, err := ParseMountInfo(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("reprinted table does not parse: %v\n%s", err, b.String())
		}
		if !reflect.DeepEqual(mounts, again) {
			t.Fatalf("round trip changed the mounts:\n%#v\n%#v", mounts, again)
		}
	})
}
