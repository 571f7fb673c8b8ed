package usb

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"evidock"
)

// Allowlist is the USB IDs of recorder models that may be ingested. An empty
// list allows no USB device.
type Allowlist []ID

// Contains reports whether id is on the list.
func (l Allowlist) Contains(id ID) bool { return slices.Contains(l, id) }

// DefaultMaxEntries is how many directory entries Admit looks at, at most,
// to find a recorder's layout.
const DefaultMaxEntries = 1000

// Policy says which volumes are recorders to ingest. Docking stations must
// not become a way to bring data in or carry it off, so anything not known
// to be a recorder is ignored and never read.
type Policy struct {
	// Allow lists the recorder models by USB ID.
	Allow Allowlist
	// AllowNonUSB admits volumes that are not on USB (tmpfs and loop mounts
	// in tests and demos, recorders mounted by other means, an SD card in a
	// built-in reader) if they have a recorder's layout. A volume on USB is
	// always judged by Allow.
	AllowNonUSB bool
	// MaxEntries bounds the directory entries looked at for the layout;
	// DefaultMaxEntries when 0.
	MaxEntries int
}

// Admit reports whether the volume v, whose files are fsys, is a recorder to
// ingest, and why, in words fit for the log. The USB ID is checked first,
// without touching fsys; only then are directory entries of fsys listed
// (never file contents), at most MaxEntries of them, to find a DCIM
// directory holding, directly or one level down, a file named as a recorder
// names its footage (evidock.ParseRecordingName). A volume that cannot be
// listed (unplugged meanwhile) is not admitted.
func (p Policy) Admit(v Volume, fsys fs.FS) (ok bool, reason string) {
	switch {
	case v.USB != nil && !p.Allow.Contains(v.USB.ID):
		return false, fmt.Sprintf("%s is not an allowed recorder: ignored, never read", v)
	case v.USB == nil && !p.AllowNonUSB:
		return false, fmt.Sprintf("%s is not on USB and non-USB volumes are not allowed (allow_non_usb): ignored, never read", v)
	}
	max := p.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	file, err := recorderLayout(fsys, max)
	if err != nil {
		return false, fmt.Sprintf("%s has no recorder layout (%v): ignored", v, err)
	}
	return true, fmt.Sprintf("%s is a recorder (%s)", v, file)
}

var errBudget = errors.New("looked at too many directory entries")

// recorderLayout returns the first recorder footage file under DCIM/ or one
// directory below it, looking at no more than max directory entries.
func recorderLayout(fsys fs.FS, max int) (string, error) {
	budget := max
	top, err := readDirN(fsys, ".", &budget)
	if err != nil && !errors.Is(err, errBudget) {
		return "", err
	}
	dcim := ""
	for _, e := range top {
		// A symlink is not followed: it could lead off the volume.
		if e.IsDir() && strings.EqualFold(e.Name(), "DCIM") {
			dcim = e.Name()
			break
		}
	}
	if dcim == "" {
		if err != nil {
			return "", fmt.Errorf("no DCIM directory among the first %d entries", max)
		}
		return "", errors.New("no DCIM directory")
	}
	dirs := []string{dcim}
	for i := 0; i < len(dirs); i++ {
		ents, err := readDirN(fsys, dirs[i], &budget)
		if err != nil && !errors.Is(err, errBudget) {
			return "", err
		}
		for _, e := range ents {
			name := path.Join(dirs[i], e.Name())
			switch {
			case strings.HasPrefix(e.Name(), "."):
			case e.Type().IsRegular():
				if _, err := evidock.ParseRecordingName(e.Name()); err == nil {
					return name, nil
				}
			case e.IsDir() && i == 0:
				dirs = append(dirs, name)
			}
		}
		if err != nil {
			return "", fmt.Errorf("no recording named as a recorder names them among the first %d entries", max)
		}
	}
	return "", fmt.Errorf("no file in %s named as a recorder names its recordings", dcim)
}

// readDirN lists at most *budget entries of dir, taking them off *budget.
// It returns errBudget with the entries if the budget ran out, when the
// directory may have more.
func readDirN(fsys fs.FS, dir string, budget *int) ([]fs.DirEntry, error) {
	if *budget <= 0 {
		return nil, errBudget
	}
	f, err := fsys.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	ents, err := d.ReadDir(*budget)
	*budget -= len(ents)
	switch {
	case errors.Is(err, io.EOF):
		return ents, nil
	case err != nil:
		return ents, err
	case *budget == 0:
		// There may be more; looking would exceed the budget.
		return ents, errBudget
	}
	return ents, nil
}
