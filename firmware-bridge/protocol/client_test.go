package protocol

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// scripted is a fake device for faults a real one cannot be made to show:
// it hands each request to a handler that writes whatever bytes it likes.
type scripted struct {
	mu   sync.Mutex
	seqs []uint16 // of the requests, in order
}

func startScripted(t *testing.T, opts ClientOptions, handle func(n int, req Frame, send func(...[]byte))) (*Client, *scripted) {
	t.Helper()
	host, dev := net.Pipe()
	s := &scripted{}
	go func() {
		dec := NewDecoder(dev)
		for n := 0; ; n++ {
			f, err := dec.ReadFrame()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.seqs = append(s.seqs, f.Seq)
			s.mu.Unlock()
			handle(n, f, func(bs ...[]byte) {
				for _, b := range bs {
					if _, err := dev.Write(b); err != nil {
						return
					}
				}
			})
		}
	}()
	c := NewClient(host, opts)
	t.Cleanup(func() { c.Close(); dev.Close() })
	return c, s
}

func (s *scripted) requests() []uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint16(nil), s.seqs...)
}

func answer(t *testing.T, req Frame, m interface{ AppendBinary([]byte) ([]byte, error) }) []byte {
	t.Helper()
	p, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return mustFrame(t, Frame{Version: Version, Flags: FlagResponse, Cmd: req.Cmd, Seq: req.Seq, Payload: p})
}

func errAnswer(t *testing.T, req Frame, code ErrorCode) []byte {
	t.Helper()
	p, _ := ErrorBody{Code: code}.AppendBinary(nil)
	return mustFrame(t, Frame{Version: Version, Flags: FlagResponse | FlagError, Cmd: req.Cmd, Seq: req.Seq, Payload: p})
}

// patient options: a call that waited for a timeout would hang the test,
// so passing proves the retry was immediate.
var patient = ClientOptions{Timeout: time.Hour, Retries: 2}

func ctx10s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientRetriesDamagedAnswerAtOnce(t *testing.T) {
	info := Info{DeviceSerial: "DSJ0001", OfficerNo: "100234", OfficerName: "李四"}
	c, s := startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		b := answer(t, req, info)
		if n == 0 {
			b[HeaderSize+20] ^= 0x40 // damage the payload
		}
		send(b)
	})
	got, err := c.Info(ctx10s(t))
	if err != nil || got != info {
		t.Fatalf("Info = %+v, %v", got, err)
	}
	if seqs := s.requests(); len(seqs) != 2 || seqs[0] != seqs[1] {
		t.Errorf("request seqs %v, want the same one twice", seqs)
	}
	if st := c.Stats(); st.Retransmits != 1 || st.Damaged != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestClientRetriesECRC(t *testing.T) {
	c, s := startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		if n < 2 {
			send(errAnswer(t, req, ECRC))
			return
		}
		send(answer(t, req, DeviceTime{time.Unix(1e9, 0)}))
	})
	got, err := c.Time(ctx10s(t))
	if err != nil || got.Unix() != 1e9 {
		t.Fatalf("Time = %s, %v", got, err)
	}
	if seqs := s.requests(); len(seqs) != 3 || seqs[0] != seqs[2] {
		t.Errorf("request seqs %v, want one seq three times", seqs)
	}
	// Three ECRC in a row exhaust two retries.
	c, _ = startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) { send(errAnswer(t, req, ECRC)) })
	_, err = c.Time(ctx10s(t))
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, ErrLinkCRC) || te.Damaged != 3 {
		t.Errorf("persistent ECRC: %v, want a TimeoutError matching ErrLinkCRC", err)
	}
}

func TestClientIgnoresEchoAndStaleAnswers(t *testing.T) {
	c, _ := startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		echo := mustFrame(t, req)
		stale := req
		stale.Seq--
		other := req
		other.Cmd = CmdGetInfo
		send(echo, answer(t, stale, Status{Battery: 1}), answer(t, other, Info{}), answer(t, req, Status{Battery: 77}))
	})
	st, err := c.Status(ctx10s(t))
	if err != nil || st.Battery != 77 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if got := c.Stats().Stale; got != 3 {
		t.Errorf("stale = %d, want 3", got)
	}
}

func TestClientChunkCRCRereads(t *testing.T) {
	data := []byte("recording bytes")
	c, s := startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		ch := Chunk{Offset: 0, Size: int64(len(data)), Data: data, CRC: CRC32(data)}
		if n == 0 {
			ch.CRC ^= 1 // the device read its flash wrong
		}
		send(answer(t, req, ch))
	})
	ch, err := c.ReadChunk(ctx10s(t), "A.MP4", 0, 100)
	if err != nil || string(ch.Data) != string(data) {
		t.Fatalf("ReadChunk = %q, %v", ch.Data, err)
	}
	// A new sequence number: the same one would get the cached bad answer.
	if seqs := s.requests(); len(seqs) != 2 || seqs[0] == seqs[1] {
		t.Errorf("request seqs %v, want two different", seqs)
	}
	if got := c.Stats().ChunkErrors; got != 1 {
		t.Errorf("chunk errors = %d", got)
	}

	// Always wrong: ErrChunkCRC after the retries.
	c, _ = startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		send(answer(t, req, Chunk{Size: 3, Data: []byte("abc")}))
	})
	if _, err := c.ReadChunk(ctx10s(t), "A.MP4", 0, 100); !errors.Is(err, ErrChunkCRC) {
		t.Errorf("bad chunk every time: %v, want ErrChunkCRC", err)
	}
}

func TestClientRejectsBadChunks(t *testing.T) {
	c, _ := startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		d := []byte("0123456789")
		send(answer(t, req, Chunk{Offset: 5, Size: 100, Data: d, CRC: CRC32(d)})) // wrong offset
	})
	if _, err := c.ReadChunk(ctx10s(t), "A.MP4", 0, 100); !errors.Is(err, ErrMalformed) {
		t.Errorf("chunk at the wrong offset: %v, want ErrMalformed", err)
	}
}

func TestClientVersionAndIdentity(t *testing.T) {
	c, _ := startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		send(answer(t, req, Identity{Major: 2, MaxPayload: 1024, DeviceSerial: "DSJ0001"}))
	})
	if _, err := c.Identify(ctx10s(t)); !errors.Is(err, ErrVersion) {
		t.Errorf("device of version 2: %v, want ErrVersion", err)
	}
	c, _ = startScripted(t, patient, func(n int, req Frame, send func(...[]byte)) {
		send(answer(t, req, Identity{Major: 1, MaxPayload: 100, DeviceSerial: "DSJ0001"}))
	})
	if _, err := c.Identify(ctx10s(t)); !errors.Is(err, ErrMalformed) {
		t.Errorf("max payload 100: %v, want ErrMalformed", err)
	}
}

func TestClientClose(t *testing.T) {
	c, _ := startScripted(t, patient, func(int, Frame, func(...[]byte)) {}) // never answers
	errc := make(chan error, 1)
	go func() { _, err := c.Status(ctx10s(t)); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("call during Close: %v, want ErrClosed", err)
	}
	if _, err := c.Status(ctx10s(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}
