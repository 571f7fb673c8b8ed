package protocol

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"evidock"
)

// Message is a typed request or response payload.
type Message interface {
	// AppendBinary appends the payload to b. It returns b unchanged and a
	// *FieldError or ErrPassword if a field cannot be encoded.
	AppendBinary(b []byte) ([]byte, error)
	// UnmarshalBinary decodes a payload. Bytes after the known fields are
	// ignored, so that later minor versions can add fields at the end. It
	// returns an error wrapping ErrMalformed if the payload is too short,
	// or a *FieldError for a field that does not decode.
	UnmarshalBinary(b []byte) error
}

// Every payload type is a Message.
var (
	_ Message = (*Empty)(nil)
	_ Message = (*IdentifyRequest)(nil)
	_ Message = (*Identity)(nil)
	_ Message = (*Info)(nil)
	_ Message = (*SetInfoRequest)(nil)
	_ Message = (*DeviceTime)(nil)
	_ Message = (*SetTimeRequest)(nil)
	_ Message = (*PasswordRequest)(nil)
	_ Message = (*Status)(nil)
	_ Message = (*ListRequest)(nil)
	_ Message = (*ListPage)(nil)
	_ Message = (*ReadRequest)(nil)
	_ Message = (*Chunk)(nil)
	_ Message = (*ErrorBody)(nil)
)

// Field widths of PROTOCOL.md §5.
const (
	PasswordLen     = 32
	DeviceSerialLen = evidock.DeviceSerialLen // 7
	OfficerNoLen    = evidock.OfficerNoLen    // 6
	OfficerNameLen  = 32
	UnitNoLen       = 12
	UnitNameLen     = 32
	InfoSize        = DeviceSerialLen + OfficerNoLen + OfficerNameLen + UnitNoLen + UnitNameLen // 89
	ManufacturerLen = 8
	ModelLen        = 16
	FirmwareLen     = 16
	IdentitySize    = 4 + 4 + ManufacturerLen + ModelLen + FirmwareLen + DeviceSerialLen // 55
	StatusSize      = 28
	MaxNameLen      = 64
	// ChunkOverhead is what a READ response adds to its data.
	ChunkOverhead = 8 + 8 + 4 + 4
	// MinDevicePayload is the least MaxPayload a device may announce.
	MinDevicePayload = 512
)

// Capability bits of Identity.Capabilities.
const (
	CapMassStorage uint32 = 1 << 0 // ENTER_MSC works
	CapDownload    uint32 = 1 << 1 // LIST and READ work
)

// reader takes fields off a payload; the first shortfall sticks.
type reader struct {
	b     []byte
	short string // the first field that did not fit
}

func (r *reader) take(field string, n int) []byte {
	if r.short != "" || len(r.b) < n {
		if r.short == "" {
			r.short = field
		}
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(f string) uint8   { return r.take(f, 1)[0] }
func (r *reader) u16(f string) uint16 { return binary.BigEndian.Uint16(r.take(f, 2)) }
func (r *reader) u32(f string) uint32 { return binary.BigEndian.Uint32(r.take(f, 4)) }
func (r *reader) u64(f string) uint64 { return binary.BigEndian.Uint64(r.take(f, 8)) }

func (r *reader) err(what string) error {
	if r.short == "" {
		return nil
	}
	return fmt.Errorf("decode %s: payload ends before %s: %w", what, r.short, ErrMalformed)
}

// appendPassword appends the 32-byte password field.
func appendPassword(b []byte, pw string) ([]byte, error) {
	if len(pw) == 0 || len(pw) > PasswordLen || strings.IndexByte(pw, 0) >= 0 {
		return b, ErrPassword
	}
	return appendFixed(b, []byte(pw), PasswordLen), nil
}

// password decodes the 32-byte password field: the bytes before the first NUL.
func password(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Empty is the payload of requests and responses that carry nothing.
type Empty struct{}

// AppendBinary returns b.
func (Empty) AppendBinary(b []byte) ([]byte, error) { return b, nil }

// UnmarshalBinary accepts any payload (later versions may add fields).
func (*Empty) UnmarshalBinary([]byte) error { return nil }

// IdentifyRequest is the IDENTIFY request: the protocol version the host
// speaks best.
type IdentifyRequest struct {
	Major, Minor uint8
}

// AppendBinary appends the two version bytes.
func (m IdentifyRequest) AppendBinary(b []byte) ([]byte, error) {
	return append(b, m.Major, m.Minor), nil
}

// UnmarshalBinary decodes the request; an empty payload (a host older than
// anyone) reads as version 1.0.
func (m *IdentifyRequest) UnmarshalBinary(b []byte) error {
	*m = IdentifyRequest{Major: 1}
	if len(b) >= 2 {
		m.Major, m.Minor = b[0], b[1]
	}
	return nil
}

// Identity is the IDENTIFY response: who the device is and what it can do.
type Identity struct {
	Major, Minor uint8  // the protocol version the device speaks
	MaxPayload   uint16 // the largest payload the device sends or accepts, >= 512
	Capabilities uint32 // Cap* bits
	Manufacturer string // manufacturer ID code, ASCII, up to 8 bytes
	Model        string // model, GBK, up to 16 bytes
	Firmware     string // firmware version, ASCII, up to 16 bytes
	DeviceSerial string // 7 upper-case letters or digits
}

// AppendBinary appends the 55-byte identity.
func (m Identity) AppendBinary(b []byte) ([]byte, error) {
	manu, err := encodeASCII("manufacturer", m.Manufacturer, ManufacturerLen)
	if err != nil {
		return b, err
	}
	model, err := encodeGBK("model", m.Model, ModelLen)
	if err != nil {
		return b, err
	}
	fw, err := encodeASCII("firmware", m.Firmware, FirmwareLen)
	if err != nil {
		return b, err
	}
	if err := checkSerial(m.DeviceSerial); err != nil {
		return b, err
	}
	b = append(b, m.Major, m.Minor)
	b = binary.BigEndian.AppendUint16(b, m.MaxPayload)
	b = binary.BigEndian.AppendUint32(b, m.Capabilities)
	b = appendFixed(b, manu, ManufacturerLen)
	b = appendFixed(b, model, ModelLen)
	b = appendFixed(b, fw, FirmwareLen)
	return appendFixed(b, []byte(m.DeviceSerial), DeviceSerialLen), nil
}

// UnmarshalBinary decodes the identity.
func (m *Identity) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	var v Identity
	v.Major, v.Minor = r.u8("major"), r.u8("minor")
	v.MaxPayload = r.u16("max_payload")
	v.Capabilities = r.u32("capabilities")
	manu := r.take("manufacturer", ManufacturerLen)
	model := r.take("model", ModelLen)
	fw := r.take("firmware", FirmwareLen)
	serial := r.take("device_serial", DeviceSerialLen)
	if err := r.err("identity"); err != nil {
		return err
	}
	var err error
	if v.Manufacturer, err = decodeASCII("manufacturer", manu); err != nil {
		return err
	}
	if v.Model, err = decodeGBK("model", model); err != nil {
		return err
	}
	if v.Firmware, err = decodeASCII("firmware", fw); err != nil {
		return err
	}
	if v.DeviceSerial, err = decodeSerial(serial); err != nil {
		return err
	}
	*m = v
	return nil
}

// Info is the recorder info of GA/T 947, the GET_INFO response and, with a
// password, the SET_INFO request. Empty strings are empty (all-NUL) fields.
type Info struct {
	DeviceSerial string // 7 upper-case letters or digits
	OfficerNo    string // 6 digits
	OfficerName  string // up to 32 bytes in GBK (16 Chinese characters)
	UnitNo       string // up to 12 letters or digits
	UnitName     string // up to 32 bytes in GBK
}

// Validate returns a *FieldError for the first field that cannot go on the
// wire.
func (m Info) Validate() error {
	_, err := m.AppendBinary(nil)
	return err
}

// AppendBinary appends the 89-byte info, NUL-padded.
func (m Info) AppendBinary(b []byte) ([]byte, error) {
	if err := checkSerial(m.DeviceSerial); err != nil {
		return b, err
	}
	if m.OfficerNo != "" && (len(m.OfficerNo) != OfficerNoLen || !isDigits(m.OfficerNo)) {
		return b, &FieldError{"officer_no", m.OfficerNo, "must be 6 digits, e.g. 100234"}
	}
	name, err := encodeGBK("officer_name", m.OfficerName, OfficerNameLen)
	if err != nil {
		return b, err
	}
	if len(m.UnitNo) > UnitNoLen || !isUpperAlnum(m.UnitNo) {
		return b, &FieldError{"unit_no", m.UnitNo, "must be up to 12 upper-case letters or digits"}
	}
	unit, err := encodeGBK("unit_name", m.UnitName, UnitNameLen)
	if err != nil {
		return b, err
	}
	b = appendFixed(b, []byte(m.DeviceSerial), DeviceSerialLen)
	b = appendFixed(b, []byte(m.OfficerNo), OfficerNoLen)
	b = appendFixed(b, name, OfficerNameLen)
	b = appendFixed(b, []byte(m.UnitNo), UnitNoLen)
	return appendFixed(b, unit, UnitNameLen), nil
}

// UnmarshalBinary decodes the info. It accepts NUL or space padding and a
// lower-case serial, and returns a *FieldError for a field that breaks the
// rules of AppendBinary.
func (m *Info) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	serial := r.take("device_serial", DeviceSerialLen)
	officer := r.take("officer_no", OfficerNoLen)
	name := r.take("officer_name", OfficerNameLen)
	unitNo := r.take("unit_no", UnitNoLen)
	unit := r.take("unit_name", UnitNameLen)
	if err := r.err("info"); err != nil {
		return err
	}
	var v Info
	var err error
	if v.DeviceSerial, err = decodeSerial(serial); err != nil {
		return err
	}
	if v.OfficerNo, err = decodeASCII("officer_no", officer); err != nil {
		return err
	}
	if v.OfficerNo != "" && (len(v.OfficerNo) != OfficerNoLen || !isDigits(v.OfficerNo)) {
		return &FieldError{"officer_no", v.OfficerNo, "must be 6 digits"}
	}
	if v.OfficerName, err = decodeGBK("officer_name", name); err != nil {
		return err
	}
	if v.UnitNo, err = decodeASCII("unit_no", unitNo); err != nil {
		return err
	}
	v.UnitNo = strings.ToUpper(v.UnitNo)
	if !isUpperAlnum(v.UnitNo) {
		return &FieldError{"unit_no", v.UnitNo, "must be letters or digits"}
	}
	if v.UnitName, err = decodeGBK("unit_name", unit); err != nil {
		return err
	}
	*m = v
	return nil
}

func checkSerial(s string) error {
	if s != "" && (len(s) != DeviceSerialLen || !isUpperAlnum(s)) {
		return &FieldError{"device_serial", s, "must be 7 upper-case letters or digits, e.g. DSJ0001"}
	}
	return nil
}

func decodeSerial(b []byte) (string, error) {
	s, err := decodeASCII("device_serial", b)
	if err != nil {
		return "", err
	}
	s = strings.ToUpper(s)
	return s, checkSerial(s)
}

// SetInfoRequest is the SET_INFO request. A blank DeviceSerial keeps the
// device's; any other must equal it, as serials are set at the factory.
type SetInfoRequest struct {
	Password string
	Info     Info
}

// AppendBinary appends the password and the info (121 bytes).
func (m SetInfoRequest) AppendBinary(b []byte) ([]byte, error) {
	out, err := appendPassword(b, m.Password)
	if err != nil {
		return b, err
	}
	out, err = m.Info.AppendBinary(out)
	if err != nil {
		return b, err
	}
	return out, nil
}

// UnmarshalBinary decodes the request.
func (m *SetInfoRequest) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	pw := r.take("password", PasswordLen)
	if err := r.err("set_info"); err != nil {
		return err
	}
	var info Info
	if err := info.UnmarshalBinary(r.b); err != nil {
		return err
	}
	*m = SetInfoRequest{Password: password(pw), Info: info}
	return nil
}

// DeviceTime is the GET_TIME response: the device clock, to the millisecond.
type DeviceTime struct {
	Time time.Time
}

// AppendBinary appends the time as signed Unix milliseconds.
func (m DeviceTime) AppendBinary(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint64(b, uint64(m.Time.UnixMilli())), nil
}

// UnmarshalBinary decodes the time, in China time.
func (m *DeviceTime) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	ms := int64(r.u64("time"))
	if err := r.err("time"); err != nil {
		return err
	}
	m.Time = time.UnixMilli(ms).In(chinaTime)
	return nil
}

// SetTimeRequest is the SET_TIME request.
type SetTimeRequest struct {
	Password string
	Time     time.Time
}

// AppendBinary appends the password and the time (40 bytes).
func (m SetTimeRequest) AppendBinary(b []byte) ([]byte, error) {
	out, err := appendPassword(b, m.Password)
	if err != nil {
		return b, err
	}
	return DeviceTime{m.Time}.AppendBinary(out)
}

// UnmarshalBinary decodes the request.
func (m *SetTimeRequest) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	pw := r.take("password", PasswordLen)
	if err := r.err("set_time"); err != nil {
		return err
	}
	var t DeviceTime
	if err := t.UnmarshalBinary(r.b); err != nil {
		return err
	}
	*m = SetTimeRequest{Password: password(pw), Time: t.Time}
	return nil
}

// PasswordRequest is a request that carries only a password: ENTER_MSC.
type PasswordRequest struct {
	Password string
}

// AppendBinary appends the 32-byte password field.
func (m PasswordRequest) AppendBinary(b []byte) ([]byte, error) { return appendPassword(b, m.Password) }

// UnmarshalBinary decodes the request.
func (m *PasswordRequest) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	pw := r.take("password", PasswordLen)
	if err := r.err("password"); err != nil {
		return err
	}
	m.Password = password(pw)
	return nil
}

// Status flag bits.
const (
	StatusRecording uint8 = 1 << 0 // a recording is in progress
	StatusCharging  uint8 = 1 << 1 // on external power
	StatusLoop      uint8 = 1 << 2 // loop recording on: the oldest footage is overwritten when storage is full
)

// Status is the GET_STATUS response.
type Status struct {
	Battery      int    // percent, 0 to 100; -1 if the device does not know
	Flags        uint8  // Status* bits
	Width        uint16 // video resolution in pixels
	Height       uint16
	FPS          uint8
	StorageTotal int64 // bytes the storage holds
	StorageUsed  int64 // bytes in use
	Recordings   uint32
}

// Recording reports whether a recording is in progress.
func (m Status) Recording() bool { return m.Flags&StatusRecording != 0 }

// Loop reports whether loop recording is on.
func (m Status) Loop() bool { return m.Flags&StatusLoop != 0 }

// AppendBinary appends the 28-byte status.
func (m Status) AppendBinary(b []byte) ([]byte, error) {
	bat := byte(0xFF)
	if m.Battery >= 0 && m.Battery <= 100 {
		bat = byte(m.Battery)
	}
	if m.StorageTotal < 0 || m.StorageUsed < 0 {
		return b, fmt.Errorf("encode status: negative storage size: %w", ErrBadArg)
	}
	b = append(b, bat, m.Flags)
	b = binary.BigEndian.AppendUint16(b, m.Width)
	b = binary.BigEndian.AppendUint16(b, m.Height)
	b = append(b, m.FPS, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(m.StorageTotal))
	b = binary.BigEndian.AppendUint64(b, uint64(m.StorageUsed))
	return binary.BigEndian.AppendUint32(b, m.Recordings), nil
}

// UnmarshalBinary decodes the status; a battery byte above 100 reads as -1.
func (m *Status) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	var v Status
	v.Battery = int(r.u8("battery"))
	v.Flags = r.u8("flags")
	v.Width, v.Height = r.u16("width"), r.u16("height")
	v.FPS = r.u8("fps")
	r.u8("reserved")
	total, used := r.u64("storage_total"), r.u64("storage_used")
	v.Recordings = r.u32("recordings")
	if err := r.err("status"); err != nil {
		return err
	}
	if v.Battery > 100 {
		v.Battery = -1
	}
	if total > 1<<62 || used > 1<<62 {
		return &FieldError{"storage", fmt.Sprint(total, used), "is beyond any storage"}
	}
	v.StorageTotal, v.StorageUsed = int64(total), int64(used)
	*m = v
	return nil
}

// ListRequest is the LIST request: up to Max entries from index Start.
type ListRequest struct {
	Start uint32
	Max   uint8 // 0 means as many as fit in one response
}

// AppendBinary appends start and max (5 bytes).
func (m ListRequest) AppendBinary(b []byte) ([]byte, error) {
	return append(binary.BigEndian.AppendUint32(b, m.Start), m.Max), nil
}

// UnmarshalBinary decodes the request.
func (m *ListRequest) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	v := ListRequest{Start: r.u32("start"), Max: r.u8("max")}
	if err := r.err("list"); err != nil {
		return err
	}
	*m = v
	return nil
}

// Entry flag bits.
const (
	EntryImportant  uint8 = 1 << 0 // the officer marked it important with the key
	EntryInProgress uint8 = 1 << 1 // still being recorded; its size will change
)

// Entry is one recording in a LIST response.
type Entry struct {
	Name      string        // base name, e.g. DSJ0001_100234_20261125090000_0001.MP4
	Size      int64         // bytes
	StartedAt time.Time     // by the device clock, whole seconds
	Duration  time.Duration // whole milliseconds
	Flags     uint8         // Entry* bits
}

// Important reports whether the officer marked the recording important.
func (e Entry) Important() bool { return e.Flags&EntryImportant != 0 }

// InProgress reports whether the recording is still being made.
func (e Entry) InProgress() bool { return e.Flags&EntryInProgress != 0 }

// entrySize is the encoded size of an entry with a name of n bytes.
func entrySize(n int) int { return 1 + n + 8 + 8 + 4 + 1 }

// EntrySize returns how many bytes e takes in a LIST response.
func (e Entry) EntrySize() int { return entrySize(len(e.Name)) }

// CheckName returns a *FieldError unless name is a recording name that is
// safe as a file name on every docking PC: 1 to 64 bytes of letters,
// digits, '_', '-' and '.', not starting with '.'.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return &FieldError{"name", name, "must be 1 to 64 bytes"}
	}
	if name[0] == '.' {
		return &FieldError{"name", name, "must not start with '.'"}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-' || c == '.') {
			return &FieldError{"name", name, "may hold only letters, digits, '_', '-' and '.'"}
		}
	}
	return nil
}

func appendName(b []byte, name string) ([]byte, error) {
	if err := CheckName(name); err != nil {
		return b, err
	}
	return append(append(b, byte(len(name))), name...), nil
}

func (r *reader) name() (string, error) {
	n := int(r.u8("name_len"))
	b := r.take("name", n)
	if r.short != "" {
		return "", nil
	}
	s := string(b)
	return s, CheckName(s)
}

// maxDuration is the longest duration the u32 millisecond field holds.
const maxDuration = time.Duration(1<<32-1) * time.Millisecond

func (e Entry) appendBinary(b []byte) ([]byte, error) {
	out, err := appendName(b, e.Name)
	if err != nil {
		return b, err
	}
	if e.Size < 0 || e.Duration < 0 || e.Duration > maxDuration {
		return b, &FieldError{"entry", e.Name, "has a negative size or a duration outside 0 to 49 days"}
	}
	out = binary.BigEndian.AppendUint64(out, uint64(e.Size))
	out = binary.BigEndian.AppendUint64(out, uint64(e.StartedAt.Unix()))
	out = binary.BigEndian.AppendUint32(out, uint32(e.Duration/time.Millisecond))
	return append(out, e.Flags), nil
}

// ListPage is the LIST response.
type ListPage struct {
	// Generation changes whenever the list changes (a recording made or
	// removed); a host that sees it change between pages starts again.
	Generation uint32
	Total      uint32 // entries in the whole list
	Start      uint32 // index of Entries[0]
	Entries    []Entry
}

// AppendBinary appends the page.
func (m ListPage) AppendBinary(b []byte) ([]byte, error) {
	if len(m.Entries) > 255 {
		return b, fmt.Errorf("encode list: %d entries, at most 255: %w", len(m.Entries), ErrBadArg)
	}
	out := binary.BigEndian.AppendUint32(b, m.Generation)
	out = binary.BigEndian.AppendUint32(out, m.Total)
	out = binary.BigEndian.AppendUint32(out, m.Start)
	out = append(out, byte(len(m.Entries)))
	var err error
	for _, e := range m.Entries {
		if out, err = e.appendBinary(out); err != nil {
			return b, err
		}
	}
	return out, nil
}

// UnmarshalBinary decodes the page.
func (m *ListPage) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	v := ListPage{Generation: r.u32("generation"), Total: r.u32("total"), Start: r.u32("start")}
	n := int(r.u8("count"))
	if err := r.err("list"); err != nil {
		return err
	}
	if n > 0 {
		v.Entries = make([]Entry, 0, min(n, len(r.b)/entrySize(1)+1))
	}
	for i := range n {
		name, err := r.name()
		if err != nil {
			return err
		}
		size, start := r.u64("size"), int64(r.u64("started_at"))
		dur, flags := r.u32("duration"), r.u8("flags")
		if err := r.err(fmt.Sprintf("list entry %d", i)); err != nil {
			return err
		}
		if size > 1<<62 {
			return &FieldError{"size", name, "is beyond any storage"}
		}
		v.Entries = append(v.Entries, Entry{
			Name:      name,
			Size:      int64(size),
			StartedAt: time.Unix(start, 0).In(chinaTime),
			Duration:  time.Duration(dur) * time.Millisecond,
			Flags:     flags,
		})
	}
	*m = v
	return nil
}

// ReadRequest is the READ request: up to Length bytes of the named
// recording from Offset.
type ReadRequest struct {
	Name   string
	Offset int64
	Length uint32
}

// AppendBinary appends the request.
func (m ReadRequest) AppendBinary(b []byte) ([]byte, error) {
	out, err := appendName(b, m.Name)
	if err != nil {
		return b, err
	}
	if m.Offset < 0 {
		return b, fmt.Errorf("encode read: negative offset %d: %w", m.Offset, ErrBadArg)
	}
	out = binary.BigEndian.AppendUint64(out, uint64(m.Offset))
	return binary.BigEndian.AppendUint32(out, m.Length), nil
}

// UnmarshalBinary decodes the request.
func (m *ReadRequest) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	name, err := r.name()
	off, n := r.u64("offset"), r.u32("length")
	if rerr := r.err("read"); rerr != nil {
		return rerr
	}
	if err != nil {
		return err
	}
	if off > 1<<62 {
		return fmt.Errorf("decode read: offset %d: %w", off, ErrBadArg)
	}
	*m = ReadRequest{Name: name, Offset: int64(off), Length: n}
	return nil
}

// Chunk is the READ response: bytes of a recording and their CRC-32, which
// the device computes where it reads the storage, so that the host checks
// the data end to end, not only the frame.
type Chunk struct {
	Offset int64  // where Data starts in the recording
	Size   int64  // the recording's size now
	Data   []byte // empty at or after the end
	CRC    uint32 // CRC32(Data)
}

// AppendBinary appends the chunk. CRC is sent as it is, so that a test can
// send a wrong one.
func (m Chunk) AppendBinary(b []byte) ([]byte, error) {
	if m.Offset < 0 || m.Size < 0 {
		return b, fmt.Errorf("encode chunk: negative offset or size: %w", ErrBadArg)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(m.Offset))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Size))
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Data)))
	b = append(b, m.Data...)
	return binary.BigEndian.AppendUint32(b, m.CRC), nil
}

// UnmarshalBinary decodes the chunk. Data aliases b. It does not check the
// CRC; Verify does.
func (m *Chunk) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	off, size := r.u64("offset"), r.u64("size")
	n := r.u32("data_len")
	if err := r.err("chunk"); err != nil {
		return err
	}
	if uint64(n) > uint64(len(r.b)) {
		return fmt.Errorf("decode chunk: data_len %d but %d bytes follow: %w", n, len(r.b), ErrMalformed)
	}
	data := r.take("data", int(n))
	crc := r.u32("crc")
	if err := r.err("chunk"); err != nil {
		return err
	}
	if off > 1<<62 || size > 1<<62 {
		return fmt.Errorf("decode chunk: offset %d or size %d out of range: %w", off, size, ErrMalformed)
	}
	*m = Chunk{Offset: int64(off), Size: int64(size), Data: data, CRC: crc}
	return nil
}

// Verify returns ErrChunkCRC, wrapped, if Data does not match CRC.
func (m Chunk) Verify() error {
	if got := CRC32(m.Data); got != m.CRC {
		return fmt.Errorf("chunk at %d (%d bytes): CRC-32 %08x, device said %08x: %w", m.Offset, len(m.Data), got, m.CRC, ErrChunkCRC)
	}
	return nil
}

// ErrorBody is the payload of an error response.
type ErrorBody struct {
	Code   ErrorCode
	Detail string // printable ASCII, up to 255 bytes, for logs
}

// AppendBinary appends the code and the detail; a detail that is too long
// or not printable ASCII is cut or cleaned, never refused.
func (m ErrorBody) AppendBinary(b []byte) ([]byte, error) {
	d := []byte(m.Detail)
	for i, c := range d {
		if c < 0x20 || c > 0x7E {
			d[i] = '?'
		}
	}
	if len(d) > 255 {
		d = d[:255]
	}
	b = binary.BigEndian.AppendUint16(b, uint16(m.Code))
	return append(append(b, byte(len(d))), d...), nil
}

// UnmarshalBinary decodes the body; a detail that is cut short or not ASCII
// is kept as far as it is readable.
func (m *ErrorBody) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	code := ErrorCode(r.u16("code"))
	if err := r.err("error"); err != nil {
		return err
	}
	var detail []byte
	if len(r.b) > 0 {
		n := min(int(r.b[0]), len(r.b)-1)
		detail = []byte(string(r.b[1 : 1+n]))
		for i, c := range detail {
			if c < 0x20 || c > 0x7E {
				detail[i] = '?'
			}
		}
	}
	*m = ErrorBody{Code: code, Detail: string(detail)}
	return nil
}

// Encode returns the payload of m.
func Encode(m encoding.BinaryAppender) ([]byte, error) { return m.AppendBinary(nil) }

// chinaTime is the zone of recorder clocks.
var chinaTime = evidock.ChinaTime
