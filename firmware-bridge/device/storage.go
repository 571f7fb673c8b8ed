package device

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"evidock"
	"evidock/firmware-bridge/protocol"
	"evidock/firmware-bridge/sim"
)

// recording is a footage file on the simulated storage.
type recording struct {
	entry protocol.Entry
	path  string
	mtime time.Time
}

// scan lists the footage under dir/DCIM, oldest first. It reuses durations
// from prev for files that have not changed, so that a LIST does not parse
// every MP4 every time.
func scan(dir string, prev map[string]recording) ([]recording, int64, error) {
	var recs []recording
	var used int64
	root := filepath.Join(dir, "DCIM")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		used += fi.Size()
		name := d.Name()
		if !evidock.IsFootage(name) || protocol.CheckName(name) != nil {
			return nil
		}
		if r, ok := prev[name]; ok && r.path == p && r.entry.Size == fi.Size() && r.mtime.Equal(fi.ModTime()) {
			recs = append(recs, r)
			return nil
		}
		recs = append(recs, recording{entry: describe(p, name, fi), path: p, mtime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(recs, func(a, b recording) int {
		if c := a.entry.StartedAt.Compare(b.entry.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.entry.Name, b.entry.Name)
	})
	return recs, used, nil
}

// describe returns the list entry of a footage file: the start time from its
// name (or its mtime), the duration from its mvhd (or the mtime less the
// start).
func describe(p, name string, fi fs.FileInfo) protocol.Entry {
	e := protocol.Entry{Name: name, Size: fi.Size(), StartedAt: fi.ModTime().Truncate(time.Second)}
	if rn, err := evidock.ParseRecordingName(name); err == nil {
		e.StartedAt = rn.StartedAt
	}
	if f, err := os.Open(p); err == nil {
		_, dur, err := sim.ReadMP4Info(f)
		f.Close()
		if err == nil {
			e.Duration = dur
		}
	}
	if e.Duration == 0 && fi.ModTime().After(e.StartedAt) {
		e.Duration = fi.ModTime().Sub(e.StartedAt)
	}
	e.Duration = min(max(e.Duration.Truncate(time.Millisecond), 0), time.Duration(1<<32-1)*time.Millisecond)
	return e
}

// generation returns a number that changes when the list does.
func generation(recs []recording) uint32 {
	h := fnv.New32a()
	for _, r := range recs {
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", r.entry.Name, r.entry.Size, r.entry.Flags)
	}
	return h.Sum32()
}

// LoadVolume reads the serial and officer number of a volume that
// sim.Volume.Create wrote, from its sim.InfoFile, and returns them as the
// recorder info. It returns an error naming the file if it is missing or
// lacks them.
func LoadVolume(dir string) (protocol.Info, error) {
	name := filepath.Join(dir, filepath.FromSlash(sim.InfoFile))
	f, err := os.Open(name)
	if err != nil {
		return protocol.Info{}, fmt.Errorf("load volume %s: %w (create one with 'evidock-bridge sim')", dir, err)
	}
	defer f.Close()
	var info protocol.Info
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		switch k {
		case "SERIAL":
			info.DeviceSerial = v
		case "OFFICER":
			info.OfficerNo = v
		}
	}
	if err := sc.Err(); err != nil {
		return protocol.Info{}, fmt.Errorf("load volume %s: %w", dir, err)
	}
	if info.DeviceSerial == "" || info.OfficerNo == "" {
		return protocol.Info{}, fmt.Errorf("load volume %s: %s has no SERIAL= or OFFICER= line", dir, name)
	}
	if err := info.Validate(); err != nil {
		return protocol.Info{}, fmt.Errorf("load volume %s: %w", dir, err)
	}
	return info, nil
}
