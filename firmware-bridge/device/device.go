package device

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"evidock/firmware-bridge/protocol"
)

// Defaults of Config.
const (
	DefaultMaxPayload   = protocol.MaxPayload
	DefaultStorageTotal = 64_000_000_000 // a "64 GB" card
	DefaultLockoutAfter = 3
	DefaultLockoutFor   = time.Minute
)

// ErrMassStorage is what Serve returns after the device has answered
// ENTER_MSC: the recorder has left the serial link for USB mass storage.
// The caller lets the answer drain (PTY.Drain) before closing the link, as
// PROTOCOL.md §5.6 asks.
var ErrMassStorage = errors.New("device switched to mass storage")

// Config describes a simulated recorder.
type Config struct {
	// Dir is the recorder's storage: a volume as sim.Volume.Create writes
	// it, footage under DCIM/. Required.
	Dir string
	// Info is the GA/T 947 recorder info; DeviceSerial is required. See
	// LoadVolume.
	Info protocol.Info
	// Password guards SET_INFO, SET_TIME and ENTER_MSC. Required.
	Password string

	Manufacturer string // default "EVIDOCK"
	Model        string // default "DSJ-SIM 模拟仪"
	Firmware     string // default "sim-1.0"
	// MaxPayload is the largest payload the device sends or accepts;
	// default and at most protocol.MaxPayload, at least 512.
	MaxPayload int
	// NoMassStorage leaves out CapMassStorage, as recorders without a USB
	// disk mode do; ENTER_MSC then answers EUNKNOWNCMD.
	NoMassStorage bool

	// Clock is the device clock; nil means the host clock, without drift.
	Clock *Clock

	Battery       int   // percent; -1 unknown; default 0 means 0
	Charging      bool  // on external power
	Width, Height int   // video resolution; default 1920x1080
	FPS           int   // default 30
	StorageTotal  int64 // bytes; default 64 GB, and never less than used
	Loop          bool  // loop recording on
	// Recording marks the newest recording as in progress.
	Recording bool
	// Important names the recordings the officer marked with the key.
	Important []string

	// PasswordMode, LockoutAfter and LockoutFor say how the device treats
	// wrong passwords; the defaults are PasswordReject, 3 and one minute.
	PasswordMode PasswordMode
	LockoutAfter int
	LockoutFor   time.Duration

	// Faults make the link misbehave.
	Faults Faults

	// Log, if not nil, gets a debug record per request and an info record
	// per fault or state change. Passwords are never logged.
	Log *slog.Logger
	// OnRequest, if not nil, is called with each intact request frame
	// before the device answers it; tests use it to see what was asked.
	OnRequest func(protocol.Frame)
}

// Device is a simulated recorder. It serves any number of links, one after
// another or at once; they share its state.
type Device struct {
	cfg Config

	mu         sync.Mutex
	info       protocol.Info
	important  map[string]bool
	badTries   int
	lockedTill time.Time
	recs       map[string]recording // by name, from the last scan
}

// New returns a device, or an error naming the first setting that is
// missing or out of range.
func New(cfg Config) (*Device, error) {
	if cfg.Dir == "" {
		return nil, errors.New("device: Dir is required: a volume made by 'evidock-bridge sim'")
	}
	if fi, err := os.Stat(cfg.Dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("device: Dir %q is not a directory", cfg.Dir)
	}
	if cfg.Info.DeviceSerial == "" {
		return nil, errors.New("device: Info.DeviceSerial is required")
	}
	if err := cfg.Info.Validate(); err != nil {
		return nil, fmt.Errorf("device: info: %w", err)
	}
	if cfg.Password == "" || len(cfg.Password) > protocol.PasswordLen {
		return nil, fmt.Errorf("device: password must be 1 to %d bytes", protocol.PasswordLen)
	}
	if err := cfg.Faults.Validate(); err != nil {
		return nil, fmt.Errorf("device: faults: %w", err)
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.Manufacturer, "EVIDOCK")
	def(&cfg.Model, "DSJ-SIM 模拟仪")
	def(&cfg.Firmware, "sim-1.0")
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.MaxPayload < protocol.MinDevicePayload || cfg.MaxPayload > protocol.MaxPayload {
		return nil, fmt.Errorf("device: max payload %d: want %d to %d", cfg.MaxPayload, protocol.MinDevicePayload, protocol.MaxPayload)
	}
	if cfg.Clock == nil {
		cfg.Clock = NewClock(0, 0, nil)
	}
	if cfg.Width == 0 && cfg.Height == 0 {
		cfg.Width, cfg.Height = 1920, 1080
	}
	if cfg.FPS == 0 {
		cfg.FPS = 30
	}
	if cfg.StorageTotal == 0 {
		cfg.StorageTotal = DefaultStorageTotal
	}
	if cfg.LockoutAfter <= 0 {
		cfg.LockoutAfter = DefaultLockoutAfter
	}
	if cfg.LockoutFor <= 0 {
		cfg.LockoutFor = DefaultLockoutFor
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	id := protocol.Identity{Manufacturer: cfg.Manufacturer, Model: cfg.Model, Firmware: cfg.Firmware, DeviceSerial: cfg.Info.DeviceSerial}
	if _, err := id.AppendBinary(nil); err != nil {
		return nil, fmt.Errorf("device: identity: %w", err)
	}
	d := &Device{cfg: cfg, info: cfg.Info, important: make(map[string]bool)}
	for _, n := range cfg.Important {
		d.important[n] = true
	}
	return d, nil
}

// Info returns the recorder info as it stands.
func (d *Device) Info() protocol.Info {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.info
}

// Clock returns the device clock.
func (d *Device) Clock() *Clock { return d.cfg.Clock }

// MarkImportant marks a recording as the officer's key press does.
func (d *Device) MarkImportant(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.important[name] = true
}

// session is the state of one link: the answer cache for retransmissions.
type session struct {
	d    *Device
	link *link
	file *os.File // the recording READ last opened
	name string

	cached   bool
	lastSeq  uint16
	lastCmd  protocol.Command
	lastCRC  uint32
	lastResp []byte // nil: the request was deliberately not answered
}

// Serve answers requests on rw until rw's Read fails, ctx is done, or the
// device switches to mass storage. If rw is an io.Closer, Serve closes it
// when ctx is done, to end a blocked Read. It returns ErrMassStorage after
// answering ENTER_MSC, ctx.Err() when cancelled, nil when rw reaches EOF,
// and the read or write error otherwise.
func (d *Device) Serve(ctx context.Context, rw io.ReadWriter) error {
	if c, ok := rw.(io.Closer); ok {
		stop := context.AfterFunc(ctx, func() { c.Close() })
		defer stop()
	}
	s := &session{d: d, link: newLink(ctx, rw, d.cfg.Faults)}
	defer func() {
		if s.file != nil {
			s.file.Close()
		}
	}()
	dec := protocol.NewDecoder(s.link)
	for {
		f, err := dec.ReadFrame()
		var ce *protocol.CRCError
		switch {
		case errors.As(err, &ce):
			if ce.Flags&protocol.FlagResponse == 0 && !s.link.stalled() {
				d.cfg.Log.Info("request damaged on the line", "cmd", ce.Cmd, "seq", ce.Seq)
				resp := errorFrame(ce.Cmd, ce.Seq, protocol.ECRC, "frame CRC-32 mismatch; send it again")
				if err := s.write(resp); err != nil {
					return s.fail(ctx, err)
				}
			}
			continue
		case err != nil:
			return s.fail(ctx, err)
		}
		if f.IsResponse() {
			continue // our own answer echoed by a terminal that is not raw
		}
		if d.cfg.OnRequest != nil {
			d.cfg.OnRequest(f)
		}
		if s.link.stalled() {
			continue
		}
		resp, msc := s.answer(ctx, f)
		if resp == nil {
			continue
		}
		if err := s.write(resp); err != nil {
			return s.fail(ctx, err)
		}
		if msc {
			d.cfg.Log.Info("switched to mass storage")
			return ErrMassStorage
		}
	}
}

func (s *session) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, os.ErrClosed) {
		return nil
	}
	return fmt.Errorf("serve: %w", err)
}

func (s *session) write(b []byte) error {
	_, err := s.link.Write(b)
	return err
}

// answer returns the encoded answer to f (nil for none) and whether the
// device now leaves for mass storage. A request repeating the last one
// (same SEQ, CMD and payload) gets the same answer without being executed
// again.
func (s *session) answer(ctx context.Context, f protocol.Frame) ([]byte, bool) {
	crc := protocol.CRC32(f.Payload)
	if f.Cmd == protocol.CmdIdentify {
		s.cached = false // a new session: forget the last one's answer
	} else if s.cached && f.Seq == s.lastSeq && f.Cmd == s.lastCmd && crc == s.lastCRC {
		s.d.cfg.Log.Debug("repeat answer", "cmd", f.Cmd, "seq", f.Seq)
		return s.lastResp, false
	}
	payload, code, detail := s.execute(ctx, f)
	var resp []byte
	switch {
	case code == silent:
	case code != 0:
		resp = errorFrame(f.Cmd, f.Seq, code, detail)
	default:
		resp, _ = protocol.AppendFrame(nil, protocol.Frame{Version: protocol.Version, Flags: protocol.FlagResponse, Cmd: f.Cmd, Seq: f.Seq, Payload: payload})
	}
	if f.Cmd != protocol.CmdIdentify {
		s.cached, s.lastSeq, s.lastCmd, s.lastCRC, s.lastResp = true, f.Seq, f.Cmd, crc, resp
	}
	return resp, f.Cmd == protocol.CmdEnterMassStorage && code == 0
}

// silent is an internal code for "do not answer".
const silent protocol.ErrorCode = 0xFFFF

func errorFrame(cmd protocol.Command, seq uint16, code protocol.ErrorCode, detail string) []byte {
	body, _ := protocol.ErrorBody{Code: code, Detail: detail}.AppendBinary(nil)
	b, _ := protocol.AppendFrame(nil, protocol.Frame{
		Version: protocol.Version, Flags: protocol.FlagResponse | protocol.FlagError, Cmd: cmd, Seq: seq, Payload: body,
	})
	return b
}

// execute runs one request and returns the answer's payload, or an error
// code and detail.
func (s *session) execute(ctx context.Context, f protocol.Frame) ([]byte, protocol.ErrorCode, string) {
	d := s.d
	log := d.cfg.Log.With("cmd", f.Cmd, "seq", f.Seq)
	log.Debug("request", "len", len(f.Payload))
	if f.Version != protocol.Version {
		return nil, protocol.EVersion, fmt.Sprintf("this device speaks version %d", protocol.Version)
	}
	bad := func(err error) ([]byte, protocol.ErrorCode, string) {
		code := protocol.EBadArg
		if errors.Is(err, protocol.ErrMalformed) {
			code = protocol.EMalformed
		}
		return nil, code, err.Error()
	}
	ok := func(m interface{ AppendBinary([]byte) ([]byte, error) }) ([]byte, protocol.ErrorCode, string) {
		b, err := m.AppendBinary(nil)
		if err != nil {
			return nil, protocol.EInternal, err.Error()
		}
		return b, 0, ""
	}
	switch f.Cmd {
	case protocol.CmdIdentify:
		caps := protocol.CapDownload
		if !d.cfg.NoMassStorage {
			caps |= protocol.CapMassStorage
		}
		return ok(protocol.Identity{
			Major: protocol.Version, Minor: protocol.MinorVersion,
			MaxPayload: uint16(d.cfg.MaxPayload), Capabilities: caps,
			Manufacturer: d.cfg.Manufacturer, Model: d.cfg.Model, Firmware: d.cfg.Firmware,
			DeviceSerial: d.cfg.Info.DeviceSerial,
		})

	case protocol.CmdGetInfo:
		return ok(d.Info())

	case protocol.CmdSetInfo:
		var req protocol.SetInfoRequest
		if err := req.UnmarshalBinary(f.Payload); err != nil {
			return bad(err)
		}
		if code, detail := d.checkPassword(req.Password, log); code != 0 {
			return nil, code, detail
		}
		d.mu.Lock()
		if req.Info.DeviceSerial != "" && req.Info.DeviceSerial != d.info.DeviceSerial {
			d.mu.Unlock()
			return nil, protocol.EBadArg, "device_serial is set at the factory; send it blank or unchanged"
		}
		req.Info.DeviceSerial = d.info.DeviceSerial
		d.info = req.Info
		d.mu.Unlock()
		log.Info("recorder info written", "officer_no", req.Info.OfficerNo, "unit_no", req.Info.UnitNo)
		return ok(req.Info)

	case protocol.CmdGetTime:
		return ok(protocol.DeviceTime{Time: d.cfg.Clock.Time()})

	case protocol.CmdSetTime:
		var req protocol.SetTimeRequest
		if err := req.UnmarshalBinary(f.Payload); err != nil {
			return bad(err)
		}
		if code, detail := d.checkPassword(req.Password, log); code != 0 {
			return nil, code, detail
		}
		before := d.cfg.Clock.Time()
		d.cfg.Clock.Set(req.Time)
		log.Info("clock set", "was_off_by", before.Sub(req.Time).String())
		return ok(protocol.Empty{})

	case protocol.CmdEnterMassStorage:
		if d.cfg.NoMassStorage {
			return nil, protocol.EUnknownCmd, "this recorder has no mass storage mode"
		}
		var req protocol.PasswordRequest
		if err := req.UnmarshalBinary(f.Payload); err != nil {
			return bad(err)
		}
		if code, detail := d.checkPassword(req.Password, log); code != 0 {
			return nil, code, detail
		}
		return ok(protocol.Empty{})

	case protocol.CmdGetStatus:
		recs, used, err := d.scan()
		if err != nil {
			return nil, protocol.EStorage, err.Error()
		}
		st := protocol.Status{
			Battery: d.cfg.Battery, Width: uint16(d.cfg.Width), Height: uint16(d.cfg.Height), FPS: uint8(d.cfg.FPS),
			StorageTotal: max(d.cfg.StorageTotal, used), StorageUsed: used, Recordings: uint32(len(recs)),
		}
		if d.cfg.Recording {
			st.Flags |= protocol.StatusRecording
		}
		if d.cfg.Charging {
			st.Flags |= protocol.StatusCharging
		}
		if d.cfg.Loop {
			st.Flags |= protocol.StatusLoop
		}
		return ok(st)

	case protocol.CmdList:
		var req protocol.ListRequest
		if err := req.UnmarshalBinary(f.Payload); err != nil {
			return bad(err)
		}
		recs, _, err := d.scan()
		if err != nil {
			return nil, protocol.EStorage, err.Error()
		}
		page := protocol.ListPage{Generation: generation(recs), Total: uint32(len(recs)), Start: req.Start}
		room := d.cfg.MaxPayload - 13
		limit := int(req.Max)
		if limit == 0 {
			limit = 255
		}
		for i := int(req.Start); i < len(recs) && len(page.Entries) < limit; i++ {
			e := recs[i].entry
			if room -= e.EntrySize(); room < 0 {
				break
			}
			page.Entries = append(page.Entries, e)
		}
		return ok(page)

	case protocol.CmdRead:
		var req protocol.ReadRequest
		if err := req.UnmarshalBinary(f.Payload); err != nil {
			return bad(err)
		}
		return s.read(req)
	}
	return nil, protocol.EUnknownCmd, fmt.Sprintf("command 0x%02X is not in protocol %d.%d", uint8(f.Cmd), protocol.Version, protocol.MinorVersion)
}

// read answers a READ from the named recording.
func (s *session) read(req protocol.ReadRequest) ([]byte, protocol.ErrorCode, string) {
	if s.file == nil || s.name != req.Name {
		if s.file != nil {
			s.file.Close()
			s.file = nil
		}
		p, ok := s.d.path(req.Name)
		if !ok {
			return nil, protocol.ENotFound, "no recording " + req.Name
		}
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, protocol.ENotFound, "no recording " + req.Name
		} else if err != nil {
			return nil, protocol.EStorage, "open failed"
		}
		s.file, s.name = f, req.Name
	}
	fi, err := s.file.Stat()
	if err != nil {
		return nil, protocol.EStorage, "stat failed"
	}
	size := fi.Size()
	if req.Offset > size {
		return nil, protocol.EBadArg, fmt.Sprintf("offset %d is beyond the end at %d", req.Offset, size)
	}
	n := min(int64(req.Length), int64(s.d.cfg.MaxPayload-protocol.ChunkOverhead), size-req.Offset)
	data := make([]byte, n)
	if _, err := s.file.ReadAt(data, req.Offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, protocol.EStorage, "read failed"
	}
	b, err := protocol.Chunk{Offset: req.Offset, Size: size, Data: data, CRC: protocol.CRC32(data)}.AppendBinary(nil)
	if err != nil {
		return nil, protocol.EInternal, err.Error()
	}
	return b, 0, ""
}

// path returns where the named recording is, scanning if it is not known.
func (d *Device) path(name string) (string, bool) {
	d.mu.Lock()
	r, ok := d.recs[name]
	d.mu.Unlock()
	if !ok {
		if _, _, err := d.scan(); err != nil {
			return "", false
		}
		d.mu.Lock()
		r, ok = d.recs[name]
		d.mu.Unlock()
	}
	return r.path, ok
}

// scan lists the recordings with their flags and returns the bytes in use.
func (d *Device) scan() ([]recording, int64, error) {
	d.mu.Lock()
	prev := d.recs
	d.mu.Unlock()
	recs, used, err := scan(d.cfg.Dir, prev)
	if err != nil {
		return nil, 0, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.recs = make(map[string]recording, len(recs))
	for i := range recs {
		recs[i].entry.Flags = 0
		if d.important[recs[i].entry.Name] {
			recs[i].entry.Flags |= protocol.EntryImportant
		}
		if d.cfg.Recording && i == len(recs)-1 {
			recs[i].entry.Flags |= protocol.EntryInProgress
		}
		d.recs[recs[i].entry.Name] = recs[i]
	}
	return recs, used, nil
}

// checkPassword returns 0 for the right password, and otherwise the code
// the password mode calls for.
func (d *Device) checkPassword(pw string, log *slog.Logger) (protocol.ErrorCode, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.cfg.PasswordMode == PasswordLockout && now.Before(d.lockedTill) {
		return protocol.ELocked, fmt.Sprintf("locked for %s more", d.lockedTill.Sub(now).Round(time.Second))
	}
	if subtle.ConstantTimeCompare([]byte(pw), []byte(d.cfg.Password)) == 1 {
		d.badTries = 0
		return 0, ""
	}
	d.badTries++
	log.Info("wrong password", "in_a_row", d.badTries)
	switch d.cfg.PasswordMode {
	case PasswordSilent:
		return silent, ""
	case PasswordLockout:
		if d.badTries >= d.cfg.LockoutAfter {
			d.lockedTill = now.Add(d.cfg.LockoutFor)
			d.badTries = 0
			return protocol.ELocked, fmt.Sprintf("%d wrong passwords: locked for %s", d.cfg.LockoutAfter, d.cfg.LockoutFor)
		}
	}
	return protocol.EBadPassword, "wrong password"
}
