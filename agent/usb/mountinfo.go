package usb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mount is one line of /proc/<pid>/mountinfo (see proc(5)).
type Mount struct {
	ID, ParentID int
	Major, Minor uint32 // st_dev of files in the mount; major 0 for tmpfs and other anonymous devices
	Root         string // the directory of the file system mounted here (not / for bind mounts)
	MountPoint   string
	Options      string   // per-mount options, as printed: rw,nosuid,relatime
	Optional     []string // optional fields: shared:1, master:2, propagate_from:3, unbindable
	FSType       string   // ext4, vfat, fuse.sshfs
	Source       string   // /dev/sdb1, tmpfs; may be empty
	SuperOptions string   // per-superblock options, as printed (still escaped)
}

// maxMountInfoLine bounds one line: overlay mounts with many layers run to
// tens of kilobytes.
const maxMountInfoLine = 1 << 20

// ParseMountInfo parses the mount table in the format of /proc/self/mountinfo.
// Octal escapes (\040 for a space, \011, \012, \134) are decoded in Root,
// MountPoint, FSType and Source; blank lines are skipped. It returns an error
// naming the line if a line does not have the format, or the reader's error.
func ParseMountInfo(r io.Reader) ([]Mount, error) {
	var mounts []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxMountInfoLine)
	sc.Split(scanLines)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMountLine(line)
		if err != nil {
			return nil, fmt.Errorf("mountinfo line %d: %w", n, err)
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mountinfo: %w", err)
	}
	return mounts, nil
}

// scanLines splits at '\n' only: bufio.ScanLines would also drop a '\r'
// that belongs to the last field.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// parseMountLine parses
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Fields are separated by single spaces; the kernel escapes spaces inside
// them, and prints an empty source as an empty field.
func parseMountLine(line string) (Mount, error) {
	var m Mount
	f := strings.Split(line, " ")
	if len(f) < 10 {
		return m, fmt.Errorf("%d fields, want at least 10", len(f))
	}
	var err error
	if m.ID, err = strconv.Atoi(f[0]); err != nil || m.ID < 0 {
		return m, fmt.Errorf("mount ID %q is not a number", f[0])
	}
	if m.ParentID, err = strconv.Atoi(f[1]); err != nil || m.ParentID < 0 {
		return m, fmt.Errorf("parent ID %q is not a number", f[1])
	}
	maj, min, ok := strings.Cut(f[2], ":")
	major, err1 := strconv.ParseUint(maj, 10, 32)
	minor, err2 := strconv.ParseUint(min, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return m, fmt.Errorf("device %q is not major:minor", f[2])
	}
	m.Major, m.Minor = uint32(major), uint32(minor)
	if f[3] == "" || f[4] == "" || f[5] == "" {
		return m, fmt.Errorf("empty root, mount point or options")
	}
	m.Root, m.MountPoint, m.Options = unescape(f[3]), unescape(f[4]), f[5]
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 {
		return m, fmt.Errorf(`no " - " separator`)
	}
	if len(f)-sep-1 != 3 {
		return m, fmt.Errorf("%d fields after the separator, want 3 (type, source, super options)", len(f)-sep-1)
	}
	if sep > 6 {
		m.Optional = f[6:sep:sep]
	}
	m.FSType, m.Source, m.SuperOptions = unescape(f[sep+1]), unescape(f[sep+2]), f[sep+3]
	if m.FSType == "" {
		return m, fmt.Errorf("empty file system type")
	}
	return m, nil
}

// unescape decodes the kernel's \ooo octal escapes; a backslash not followed
// by three octal digits of a byte value is kept as it is.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) && s[i+1] <= '3' {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// escape is the inverse of unescape for what the kernel escapes.
func escape(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, `\%03o`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// String returns m as a line of mountinfo, without the newline.
func (m Mount) String() string {
	f := []string{strconv.Itoa(m.ID), strconv.Itoa(m.ParentID),
		strconv.FormatUint(uint64(m.Major), 10) + ":" + strconv.FormatUint(uint64(m.Minor), 10),
		escape(m.Root), escape(m.MountPoint), m.Options}
	f = append(f, m.Optional...)
	f = append(f, "-", escape(m.FSType), escape(m.Source), m.SuperOptions)
	return strings.Join(f, " ")
}
