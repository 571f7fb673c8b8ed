package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/abema/go-mp4"

	"evidock"
)

// MinMP4Size is the smallest size WriteMP4 accepts for any creation time and
// duration: ftyp, moov holding a version-1 mvhd, and an empty mdat's header.
// Times before 2040 need only a version-0 mvhd, so WriteMP4 takes 12 bytes
// less for them.
const MinMP4Size = ftypSize + 8 + mvhdV1Size + mdatHeaderSize

const (
	ftypSize       = 32  // header, major brand, minor version, four compatible brands
	mvhdV0Size     = 108 // 32-bit times and duration
	mvhdV1Size     = 120 // 64-bit times and duration
	mdatHeaderSize = mp4.SmallHeaderSize

	// chunkSize bounds the memory used to write footage of any size.
	chunkSize = 1 << 20

	// timescale of the mvhd, in units per second: milliseconds, as most
	// recorders write.
	timescale = 1000
)

// mp4Epoch is where MP4 clocks start (ISO/IEC 14496-12 §8.2.2).
var mp4Epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrNoMvhd means an MP4 file has no moov/mvhd box, so neither its creation
// time nor its duration can be known.
var ErrNoMvhd = errors.New("mp4: no moov/mvhd box")

// WriteMP4 writes a structurally valid MP4 file of exactly size bytes to w: an
// ftyp box, a moov box holding an mvhd with the given creation time (whole
// seconds) and duration (milliseconds), and an mdat box filling the rest with
// pseudo-random bytes drawn from seed. Different seeds give different bytes;
// the same arguments always give the same bytes. It writes in chunks of 1 MiB,
// so size may exceed memory; an mdat larger than 4 GiB gets a 64-bit size.
//
// It returns an EINVALID error, naming the minimum, if size cannot hold the
// boxes, or if created is before 1904 or dur is negative; and the first error
// from w, wrapped.
func WriteMP4(w io.Writer, size int64, created time.Time, dur time.Duration, seed uint64) error {
	hdr, err := mp4Header(size, created, dur)
	if err != nil {
		return fmt.Errorf("write mp4: %w", err)
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("write mp4: %w", err)
	}
	if err := writeRandom(w, size-int64(len(hdr)), seed); err != nil {
		return fmt.Errorf("write mp4: mdat: %w", err)
	}
	return nil
}

// mp4Header returns the bytes of an MP4 file of the given size up to the
// start of the mdat payload.
func mp4Header(size int64, created time.Time, dur time.Duration) ([]byte, error) {
	if created.Before(mp4Epoch) {
		return nil, evidock.Errorf(evidock.EINVALID, "creation time %s is before the MP4 epoch 1904-01-01", created.Format(time.RFC3339))
	}
	if dur < 0 {
		return nil, evidock.Errorf(evidock.EINVALID, "duration %s is negative", dur)
	}
	secs := uint64(created.Unix() - mp4Epoch.Unix())
	ms := uint64(dur.Round(time.Millisecond) / time.Millisecond)

	mvhd := &mp4.Mvhd{
		Timescale:   timescale,
		Rate:        0x00010000, // normal speed, 16.16 fixed point
		Volume:      0x0100,     // full volume, 8.8 fixed point
		Matrix:      [9]int32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000},
		NextTrackID: 1,
	}
	if secs <= math.MaxUint32 && ms <= math.MaxUint32 {
		mvhd.CreationTimeV0, mvhd.ModificationTimeV0, mvhd.DurationV0 = uint32(secs), uint32(secs), uint32(ms)
	} else {
		mvhd.SetVersion(1) // 32-bit fields run out in February 2040
		mvhd.CreationTimeV1, mvhd.ModificationTimeV1, mvhd.DurationV1 = secs, secs, ms
	}
	ftyp := &mp4.Ftyp{
		MajorBrand:   [4]byte{'i', 's', 'o', 'm'},
		MinorVersion: 0x200,
		CompatibleBrands: []mp4.CompatibleBrandElem{
			{CompatibleBrand: [4]byte{'i', 's', 'o', 'm'}},
			{CompatibleBrand: [4]byte{'i', 's', 'o', '2'}},
			{CompatibleBrand: [4]byte{'a', 'v', 'c', '1'}},
			{CompatibleBrand: [4]byte{'m', 'p', '4', '1'}},
		},
	}

	// go-mp4 patches box sizes by seeking back, so boxes are built in memory.
	var buf seekBuf
	mw := mp4.NewWriter(&buf)
	if err := writeBox(mw, mp4.BoxTypeFtyp(), ftyp); err != nil {
		return nil, fmt.Errorf("ftyp: %w", err)
	}
	if _, err := mw.StartBox(&mp4.BoxInfo{Type: mp4.BoxTypeMoov()}); err != nil {
		return nil, fmt.Errorf("moov: %w", err)
	}
	if err := writeBox(mw, mp4.BoxTypeMvhd(), mvhd); err != nil {
		return nil, fmt.Errorf("mvhd: %w", err)
	}
	if _, err := mw.EndBox(); err != nil {
		return nil, fmt.Errorf("moov: %w", err)
	}

	mdat := size - int64(len(buf.b))
	if mdat < mdatHeaderSize {
		return nil, evidock.Errorf(evidock.EINVALID,
			"size %d bytes is too small for an MP4: the minimum is %d (ftyp %d + moov %d + mdat header %d)",
			size, int64(len(buf.b))+mdatHeaderSize, ftypSize, len(buf.b)-ftypSize, mdatHeaderSize)
	}
	bi := &mp4.BoxInfo{Type: mp4.BoxTypeMdat(), Size: uint64(mdat), HeaderSize: mdatHeaderSize}
	if mdat > math.MaxUint32 {
		bi.HeaderSize = mp4.LargeHeaderSize // 64-bit largesize after a size field of 1
	}
	if _, err := mp4.WriteBoxInfo(&buf, bi); err != nil {
		return nil, fmt.Errorf("mdat: %w", err)
	}
	return buf.b, nil
}

// writeBox writes one box with its payload, its size patched afterwards.
func writeBox(mw *mp4.Writer, typ mp4.BoxType, payload mp4.IImmutableBox) error {
	if _, err := mw.StartBox(&mp4.BoxInfo{Type: typ}); err != nil {
		return err
	}
	if _, err := mp4.Marshal(mw, payload, mp4.Context{}); err != nil {
		return err
	}
	_, err := mw.EndBox()
	return err
}

// writeRandom writes n pseudo-random bytes drawn from seed to w. It returns
// the first error from w.
func writeRandom(w io.Writer, n int64, seed uint64) error {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:8], seed)
	copy(key[8:], "evidock/firmware-bridge/sim") // keeps our streams apart from other ChaCha8 users of small seeds
	src := rand.NewChaCha8(key)
	buf := make([]byte, min(n, chunkSize))
	for n > 0 {
		p := buf[:min(n, int64(len(buf)))]
		_, _ = src.Read(p) // ChaCha8.Read never fails
		if _, err := w.Write(p); err != nil {
			return err
		}
		n -= int64(len(p))
	}
	return nil
}

// ReadMP4Info returns the creation time (in UTC, whole seconds) and the
// duration that the first moov/mvhd box of an MP4 file records. It returns an
// error wrapping ErrNoMvhd if there is no such box, and a wrapped error if the
// boxes cannot be parsed or the mvhd holds values out of range.
func ReadMP4Info(r io.ReadSeeker) (created time.Time, dur time.Duration, err error) {
	boxes, err := extractMvhd(r)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read mp4 info: %w", err)
	}
	if len(boxes) == 0 {
		return time.Time{}, 0, fmt.Errorf("read mp4 info: %w", ErrNoMvhd)
	}
	mvhd, ok := boxes[0].Payload.(*mp4.Mvhd)
	if !ok {
		return time.Time{}, 0, fmt.Errorf("read mp4 info: mvhd payload is %T", boxes[0].Payload)
	}
	if mvhd.Timescale == 0 {
		return time.Time{}, 0, errors.New("read mp4 info: mvhd timescale is 0")
	}
	// Bounds keep the arithmetic below from overflowing; no recorder writes
	// dates 10,000 years out or recordings longer than a century.
	secs := mvhd.GetCreationTime()
	if secs > 10000*366*86400 {
		return time.Time{}, 0, fmt.Errorf("read mp4 info: mvhd creation time %d s after 1904 is out of range", secs)
	}
	ts, d := uint64(mvhd.Timescale), mvhd.GetDuration()
	if d/ts > 100*366*86400 {
		return time.Time{}, 0, fmt.Errorf("read mp4 info: mvhd duration %d/%d s is out of range", d, ts)
	}
	created = time.Unix(mp4Epoch.Unix()+int64(secs), 0).UTC()
	dur = time.Duration(d/ts)*time.Second + time.Duration((d%ts)*uint64(time.Second)/ts)
	return created, dur, nil
}

// extractMvhd returns the moov/mvhd boxes of r. A panic in go-mp4 on hostile
// bytes becomes an error: the agent reads files from devices it does not
// control, and one bad file must not stop it.
func extractMvhd(r io.ReadSeeker) (boxes []*mp4.BoxInfoWithPayload, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed mp4: %v", p)
		}
	}()
	return mp4.ExtractBoxWithPayload(r, nil, mp4.BoxPath{mp4.BoxTypeMoov(), mp4.BoxTypeMvhd()})
}

// seekBuf is an in-memory io.WriteSeeker, for go-mp4's Writer.
type seekBuf struct {
	b   []byte
	off int
}

func (s *seekBuf) Write(p []byte) (int, error) {
	if end := s.off + len(p); end > len(s.b) {
		s.b = append(s.b, make([]byte, end-len(s.b))...)
	}
	copy(s.b[s.off:], p)
	s.off += len(p)
	return len(p), nil
}

func (s *seekBuf) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += int64(s.off)
	case io.SeekEnd:
		offset += int64(len(s.b))
	default:
		return 0, fmt.Errorf("seek: bad whence %d", whence)
	}
	if offset < 0 || offset > math.MaxInt32 {
		return 0, fmt.Errorf("seek: offset %d out of range", offset)
	}
	s.off = int(offset)
	return offset, nil
}
