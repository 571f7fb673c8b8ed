package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestCRCCheckValues(t *testing.T) {
	check := []byte("123456789")
	if got := CRC16(check); got != 0x29B1 {
		t.Errorf("CRC16(123456789) = %04x, want 29b1", got)
	}
	if got := CRC32(check); got != 0xCBF43926 {
		t.Errorf("CRC32(123456789) = %08x, want cbf43926", got)
	}
	if got := CRC16(nil); got != 0xFFFF {
		t.Errorf("CRC16(empty) = %04x, want ffff", got)
	}
}

// TestFrameVector pins the example frame of PROTOCOL.md §2.4, so that the
// document and the code cannot drift apart.
func TestFrameVector(t *testing.T) {
	f := Frame{Version: 1, Cmd: CmdIdentify, Seq: 0x1234, Payload: []byte{1, 0}}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const want = "eb900100011234000246b301008400dd69"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("IDENTIFY frame = %s, want %s", got, want)
	}
	resp := Frame{Version: 1, Flags: FlagResponse | FlagError, Cmd: CmdSetTime, Seq: 7}
	resp.Payload, _ = ErrorBody{Code: EBadPassword}.AppendBinary(nil)
	b, _ = resp.MarshalBinary()
	const wantErr = "eb90010305000700037b4e00050065c13124"
	if got := hex.EncodeToString(b); got != wantErr {
		t.Errorf("EBADPASSWORD frame = %s, want %s", got, wantErr)
	}
}

func mustFrame(tb testing.TB, f Frame) []byte {
	tb.Helper()
	b, err := f.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestFrameRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 15, 255, 4096, MaxPayload} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		f := Frame{Version: Version, Flags: FlagResponse, Cmd: CmdRead, Seq: uint16(n), Payload: p}
		b := mustFrame(t, f)
		if len(b) != f.Size() {
			t.Errorf("payload %d: %d bytes on the wire, Size says %d", n, len(b), f.Size())
		}
		got, used, err := DecodeFrame(b)
		if err != nil || used != len(b) || got.Seq != f.Seq || got.Cmd != f.Cmd || got.Flags != f.Flags || !bytes.Equal(got.Payload, p) {
			t.Errorf("payload %d: decode = %+v, %d, %v", n, got.Seq, used, err)
		}
	}
	if _, err := (Frame{Payload: make([]byte, MaxPayload+1)}).MarshalBinary(); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("oversized payload: %v, want ErrPayloadTooLarge", err)
	}
}

func TestDecodeFrameIncomplete(t *testing.T) {
	b := mustFrame(t, Frame{Version: 1, Cmd: CmdGetInfo, Seq: 9, Payload: []byte("abc")})
	for i := range len(b) {
		_, n, err := DecodeFrame(b[:i])
		if !errors.Is(err, ErrIncomplete) || n != 0 {
			t.Errorf("first %d bytes: n=%d err=%v, want 0 and ErrIncomplete", i, n, err)
		}
	}
	// Noise without a start byte is all consumed; a trailing 0xEB is kept.
	_, n, err := DecodeFrame([]byte{1, 2, 3, SOF0})
	if n != 3 || !errors.Is(err, ErrIncomplete) {
		t.Errorf("noise then SOF0: n=%d err=%v, want 3", n, err)
	}
}

// TestDecoderResync feeds frames with noise, a damaged frame, a frame with
// a broken header and a truncated frame between them, a byte at a time.
func TestDecoderResync(t *testing.T) {
	a := mustFrame(t, Frame{Version: 1, Cmd: CmdGetTime, Seq: 1})
	b := mustFrame(t, Frame{Version: 1, Cmd: CmdGetInfo, Seq: 2, Payload: []byte{SOF0, SOF1, 0, 1}})
	c := mustFrame(t, Frame{Version: 1, Cmd: CmdList, Seq: 3, Payload: bytes.Repeat([]byte{SOF0, SOF1}, 40)})
	d := mustFrame(t, Frame{Version: 1, Cmd: CmdRead, Seq: 4, Payload: []byte("payload")})
	e := mustFrame(t, Frame{Version: 1, Cmd: CmdRead, Seq: 5, Payload: make([]byte, 100)})

	damaged := bytes.Clone(c)
	damaged[HeaderSize+5] ^= 0x10 // payload bit flip: header intact
	badHeader := bytes.Clone(c)
	badHeader[8] ^= 0x01 // length bit flip: header CRC fails
	truncated := c[:len(c)-30]

	var stream []byte
	stream = append(stream, 0x00, SOF0, 0x12, SOF0, SOF1, 0xFF) // noise with false starts
	stream = append(stream, a...)
	stream = append(stream, damaged...)
	stream = append(stream, b...)
	stream = append(stream, badHeader...)
	stream = append(stream, c...)
	stream = append(stream, truncated...)
	stream = append(stream, d...)
	stream = append(stream, e...)
	stream = append(stream, truncated...) // at the very end: dropped at EOF

	dec := NewDecoder(iotest.OneByteReader(bytes.NewReader(stream)))
	var seqs []uint16
	var crcErrs []uint16
	for {
		f, err := dec.ReadFrame()
		var ce *CRCError
		switch {
		case errors.As(err, &ce):
			crcErrs = append(crcErrs, ce.Seq)
			continue
		case errors.Is(err, io.ErrUnexpectedEOF):
		case err != nil:
			t.Fatalf("after frames %v: %v", seqs, err)
		default:
			seqs = append(seqs, f.Seq)
			continue
		}
		break
	}
	// The truncated frame swallows d and e's first bytes, fails its CRC-32,
	// and the rescan finds d and e inside it.
	if want := []uint16{1, 2, 3, 4, 5}; !equal(seqs, want) {
		t.Errorf("frames %v, want %v", seqs, want)
	}
	if want := []uint16{3, 3}; !equal(crcErrs, want) {
		t.Errorf("CRC errors for %v, want %v", crcErrs, want)
	}
	if dec.Skipped() == 0 {
		t.Error("Skipped() = 0 after noise")
	}
}

func equal(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecoderUnexpectedEOF(t *testing.T) {
	b := mustFrame(t, Frame{Version: 1, Cmd: CmdGetInfo, Seq: 2, Payload: []byte("xyz")})
	dec := NewDecoder(bytes.NewReader(b[:len(b)-1]))
	if _, err := dec.ReadFrame(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stream ending inside a frame: %v, want io.ErrUnexpectedEOF", err)
	}
	// A frame hidden in a truncated one is still found at EOF.
	hidden := mustFrame(t, Frame{Version: 1, Cmd: CmdGetTime, Seq: 3})
	long := mustFrame(t, Frame{Version: 1, Cmd: CmdGetInfo, Seq: 2, Payload: make([]byte, 100)})
	dec = NewDecoder(bytes.NewReader(append(long[:HeaderSize+1:HeaderSize+1], hidden...)))
	if f, err := dec.ReadFrame(); err != nil || f.Seq != 3 {
		t.Errorf("frame after a truncated header at EOF: seq %d, %v; want 3", f.Seq, err)
	}
	if _, err := dec.ReadFrame(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after the last frame, with the truncated one dropped: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := dec.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Errorf("then: %v, want io.EOF", err)
	}
	dec = NewDecoder(bytes.NewReader(nil))
	if _, err := dec.ReadFrame(); !errors.Is(err, io.EOF) {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
}

// TestDecoderLargeFrames makes the buffer grow and compact.
func TestDecoderLargeFrames(t *testing.T) {
	var stream []byte
	for i := range 5 {
		stream = append(stream, byte(i), 0x55)
		stream = append(stream, mustFrame(t, Frame{Version: 1, Cmd: CmdRead, Seq: uint16(i), Payload: bytes.Repeat([]byte{byte(i)}, MaxPayload-i)})...)
	}
	dec := NewDecoder(iotest.HalfReader(bytes.NewReader(stream)))
	for i := range 5 {
		f, err := dec.ReadFrame()
		if err != nil || f.Seq != uint16(i) || len(f.Payload) != MaxPayload-i {
			t.Fatalf("frame %d: seq %d, %d bytes, %v", i, f.Seq, len(f.Payload), err)
		}
	}
	if dec.Skipped() != 10 {
		t.Errorf("Skipped() = %d, want 10", dec.Skipped())
	}
}

// FuzzDecodeFrame checks that no input makes DecodeFrame panic, read out of
// bounds or stop making progress, and that every frame it finds re-encodes
// to exactly the bytes it was found in.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(mustFrame(f, Frame{Version: 1, Cmd: CmdIdentify, Seq: 1, Payload: []byte{1, 0}}))
	f.Add(append([]byte{SOF0, SOF0, SOF1}, mustFrame(f, Frame{Version: 1, Flags: FlagResponse, Cmd: CmdRead, Seq: 0xFFFF, Payload: []byte("chunk")})...))
	f.Add([]byte{SOF0, SOF1, 1, 0, 1, 0, 1, 0xFF, 0xFF, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		rest := b
		for len(rest) > 0 {
			fr, n, err := DecodeFrame(rest)
			if n < 0 || n > len(rest) {
				t.Fatalf("n = %d outside 0..%d", n, len(rest))
			}
			var ce *CRCError
			switch {
			case err == nil:
				again, err := fr.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, rest[n-len(again):n]) {
					t.Fatalf("frame re-encodes as %x, found as %x", again, rest[n-len(again):n])
				}
			case errors.As(err, &ce):
				if n == 0 {
					t.Fatal("CRC error without progress")
				}
			case errors.Is(err, ErrIncomplete):
				if n == 0 {
					return
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
			rest = rest[n:]
		}
	})
}
