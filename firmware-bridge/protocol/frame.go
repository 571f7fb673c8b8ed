package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Frame layout constants; PROTOCOL.md §2 is the authority.
const (
	SOF0 = 0xEB // first start-of-frame byte
	SOF1 = 0x90 // second start-of-frame byte

	// HeaderSize is SOF (2), VER, FLAGS, CMD, SEQ (2), LEN (2) and HCRC (2).
	HeaderSize = 11
	// TrailerSize is the CRC-32 after the payload.
	TrailerSize = 4
	// Overhead is what a frame adds to its payload.
	Overhead = HeaderSize + TrailerSize
	// MaxPayload is the largest payload LEN can state. A device may accept
	// less; it says how much in Identity.MaxPayload.
	MaxPayload = 0xFFFF
	// MaxFrameSize is the size of a frame with the largest payload.
	MaxFrameSize = Overhead + MaxPayload
)

// Flags are the bits of a frame's FLAGS byte. Receivers ignore bits they do
// not know; senders set them to zero.
type Flags uint8

// Flag bits.
const (
	FlagResponse Flags = 1 << 0 // set on every frame the device sends
	FlagError    Flags = 1 << 1 // the payload is an error body (PROTOCOL.md §6)
)

// Frame is one unit on the wire: a header naming the command and sequence
// number, and a payload of up to MaxPayload bytes.
type Frame struct {
	Version uint8 // protocol major version; Version for frames this package makes
	Flags   Flags
	Cmd     Command
	Seq     uint16
	Payload []byte
}

// IsResponse reports whether the frame came from a device.
func (f Frame) IsResponse() bool { return f.Flags&FlagResponse != 0 }

// IsError reports whether the frame carries an error body.
func (f Frame) IsError() bool { return f.Flags&FlagError != 0 }

// Size returns the number of bytes f takes on the wire.
func (f Frame) Size() int { return Overhead + len(f.Payload) }

// ErrPayloadTooLarge means a payload does not fit in one frame.
var ErrPayloadTooLarge = errors.New("payload larger than 65535 bytes")

// AppendFrame appends the wire form of f to dst. It returns dst unchanged and
// ErrPayloadTooLarge if the payload exceeds MaxPayload.
func AppendFrame(dst []byte, f Frame) ([]byte, error) {
	if len(f.Payload) > MaxPayload {
		return dst, fmt.Errorf("encode frame: %w (%d)", ErrPayloadTooLarge, len(f.Payload))
	}
	start := len(dst)
	dst = append(dst, SOF0, SOF1, f.Version, byte(f.Flags), byte(f.Cmd))
	dst = binary.BigEndian.AppendUint16(dst, f.Seq)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(f.Payload)))
	dst = binary.BigEndian.AppendUint16(dst, CRC16(dst[start:]))
	dst = append(dst, f.Payload...)
	return binary.BigEndian.AppendUint32(dst, CRC32(dst[start:])), nil
}

// MarshalBinary returns the wire form of f, or ErrPayloadTooLarge.
func (f Frame) MarshalBinary() ([]byte, error) {
	return AppendFrame(make([]byte, 0, f.Size()), f)
}

// ErrIncomplete means the bytes end inside a frame (or could begin one):
// more bytes are needed.
var ErrIncomplete = errors.New("incomplete frame")

// ErrFrameCRC means a frame's header was intact but its CRC-32 did not match.
var ErrFrameCRC = errors.New("frame CRC-32 mismatch")

// CRCError reports a frame whose header passed its CRC-16 but whose CRC-32
// failed: the payload or trailer was corrupted. The header fields can be
// trusted, so the receiver knows which request or response was lost and can
// ask again at once instead of waiting for a timeout.
type CRCError struct {
	Version uint8
	Flags   Flags
	Cmd     Command
	Seq     uint16
	Len     int // the payload length the header stated
}

// Error describes the damaged frame.
func (e *CRCError) Error() string {
	dir := "request"
	if e.Flags&FlagResponse != 0 {
		dir = "response"
	}
	return fmt.Sprintf("%s %s seq %d (%d payload bytes): %v", dir, e.Cmd, e.Seq, e.Len, ErrFrameCRC)
}

// Unwrap returns ErrFrameCRC.
func (e *CRCError) Unwrap() error { return ErrFrameCRC }

// DecodeFrame finds the first intact frame in b. Bytes before it that cannot
// begin a frame (line noise, a frame with a bad header CRC) are skipped.
// Payload aliases b.
//
// n is how many bytes at the start of b the caller is done with:
//   - err == nil: a frame was found and b[n-f.Size():n] is its wire form;
//   - ErrIncomplete: b[n:] may begin a frame and needs more bytes;
//   - a *CRCError: a frame with an intact header failed its CRC-32; n skips
//     only its first byte, so that a frame hidden inside it is still found.
//
// DecodeFrame never panics and never reads beyond b.
func DecodeFrame(b []byte) (f Frame, n int, err error) {
	i := 0
	for {
		j := bytes.IndexByte(b[i:], SOF0)
		if j < 0 {
			return Frame{}, len(b), ErrIncomplete
		}
		start := i + j
		rest := b[start:]
		if len(rest) < 2 {
			return Frame{}, start, ErrIncomplete
		}
		if rest[1] != SOF1 {
			i = start + 1
			continue
		}
		if len(rest) < HeaderSize {
			return Frame{}, start, ErrIncomplete
		}
		if CRC16(rest[:9]) != binary.BigEndian.Uint16(rest[9:11]) {
			i = start + 1
			continue
		}
		f = Frame{
			Version: rest[2],
			Flags:   Flags(rest[3]),
			Cmd:     Command(rest[4]),
			Seq:     binary.BigEndian.Uint16(rest[5:7]),
		}
		plen := int(binary.BigEndian.Uint16(rest[7:9]))
		size := Overhead + plen
		if len(rest) < size {
			return Frame{}, start, ErrIncomplete
		}
		if CRC32(rest[:HeaderSize+plen]) != binary.BigEndian.Uint32(rest[HeaderSize+plen:size]) {
			return Frame{}, start + 1, &CRCError{Version: f.Version, Flags: f.Flags, Cmd: f.Cmd, Seq: f.Seq, Len: plen}
		}
		f.Payload = rest[HeaderSize : HeaderSize+plen : HeaderSize+plen]
		return f, start + size, nil
	}
}

// Decoder reads frames from a byte stream, resynchronising after noise,
// dropped bytes and damaged frames.
type Decoder struct {
	r          io.Reader
	buf        []byte
	start, end int   // the undecoded bytes are buf[start:end]
	skipped    int64 // bytes discarded as noise
	err        error // sticky read error
	partial    bool  // bytes were dropped at the end of the stream
}

// readSize is how much the decoder asks its reader for at least.
const readSize = 4096

// NewDecoder returns a Decoder that reads from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, buf: make([]byte, 2*readSize)}
}

// Skipped returns how many bytes the decoder has thrown away as noise so far.
func (d *Decoder) Skipped() int64 { return d.skipped }

// ReadFrame returns the next intact frame, with a payload the caller owns.
// A *CRCError is not fatal: it reports a damaged frame, and the next call
// goes on after it. Any other error is the reader's, returned once the
// buffered bytes hold no more frames; io.ErrUnexpectedEOF, once, if the
// stream ended inside a frame, then io.EOF.
func (d *Decoder) ReadFrame() (Frame, error) {
	for {
		if d.end > d.start {
			f, n, err := DecodeFrame(d.buf[d.start:d.end])
			switch {
			case err == nil:
				d.skipped += int64(n - f.Size())
				d.start += n
				f.Payload = bytes.Clone(f.Payload)
				if f.Payload == nil {
					f.Payload = []byte{}
				}
				return f, nil
			case errors.Is(err, ErrIncomplete):
				d.skipped += int64(n)
				d.start += n
			default:
				d.skipped += int64(n)
				d.start += n
				return Frame{}, err
			}
		}
		if d.err != nil {
			if d.end > d.start {
				// The stream has ended inside what looked like a frame:
				// it was noise or a truncated frame, and a frame may still
				// hide in it.
				d.skipped++
				d.start++
				d.partial = true
				continue
			}
			if d.partial && errors.Is(d.err, io.EOF) {
				d.partial = false
				return Frame{}, io.ErrUnexpectedEOF
			}
			return Frame{}, d.err
		}
		d.fill()
	}
}

// fill reads at least one byte into the buffer, or records the read error.
func (d *Decoder) fill() {
	if d.start == d.end {
		d.start, d.end = 0, 0
	}
	if len(d.buf)-d.end < readSize {
		if d.start > 0 {
			d.end = copy(d.buf, d.buf[d.start:d.end])
			d.start = 0
		}
		if len(d.buf)-d.end < readSize {
			d.buf = append(d.buf[:d.end], make([]byte, readSize+d.end)...)
			d.buf = d.buf[:cap(d.buf)]
		}
	}
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if err != nil {
			d.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	d.err = io.ErrNoProgress
}
