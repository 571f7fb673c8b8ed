package protocol

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of ClientOptions.
const (
	DefaultTimeout   = time.Second
	DefaultRetries   = 3
	DefaultLineRate  = 11520 // bytes/s: 115200 baud, 8N1 (10 bits a byte)
	DefaultChunkSize = 16 << 10
)

// ClientOptions tune a Client. The zero value means the defaults.
type ClientOptions struct {
	// Timeout is how long one attempt waits for an answer beyond the time
	// the frames take on the line at LineRate. Default 1 s.
	Timeout time.Duration
	// Retries is how many times a request is sent again, with the same
	// sequence number, after a timeout or a damaged answer. Default 3;
	// negative means never.
	Retries int
	// LineRate is the link's speed in bytes per second, used only to make
	// waits long enough for long frames. Default 11520 (115200 baud 8N1).
	LineRate int
	// ChunkSize is how many bytes a READ asks for. Default 16 KiB; never
	// more than the device's MaxPayload allows.
	ChunkSize int
	// Now is the host clock, for SyncTime. Default time.Now.
	Now func() time.Time
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.LineRate <= 0 {
		o.LineRate = DefaultLineRate
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	o.ChunkSize = min(o.ChunkSize, MaxPayload-ChunkOverhead)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Stats count what a Client has seen on the line.
type Stats struct {
	Requests    int64 // distinct requests, each with its own sequence number
	Retransmits int64 // requests sent again with the same sequence number
	Damaged     int64 // answers with a bad CRC, and ECRC answers
	Stale       int64 // intact frames that answered nothing outstanding
	ChunkErrors int64 // READ answers whose data failed the chunk CRC
	Skipped     int64 // bytes discarded as line noise
}

// Client speaks the protocol to one device over a serial link, one request
// at a time (stop and wait). Its methods are safe for concurrent use; they
// take turns.
type Client struct {
	port io.ReadWriteCloser
	opts ClientOptions

	mu       sync.Mutex // held for a whole request, retries included
	seq      uint16
	identity *Identity

	frames  chan inbound
	writes  chan writeReq
	done    chan struct{}
	closing sync.Once
	readErr error // set before frames is closed

	requests, retransmits, damaged, stale, chunkErrors, skipped atomic.Int64
}

type inbound struct {
	f   Frame
	err error // a *CRCError
}

type writeReq struct {
	b    []byte
	done chan error // capacity 1
}

// NewClient returns a Client that talks over port, which it owns from now
// on: Close closes it.
func NewClient(port io.ReadWriteCloser, opts ClientOptions) *Client {
	c := &Client{
		port:   port,
		opts:   opts.withDefaults(),
		seq:    uint16(rand.Uint32()), // a fresh session never repeats the last one's numbers
		frames: make(chan inbound, 16),
		writes: make(chan writeReq),
		done:   make(chan struct{}),
	}
	go c.readLoop()
	go c.writeLoop()
	return c
}

// Close closes the port and stops the client; calls in progress return
// ErrClosed. It returns the port's Close error.
func (c *Client) Close() error {
	err := ErrClosed
	c.closing.Do(func() {
		close(c.done)
		err = c.port.Close()
	})
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// Stats returns the counters so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:    c.requests.Load(),
		Retransmits: c.retransmits.Load(),
		Damaged:     c.damaged.Load(),
		Stale:       c.stale.Load(),
		ChunkErrors: c.chunkErrors.Load(),
		Skipped:     c.skipped.Load(),
	}
}

func (c *Client) readLoop() {
	dec := NewDecoder(c.port)
	var last int64
	for {
		f, err := dec.ReadFrame()
		c.skipped.Add(dec.Skipped() - last)
		last = dec.Skipped()
		var ce *CRCError
		if err != nil && !errors.As(err, &ce) {
			c.readErr = err
			close(c.frames)
			return
		}
		select {
		case c.frames <- inbound{f, err}:
		case <-c.done:
			return
		}
	}
}

func (c *Client) writeLoop() {
	for {
		select {
		case w := <-c.writes:
			_, err := c.port.Write(w.b)
			w.done <- err
		case <-c.done:
			return
		}
	}
}

// wait returns how long one attempt waits for n bytes on the line both ways.
func (c *Client) wait(n int) time.Duration {
	return c.opts.Timeout + time.Duration(int64(n)*int64(time.Second)/int64(c.opts.LineRate))
}

// errAttemptTimedOut ends one attempt; call decides whether to try again.
var errAttemptTimedOut = errors.New("attempt timed out")

// call sends req as cmd and decodes the answer into resp (nil to ignore
// it). respMax bounds the answer's payload, to size the wait. It retries
// with the same sequence number after a timeout or a damaged answer.
func (c *Client) call(ctx context.Context, cmd Command, req encoding.BinaryAppender, resp encoding.BinaryUnmarshaler, respMax int) error {
	payload, err := Encode(req)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return fmt.Errorf("%s: %w", cmd, ErrClosed)
	default:
	}
	c.seq++
	seq := c.seq
	frame, err := AppendFrame(nil, Frame{Version: Version, Cmd: cmd, Seq: seq, Payload: payload})
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	c.requests.Add(1)
	c.drain()

	wait := c.wait(len(frame) + Overhead + respMax)
	damaged := 0
	for attempt := 1; attempt <= c.opts.Retries+1; attempt++ {
		if attempt > 1 {
			c.retransmits.Add(1)
		}
		f, err := c.attempt(ctx, frame, cmd, seq, wait)
		var ce *CRCError
		switch {
		case err == nil:
			if f.IsError() {
				var body ErrorBody
				if err := body.UnmarshalBinary(f.Payload); err != nil {
					return fmt.Errorf("%s: error answer: %w", cmd, err)
				}
				if body.Code == ECRC { // our request arrived damaged
					damaged++
					c.damaged.Add(1)
					continue
				}
				return &DeviceError{Cmd: cmd, Code: body.Code, Detail: body.Detail}
			}
			if f.Version != Version {
				return fmt.Errorf("%s: answer in protocol version %d, this host speaks %d: %w", cmd, f.Version, Version, ErrVersion)
			}
			if resp != nil {
				if err := resp.UnmarshalBinary(f.Payload); err != nil {
					return fmt.Errorf("%s: %w", cmd, err)
				}
			}
			return nil
		case errors.As(err, &ce):
			damaged++
		case errors.Is(err, errAttemptTimedOut):
		default:
			return fmt.Errorf("%s: %w", cmd, err)
		}
	}
	return &TimeoutError{Cmd: cmd, Seq: seq, Attempts: c.opts.Retries + 1, Wait: wait, Damaged: damaged}
}

// drain drops answers that arrived while no request was outstanding.
func (c *Client) drain() {
	for {
		select {
		case in, ok := <-c.frames:
			if !ok {
				return
			}
			if in.err != nil {
				c.damaged.Add(1)
			} else {
				c.stale.Add(1)
			}
		default:
			return
		}
	}
}

// attempt sends frame once and waits for its answer, reading answers while
// the frame is still being written (an answer to an earlier attempt with the
// same sequence number is as good). It returns the answer, a *CRCError for
// a damaged answer to it, errAttemptTimedOut, or a fatal error.
func (c *Client) attempt(ctx context.Context, frame []byte, cmd Command, seq uint16, wait time.Duration) (Frame, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	w := writeReq{b: frame, done: make(chan error, 1)}
	writes := c.writes // nil once the writer has the frame
	var written chan error
	for {
		select {
		case writes <- w:
			writes, written = nil, w.done
		case err := <-written:
			written = nil
			if err != nil {
				return Frame{}, fmt.Errorf("write: %w", err)
			}
		case in, ok := <-c.frames:
			if !ok {
				if errors.Is(c.readErr, io.EOF) || errors.Is(c.readErr, io.ErrUnexpectedEOF) {
					return Frame{}, fmt.Errorf("read: port closed: %w", ErrClosed)
				}
				return Frame{}, fmt.Errorf("read: %w", c.readErr)
			}
			if in.err != nil {
				c.damaged.Add(1)
				var ce *CRCError
				if errors.As(in.err, &ce) && ce.Flags&FlagResponse != 0 && ce.Seq == seq && ce.Cmd == cmd {
					return Frame{}, in.err // ask again now, not after the timeout
				}
				continue
			}
			f := in.f
			if !f.IsResponse() || f.Seq != seq || f.Cmd != cmd {
				c.stale.Add(1) // a late duplicate, or our own echo
				continue
			}
			return f, nil
		case <-timer.C:
			return Frame{}, errAttemptTimedOut // no answer, or the writer is stuck
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		case <-c.done:
			return Frame{}, ErrClosed
		}
	}
}

// Identify asks the device who it is. A session should begin with it: it
// also tells the client how large a chunk the device can send.
func (c *Client) Identify(ctx context.Context) (Identity, error) {
	var id Identity
	if err := c.call(ctx, CmdIdentify, IdentifyRequest{Version, MinorVersion}, &id, IdentitySize); err != nil {
		return Identity{}, err
	}
	if id.Major != Version {
		return id, fmt.Errorf("%s: device speaks protocol %d.%d, this host %d.%d: %w", CmdIdentify, id.Major, id.Minor, Version, MinorVersion, ErrVersion)
	}
	if id.MaxPayload < MinDevicePayload {
		return id, fmt.Errorf("%s: device max payload %d is below the minimum %d: %w", CmdIdentify, id.MaxPayload, MinDevicePayload, ErrMalformed)
	}
	c.mu.Lock()
	c.identity = &id
	c.mu.Unlock()
	return id, nil
}

// Info reads the recorder info.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var info Info
	err := c.call(ctx, CmdGetInfo, Empty{}, &info, InfoSize)
	return info, err
}

// SetInfo writes the recorder info and returns it as the device stored it.
// It returns a *FieldError before sending anything if a field does not fit,
// and an error matching ErrBadPassword if the device refuses the password.
func (c *Client) SetInfo(ctx context.Context, password string, info Info) (Info, error) {
	var stored Info
	err := c.call(ctx, CmdSetInfo, SetInfoRequest{Password: password, Info: info}, &stored, InfoSize)
	return stored, err
}

// Time reads the device clock.
func (c *Client) Time(ctx context.Context) (time.Time, error) {
	var t DeviceTime
	err := c.call(ctx, CmdGetTime, Empty{}, &t, 8)
	return t.Time, err
}

// SetTime sets the device clock to t.
func (c *Client) SetTime(ctx context.Context, password string, t time.Time) error {
	return c.call(ctx, CmdSetTime, SetTimeRequest{Password: password, Time: t}, nil, 0)
}

// ClockOffset returns how far the device clock is ahead of the host clock
// (negative if behind), taking the host time halfway through the exchange,
// and the round-trip time.
func (c *Client) ClockOffset(ctx context.Context) (offset, rtt time.Duration, err error) {
	t0 := c.opts.Now()
	dev, err := c.Time(ctx)
	t1 := c.opts.Now()
	if err != nil {
		return 0, 0, err
	}
	rtt = t1.Sub(t0)
	return dev.Sub(t0.Add(rtt / 2)), rtt, nil
}

// SyncTime sets the device clock to the host clock and returns the offset
// before and after. It sends the time the request will arrive, by the last
// round trip, and tries once more if the clock is still off by more than
// 500 ms (a retransmitted SET_TIME carries a stale time).
func (c *Client) SyncTime(ctx context.Context, password string) (before, after time.Duration, err error) {
	before, rtt, err := c.ClockOffset(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("sync time: %w", err)
	}
	for try := 0; try < 2; try++ {
		if err := c.SetTime(ctx, password, c.opts.Now().Add(rtt/2)); err != nil {
			return before, 0, fmt.Errorf("sync time: %w", err)
		}
		if after, rtt, err = c.ClockOffset(ctx); err != nil {
			return before, 0, fmt.Errorf("sync time: %w", err)
		}
		if after.Abs() <= 500*time.Millisecond {
			break
		}
	}
	return before, after, nil
}

// EnterMassStorage switches the device to USB mass storage. After it
// answers, the device leaves the serial link; close the client.
func (c *Client) EnterMassStorage(ctx context.Context, password string) error {
	return c.call(ctx, CmdEnterMassStorage, PasswordRequest{Password: password}, nil, 0)
}

// Status reads battery, resolution, storage use and recording state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.call(ctx, CmdGetStatus, Empty{}, &s, StatusSize)
	return s, err
}

// ListPage reads up to max entries of the recording list from index start
// (max 0: as many as fit in one answer).
func (c *Client) ListPage(ctx context.Context, start uint32, max uint8) (ListPage, error) {
	var p ListPage
	err := c.call(ctx, CmdList, ListRequest{Start: start, Max: max}, &p, c.maxPayload())
	return p, err
}

// List reads the whole recording list, oldest first. If the list changes
// while it pages (a recording is made), it starts again, up to three times,
// then returns an error matching ErrChanged.
func (c *Client) List(ctx context.Context) ([]Entry, error) {
	for range 3 {
		var all []Entry
		first, err := c.ListPage(ctx, 0, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, first.Entries...)
		changed := false
		for uint32(len(all)) < first.Total {
			p, err := c.ListPage(ctx, uint32(len(all)), 0)
			if err != nil {
				return nil, err
			}
			if p.Generation != first.Generation {
				changed = true
				break
			}
			if p.Start != uint32(len(all)) || len(p.Entries) == 0 {
				return nil, fmt.Errorf("%s: asked for entries from %d of %d, got %d from %d: %w",
					CmdList, len(all), first.Total, len(p.Entries), p.Start, ErrMalformed)
			}
			all = append(all, p.Entries...)
		}
		if !changed {
			return all, nil
		}
	}
	return nil, fmt.Errorf("%s: the list kept changing while it was read: %w", CmdList, ErrChanged)
}

// maxPayload returns the device's max payload, or MaxPayload before Identify.
func (c *Client) maxPayload() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.identity == nil {
		return MaxPayload
	}
	return int(c.identity.MaxPayload)
}

// chunkSize returns the READ length to ask for, identifying the device
// first if that has not been done.
func (c *Client) chunkSize(ctx context.Context) (int, error) {
	c.mu.Lock()
	known := c.identity != nil
	c.mu.Unlock()
	if !known {
		if _, err := c.Identify(ctx); err != nil {
			return 0, err
		}
	}
	return max(1, min(c.opts.ChunkSize, c.maxPayload()-ChunkOverhead)), nil
}

// ReadChunk reads up to n bytes of the named recording from off and checks
// them against the chunk CRC; a chunk that fails is asked for again (with a
// new sequence number, as the device would resend a cached answer to the
// same one) up to Retries times, then the error matches ErrChunkCRC. The
// device may return fewer bytes than asked, and none at the end.
func (c *Client) ReadChunk(ctx context.Context, name string, off int64, n int) (Chunk, error) {
	if n < 0 || n > MaxPayload-ChunkOverhead {
		return Chunk{}, fmt.Errorf("%s: length %d out of range: %w", CmdRead, n, ErrBadArg)
	}
	for try := 0; ; try++ {
		var ch Chunk
		if err := c.call(ctx, CmdRead, ReadRequest{Name: name, Offset: off, Length: uint32(n)}, &ch, ChunkOverhead+n); err != nil {
			return Chunk{}, err
		}
		if ch.Offset != off || len(ch.Data) > n || ch.Offset+int64(len(ch.Data)) > ch.Size {
			return Chunk{}, fmt.Errorf("%s %s: asked for %d bytes at %d, got %d at %d of %d: %w",
				CmdRead, name, n, off, len(ch.Data), ch.Offset, ch.Size, ErrMalformed)
		}
		err := ch.Verify()
		if err == nil {
			return ch, nil
		}
		c.chunkErrors.Add(1)
		if try >= c.opts.Retries {
			return Chunk{}, fmt.Errorf("%s %s: %w", CmdRead, name, err)
		}
	}
}

// Download copies the named recording into dst from offset resumeFrom on,
// writing each chunk at its offset only after its CRC-32 checks, and calls
// progress (if not nil) with the bytes in dst so far after each chunk. It
// returns how many bytes of the recording dst holds, verified, which is
// where a later call resumes after an error.
//
// Before resuming (resumeFrom > 0), if dst is also an io.ReaderAt (as an
// *os.File is), it compares the last chunk before resumeFrom with the
// device's bytes, and returns an error matching ErrResumeBroken if they
// differ, as they do when the partial file is of another recording. It
// returns an error matching ErrChanged if the recording's size changes
// during the download, and checks at the end that dst holds exactly the
// size the device stated.
func (c *Client) Download(ctx context.Context, name string, dst io.WriterAt, resumeFrom int64, progress func(n int64)) (int64, error) {
	fail := func(n int64, err error) (int64, error) { return n, fmt.Errorf("download %s: %w", name, err) }
	if resumeFrom < 0 {
		return fail(0, fmt.Errorf("negative resume offset %d: %w", resumeFrom, ErrBadArg))
	}
	chunk, err := c.chunkSize(ctx)
	if err != nil {
		return fail(resumeFrom, err)
	}
	if ra, ok := dst.(io.ReaderAt); ok && resumeFrom > 0 {
		if err := c.checkResume(ctx, name, ra, resumeFrom, chunk); err != nil {
			return fail(resumeFrom, err)
		}
	}
	n, size := resumeFrom, int64(-1)
	for {
		if err := ctx.Err(); err != nil {
			return fail(n, err)
		}
		ch, err := c.ReadChunk(ctx, name, n, chunk)
		if err != nil {
			return fail(n, err)
		}
		switch {
		case size < 0:
			size = ch.Size
			if resumeFrom > size {
				return fail(0, fmt.Errorf("resume from %d, but the recording has %d bytes: %w", resumeFrom, size, ErrResumeBroken))
			}
		case ch.Size != size:
			return fail(n, fmt.Errorf("size went from %d to %d bytes at offset %d: %w", size, ch.Size, n, ErrChanged))
		}
		if len(ch.Data) == 0 {
			if n != size {
				return fail(n, fmt.Errorf("device sent no data at offset %d of %d: %w", n, size, ErrMalformed))
			}
			return n, nil
		}
		if _, err := dst.WriteAt(ch.Data, n); err != nil {
			return fail(n, err)
		}
		n += int64(len(ch.Data))
		if progress != nil {
			progress(n)
		}
		if n == size {
			return n, nil
		}
	}
}

// checkResume compares the up to chunk bytes before off in ra with the
// device's.
func (c *Client) checkResume(ctx context.Context, name string, ra io.ReaderAt, off int64, chunk int) error {
	from := max(0, off-int64(chunk))
	remote := make([]byte, 0, off-from)
	for pos := from; pos < off; {
		ch, err := c.ReadChunk(ctx, name, pos, int(off-pos))
		if err != nil {
			if errors.Is(err, ErrBadArg) {
				return fmt.Errorf("resume from %d: %w (%w)", off, ErrResumeBroken, err)
			}
			return err
		}
		if off > ch.Size {
			return fmt.Errorf("resume from %d, but the recording has %d bytes: %w", off, ch.Size, ErrResumeBroken)
		}
		remote = append(remote, ch.Data...)
		pos += int64(len(ch.Data))
	}
	local := make([]byte, len(remote))
	if _, err := ra.ReadAt(local, from); err != nil {
		return fmt.Errorf("read back the partial download at %d: %w: %w", from, ErrResumeBroken, err)
	}
	for i := range remote {
		if local[i] != remote[i] {
			return fmt.Errorf("byte %d differs from the recording: start the download again: %w", from+int64(i), ErrResumeBroken)
		}
	}
	return nil
}
