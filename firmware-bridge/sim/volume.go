package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"evidock"
	"evidock/internal/durable"
)

// DefaultExt is the extension of a Recording whose Ext is empty.
const DefaultExt = "MP4"

// MediaDir is where recorders keep footage, relative to the volume root, in
// slash form.
const MediaDir = "DCIM/100MEDIA"

// InfoFile is a small file that is not footage, outside DCIM, as recorders
// keep settings and logs beside their footage; the agent must leave it alone.
const InfoFile = "MISC/DEVICE.TXT"

// Recording is one footage file on a simulated recorder.
type Recording struct {
	Seq       int           // the recorder's running number, 0 to 999999
	StartedAt time.Time     // by the recorder's clock; names and mvhd keep whole seconds
	Duration  time.Duration // the file's mtime is StartedAt+Duration
	Size      int64         // bytes of the whole file
	Ext       string        // MP4, MOV, JPG, WAV or AAC, upper case; "" means MP4
}

// EndedAt returns when the recording stopped, which the recorder stamps as the
// file's modification time.
func (r Recording) EndedAt() time.Time { return r.StartedAt.Add(r.Duration) }

func (r Recording) ext() string {
	if r.Ext == "" {
		return DefaultExt
	}
	return r.Ext
}

// Volume is the storage of one simulated recorder, as it appears when the
// recorder is plugged in.
type Volume struct {
	DeviceSerial string // 7 letters or digits, upper case
	OfficerNo    string // 6 digits
	Label        string // volume label, written to InfoFile; "" means DeviceSerial

	// Seed is mixed into every recording's seed, so that runs with the same
	// recordings can still give different bytes.
	Seed uint64

	Recordings []Recording
}

// File is a file that Create wrote.
type File struct {
	Path      string // relative to the volume root, slash-separated
	Recording Recording
}

// FileName returns the base name under which the recorder stores r, e.g.
// DSJ0001_100234_20261125093000_0001.MP4, with the time in ChinaTime.
func (v Volume) FileName(r Recording) string {
	return evidock.RecordingName{
		DeviceSerial: v.DeviceSerial,
		OfficerNo:    v.OfficerNo,
		StartedAt:    r.StartedAt,
		Seq:          r.Seq,
		Ext:          r.ext(),
	}.String()
}

// Validate returns an EINVALID error naming the first thing that would keep v
// from being written as a recorder writes it: a malformed serial or officer
// number, a recording whose name would not parse back, a size too small for
// its MP4 boxes, a negative duration, or two recordings with the same name.
func (v Volume) Validate() error {
	if len(v.DeviceSerial) != evidock.DeviceSerialLen || !isUpperAlnum(v.DeviceSerial) {
		return evidock.Errorf(evidock.EINVALID, "device serial %q must be %d upper-case letters or digits", v.DeviceSerial, evidock.DeviceSerialLen)
	}
	if len(v.OfficerNo) != evidock.OfficerNoLen || strings.Trim(v.OfficerNo, "0123456789") != "" {
		return evidock.Errorf(evidock.EINVALID, "officer number %q must be %d digits", v.OfficerNo, evidock.OfficerNoLen)
	}
	seen := make(map[string]int, len(v.Recordings))
	for i, r := range v.Recordings {
		what := fmt.Sprintf("recording %d (seq %d)", i+1, r.Seq)
		switch {
		case r.Seq < 0 || r.Seq > 999999:
			return evidock.Errorf(evidock.EINVALID, "%s: sequence number must be 0 to 999999", what)
		case r.StartedAt.IsZero():
			return evidock.Errorf(evidock.EINVALID, "%s: start time is not set", what)
		case r.Duration < 0:
			return evidock.Errorf(evidock.EINVALID, "%s: duration %s is negative", what, r.Duration)
		case r.Size < 0:
			return evidock.Errorf(evidock.EINVALID, "%s: size %d is negative", what, r.Size)
		}
		// The agent finds footage by parsing names, so a name that does not
		// parse back to what was meant is a bug here, not a test of the agent.
		name := v.FileName(r)
		got, err := evidock.ParseRecordingName(name)
		if err != nil {
			return evidock.Errorf(evidock.EINVALID, "%s: %s", what, evidock.ErrorMessage(err))
		}
		if !got.StartedAt.Equal(r.StartedAt.Truncate(time.Second)) || got.Ext != r.ext() {
			return evidock.Errorf(evidock.EINVALID, "%s: name %s does not carry its start time %s and extension %q",
				what, name, r.StartedAt.Format(time.RFC3339Nano), r.ext())
		}
		if isMP4(r.ext()) {
			if _, err := mp4Header(r.Size, r.StartedAt, r.Duration); err != nil {
				return evidock.Errorf(evidock.EINVALID, "%s: %s", what, evidock.ErrorMessage(err))
			}
		}
		if j, dup := seen[name]; dup {
			return evidock.Errorf(evidock.EINVALID, "%s: name %s is already taken by recording %d", what, name, j+1)
		}
		seen[name] = i
	}
	return nil
}

// Create writes v as a recorder volume at dir: each recording under
// dir/DCIM/100MEDIA/ with its mtime at the recording's end, and InfoFile. It
// builds the tree in a hidden sibling directory (.<name>.partial-*), fsyncs
// it, and renames it to dir, so that a watcher of the parent sees the whole
// volume appear at once and never a half-written one. It returns the files
// in v's order.
//
// It returns an EINVALID error if v is not valid, an ECONFLICT error if dir
// already exists, an ENOTFOUND error if dir's parent does not exist, and a
// wrapped error if writing fails or ctx is cancelled; on any error it
// removes the partial directory and leaves dir absent.
func (v Volume) Create(ctx context.Context, dir string) (files []File, err error) {
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	}
	dir = filepath.Clean(dir)
	if err := checkAbsent(dir); err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	}
	parent := filepath.Dir(dir)
	if fi, err := os.Stat(parent); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create volume: %w", evidock.Errorf(evidock.ENOTFOUND,
			"parent directory %q does not exist: create it first (it stands for the mount root)", parent))
	} else if err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("create volume: %w", evidock.Errorf(evidock.EINVALID, "parent %q is not a directory", parent))
	}

	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp) // best effort; the error that matters is err
		}
	}()
	// MkdirTemp makes 0700; a mount is readable by the agent's service user.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	}
	if files, err = v.writeTree(ctx, tmp); err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	}
	// Rename onto an empty directory succeeds on Unix, so look once more.
	if err := checkAbsent(dir); err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("create volume: %w", err)
	}
	if err := durable.SyncDir(parent); err != nil {
		// The volume is in place; only its durability across a crash is in
		// doubt, and removing it now would surprise a watcher.
		return files, fmt.Errorf("create volume: sync %s: %w", parent, err)
	}
	return files, nil
}

// writeTree writes the volume's files under root and fsyncs them and their
// directories.
func (v Volume) writeTree(ctx context.Context, root string) ([]File, error) {
	media := filepath.Join(root, filepath.FromSlash(MediaDir))
	info := filepath.Join(root, filepath.FromSlash(InfoFile))
	for _, d := range []string{media, filepath.Dir(info)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}

	files := make([]File, 0, len(v.Recordings))
	for _, r := range v.Recordings {
		name := v.FileName(r)
		seed := v.recordingSeed(r)
		write := func(w io.Writer) error { return writeRandom(w, r.Size, seed) }
		if isMP4(r.ext()) {
			write = func(w io.Writer) error { return WriteMP4(w, r.Size, r.StartedAt, r.Duration, seed) }
		}
		if err := writeFile(ctx, filepath.Join(media, name), r.EndedAt(), write); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		files = append(files, File{Path: path.Join(MediaDir, name), Recording: r})
	}

	label := v.Label
	if label == "" {
		label = v.DeviceSerial
	}
	text := fmt.Sprintf("LABEL=%s\r\nSERIAL=%s\r\nOFFICER=%s\r\nSIMULATED=evidock-bridge sim\r\n", label, v.DeviceSerial, v.OfficerNo)
	err := writeFile(ctx, info, time.Now(), func(w io.Writer) error {
		_, err := io.WriteString(w, text)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", InfoFile, err)
	}

	for _, d := range []string{media, filepath.Dir(media), filepath.Dir(info), root} {
		if err := durable.SyncDir(d); err != nil {
			return nil, fmt.Errorf("sync %s: %w", d, err)
		}
	}
	return files, nil
}

// writeFile creates name, fills it with write, fsyncs it and sets its mtime.
func writeFile(ctx context.Context, name string, mtime time.Time, write func(io.Writer) error) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	err = write(ctxWriter{ctx, f})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// After Close: on Windows a later write would move the mtime again.
	return os.Chtimes(name, mtime, mtime)
}

// recordingSeed returns the seed of r's bytes. It mixes in everything that
// makes a recording distinct (serial, officer, seq, start time) because
// storage downstream is content-addressed: two recordings with equal bytes
// would collapse into one clip.
func (v Volume) recordingSeed(r Recording) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, x := range []uint64{v.Seed, uint64(r.Seq), uint64(r.StartedAt.Unix())} {
		binary.LittleEndian.PutUint64(b[:], x)
		h.Write(b[:])
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s", v.DeviceSerial, v.OfficerNo, r.ext())
	return h.Sum64()
}

// Consecutive returns recordings made one after another by one recorder: the
// first starts at start, each next one gap after the previous one ends
// (rounded up to a whole second, since names keep whole seconds), and seq
// numbers count up from firstSeq. Recording i is sizes[i] bytes long and
// lasts durations[i]. It returns an EINVALID error if the lists differ in
// length or gap is negative.
func Consecutive(start time.Time, gap time.Duration, firstSeq int, sizes []int64, durations []time.Duration) ([]Recording, error) {
	if len(sizes) != len(durations) {
		return nil, evidock.Errorf(evidock.EINVALID, "%d sizes but %d durations: give one duration per size", len(sizes), len(durations))
	}
	if gap < 0 {
		return nil, evidock.Errorf(evidock.EINVALID, "gap %s is negative", gap)
	}
	recs := make([]Recording, len(sizes))
	at := start.Truncate(time.Second)
	for i := range sizes {
		recs[i] = Recording{Seq: firstSeq + i, StartedAt: at, Duration: durations[i], Size: sizes[i]}
		next := at.Add(durations[i] + gap)
		if t := next.Truncate(time.Second); t.Before(next) {
			next = t.Add(time.Second)
		}
		at = next
	}
	return recs, nil
}

// checkAbsent returns an ECONFLICT error if name exists, and a wrapped error
// if that cannot be known.
func checkAbsent(name string) error {
	_, err := os.Lstat(name)
	switch {
	case err == nil:
		return evidock.Errorf(evidock.ECONFLICT,
			"%q already exists: a volume appears whole, so choose a new directory or remove this one", name)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return err
	}
}

func isMP4(ext string) bool { return ext == "MP4" || ext == "MOV" }

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ctxWriter stops a long write when its context is cancelled; WriteMP4 writes
// in 1 MiB chunks, so cancellation takes effect within one chunk.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
