package protocol

import (
	"bytes"
	"encoding"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"evidock"
)

var (
	at      = time.Date(2026, 11, 25, 9, 30, 0, 0, evidock.ChinaTime)
	zhang   = Info{DeviceSerial: "DSJ0001", OfficerNo: "100234", OfficerName: "张三", UnitNo: "320100000000", UnitName: "南京市人社局劳动保障监察支队"}
	entries = []Entry{
		{Name: "DSJ0001_100234_20261125093000_0001.MP4", Size: 200_000_000, StartedAt: at, Duration: 200 * time.Second, Flags: EntryImportant},
		{Name: "DSJ0001_100234_20261125094000_0002.MP4", Size: 5, StartedAt: at.Add(10 * time.Minute), Duration: 1500 * time.Millisecond, Flags: EntryInProgress},
	}
)

// TestMessageRoundTrip encodes every message and decodes it into a fresh
// value of its type.
func TestMessageRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		msg  encoding.BinaryAppender
		size int // -1: variable
	}{
		{"identify request", IdentifyRequest{1, 0}, 2},
		{"identity", Identity{Major: 1, Minor: 0, MaxPayload: 4096, Capabilities: CapDownload | CapMassStorage,
			Manufacturer: "HIK", Model: "DSJ-V8 执法仪", Firmware: "V2.1.0 build 7", DeviceSerial: "DSJ0001"}, IdentitySize},
		{"info", zhang, InfoSize},
		{"empty info", Info{}, InfoSize},
		{"set info", SetInfoRequest{Password: "123456", Info: zhang}, PasswordLen + InfoSize},
		{"time", DeviceTime{at.Add(123 * time.Millisecond)}, 8},
		{"time before 1970", DeviceTime{time.Date(1969, 1, 1, 0, 0, 0, 0, evidock.ChinaTime)}, 8},
		{"set time", SetTimeRequest{Password: strings.Repeat("p", 32), Time: at}, 40},
		{"msc", PasswordRequest{Password: "pass word"}, 32},
		{"status", Status{Battery: 87, Flags: StatusLoop | StatusRecording, Width: 2304, Height: 1296, FPS: 30,
			StorageTotal: 64_000_000_000, StorageUsed: 61_500_000_000, Recordings: 312}, StatusSize},
		{"status unknown battery", Status{Battery: -1}, StatusSize},
		{"list request", ListRequest{Start: 70000, Max: 20}, 5},
		{"list page", ListPage{Generation: 0xDEADBEEF, Total: 9, Start: 3, Entries: entries}, -1},
		{"empty list page", ListPage{Total: 0}, 13},
		{"read request", ReadRequest{Name: entries[0].Name, Offset: 5_000_000_000, Length: 16384}, 1 + len(entries[0].Name) + 12},
		{"chunk", Chunk{Offset: 16384, Size: 200_000_000, Data: []byte("some bytes"), CRC: CRC32([]byte("some bytes"))}, ChunkOverhead + 10},
		{"empty chunk", Chunk{Offset: 200, Size: 200, Data: []byte{}, CRC: 0}, ChunkOverhead},
		{"error", ErrorBody{Code: ENotFound, Detail: "no recording X.MP4"}, 3 + 18},
		{"empty", Empty{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.msg.AppendBinary([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatal("AppendBinary lost what it appended to")
			}
			b = b[len("prefix"):]
			if tt.size >= 0 && len(b) != tt.size {
				t.Errorf("%d bytes, want %d", len(b), tt.size)
			}
			got := reflect.New(reflect.TypeOf(tt.msg))
			if err := got.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Elem().Interface(), tt.msg) {
				t.Errorf("decoded %+v\nwant    %+v", got.Elem().Interface(), tt.msg)
			}
			// Later minor versions append fields: trailing bytes are ignored.
			got = reflect.New(reflect.TypeOf(tt.msg))
			if err := got.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(append(b, 0xAA, 0xBB)); err != nil {
				t.Errorf("with trailing bytes: %v", err)
			}
			// Every proper prefix of a fixed-size payload is too short.
			if tt.size > 0 && tt.name != "identify request" && tt.name != "error" {
				got = reflect.New(reflect.TypeOf(tt.msg))
				if err := got.Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(b[:len(b)-1]); err == nil {
					t.Error("one byte short: no error")
				}
			}
		})
	}
}

func TestInfoWire(t *testing.T) {
	b, err := zhang.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	// 张三 in GBK is D5C5 C8FD, then NUL padding to 32 bytes.
	name := b[DeviceSerialLen+OfficerNoLen:][:OfficerNameLen]
	if want := append([]byte{0xD5, 0xC5, 0xC8, 0xFD}, make([]byte, 28)...); !bytes.Equal(name, want) {
		t.Errorf("officer_name field = % x, want % x", name, want)
	}
	if string(b[:13]) != "DSJ0001100234" {
		t.Errorf("serial and officer = %q", b[:13])
	}
}

func TestInfoDecodeLenient(t *testing.T) {
	// Space padding, a lower-case serial and garbage after a NUL, as C
	// firmware leaves them.
	var b []byte
	b = append(b, "dsj0001"...)
	b = append(b, "100234"...)
	b = append(b, 0xD5, 0xC5, 0xC8, 0xFD, 0x00, 0xFF, 0x81)
	b = append(b, bytes.Repeat([]byte{' '}, 25)...)
	b = append(b, "3201        "...)
	b = append(b, bytes.Repeat([]byte{' '}, 32)...)
	var info Info
	if err := info.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	want := Info{DeviceSerial: "DSJ0001", OfficerNo: "100234", OfficerName: "张三", UnitNo: "3201"}
	if info != want {
		t.Errorf("got %+v, want %+v", info, want)
	}
}

func TestInfoInvalid(t *testing.T) {
	ok := zhang
	tests := []struct {
		name  string
		edit  func(*Info)
		field string
	}{
		{"short serial", func(i *Info) { i.DeviceSerial = "DSJ01" }, "device_serial"},
		{"lower serial", func(i *Info) { i.DeviceSerial = "dsj0001" }, "device_serial"},
		{"officer letters", func(i *Info) { i.OfficerNo = "10023a" }, "officer_no"},
		{"officer long", func(i *Info) { i.OfficerNo = "1002345" }, "officer_no"},
		{"name 17 characters", func(i *Info) { i.OfficerName = strings.Repeat("张", 17) }, "officer_name"},
		{"name emoji", func(i *Info) { i.OfficerName = "张三😀" }, "officer_name"},
		{"name control", func(i *Info) { i.OfficerName = "张\n三" }, "officer_name"},
		{"unit no long", func(i *Info) { i.UnitNo = "3201000000001" }, "unit_no"},
		{"unit no symbol", func(i *Info) { i.UnitNo = "3201-00" }, "unit_no"},
		{"unit name long", func(i *Info) { i.UnitName = strings.Repeat("监", 16) + "x" }, "unit_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := ok
			tt.edit(&info)
			err := info.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, ErrField) {
				t.Errorf("Validate() = %v, want a *FieldError for %s", err, tt.field)
			}
		})
	}
	// 16 characters fit exactly.
	info := ok
	info.OfficerName = strings.Repeat("张", 16)
	if err := info.Validate(); err != nil {
		t.Errorf("16 Chinese characters: %v", err)
	}

	// Bytes that are not GBK, or a character cut by the field's end.
	b, _ := zhang.AppendBinary(nil)
	b[13] = 0xFF
	if err := new(Info).UnmarshalBinary(b); err == nil {
		t.Error("0xFF in officer_name decoded without error")
	}
	field := func(tail ...byte) []byte {
		b, _ := zhang.AppendBinary(nil)
		copy(b[13:45], append(bytes.Repeat([]byte{0xD5, 0xC5}, 15), tail...))
		return b
	}
	if err := new(Info).UnmarshalBinary(field(0, 0xD5)); err != nil {
		t.Errorf("NUL-terminated after 15 whole characters: %v", err)
	}
	if err := new(Info).UnmarshalBinary(field('A', 0xD5)); err == nil {
		t.Error("a double-byte character cut by the field's end decoded without error")
	}
	if err := new(Info).UnmarshalBinary(field(0xD5, 0)); err == nil {
		t.Error("a double-byte character cut by NUL decoded without error")
	}
}

func TestPasswordField(t *testing.T) {
	for _, pw := range []string{"", strings.Repeat("x", 33), "a\x00b"} {
		if _, err := (PasswordRequest{Password: pw}).AppendBinary(nil); !errors.Is(err, ErrPassword) {
			t.Errorf("password %q: %v, want ErrPassword", pw, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"DSJ0001_100234_20261125093000_0001.MP4", "a", "x-y.z", strings.Repeat("A", 64)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", ".hidden", "../etc/passwd", `a\b`, "a/b", "C:x", "a b", "名.MP4", strings.Repeat("A", 65)} {
		if err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) = nil", bad)
		}
	}
	// A name that is not safe does not decode in a list either.
	p := ListPage{Total: 1, Entries: []Entry{{Name: "AAAA"}}}
	b, _ := p.AppendBinary(nil)
	copy(b[14:], "../x")
	if err := new(ListPage).UnmarshalBinary(b); err == nil {
		t.Error("list entry ../x decoded")
	}
}

func TestChunkVerify(t *testing.T) {
	c := Chunk{Data: []byte("abc"), CRC: CRC32([]byte("abc"))}
	if err := c.Verify(); err != nil {
		t.Error(err)
	}
	c.Data = []byte("abd")
	if err := c.Verify(); !errors.Is(err, ErrChunkCRC) {
		t.Errorf("Verify = %v, want ErrChunkCRC", err)
	}
	// data_len beyond the payload
	b, _ := Chunk{Data: []byte("abc")}.AppendBinary(nil)
	b[19] = 200
	if err := new(Chunk).UnmarshalBinary(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("data_len 200 with 3 bytes: %v, want ErrMalformed", err)
	}
}

func TestDeviceErrorIs(t *testing.T) {
	err := error(&DeviceError{Cmd: CmdSetTime, Code: EBadPassword, Detail: "wrong password"})
	if !errors.Is(err, ErrBadPassword) || errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is for %v", err)
	}
	if s := err.Error(); !strings.Contains(s, "SET_TIME") || !strings.Contains(s, "EBADPASSWORD") {
		t.Errorf("message %q lacks command or code", s)
	}
	if s := ErrorCode(0x1234).String(); s != "E0x1234" {
		t.Errorf("unknown code = %s", s)
	}
}

// FuzzUnmarshalPayload feeds outside bytes to every payload decoder: none
// may panic, and whatever decodes must encode and decode to the same value.
func FuzzUnmarshalPayload(f *testing.F) {
	for _, m := range []encoding.BinaryAppender{
		zhang, SetInfoRequest{Password: "1", Info: zhang},
		Identity{MaxPayload: 512, Manufacturer: "M", Model: "型号", DeviceSerial: "DSJ0001"},
		ListPage{Total: 2, Entries: entries}, Chunk{Data: []byte("x")}, ErrorBody{Code: EBusy, Detail: "busy"},
		Status{Battery: 5}, ReadRequest{Name: "A.MP4", Length: 5}, SetTimeRequest{Password: "x", Time: at},
	} {
		b, err := m.AppendBinary(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range []encoding.BinaryUnmarshaler{
			&Info{}, &SetInfoRequest{}, &Identity{}, &ListPage{}, &Chunk{}, &ErrorBody{},
			&Status{}, &ReadRequest{}, &SetTimeRequest{}, &DeviceTime{}, &ListRequest{}, &PasswordRequest{}, &IdentifyRequest{},
		} {
			if err := m.UnmarshalBinary(b); err != nil {
				continue
			}
			enc, ok := reflect.ValueOf(m).Elem().Interface().(encoding.BinaryAppender)
			if !ok {
				t.Fatalf("%T does not encode", m)
			}
			again, err := enc.AppendBinary(nil)
			if err != nil {
				// Decoders accept what encoders refuse only for passwords,
				// which a device never echoes.
				if _, pw := m.(*PasswordRequest); pw || errors.Is(err, ErrPassword) {
					continue
				}
				t.Fatalf("%T decoded %+v but does not encode: %v", m, enc, err)
			}
			m2 := reflect.New(reflect.TypeOf(enc)).Interface().(encoding.BinaryUnmarshaler)
			if err := m2.UnmarshalBinary(again); err != nil {
				t.Fatalf("%T: re-encoded %x does not decode: %v", m, again, err)
			}
			if got := reflect.ValueOf(m2).Elem().Interface(); !reflect.DeepEqual(normalize(got), normalize(enc)) {
				t.Fatalf("%T: %+v became %+v", m, enc, got)
			}
		}
	})
}

// normalize makes values comparable across a round trip: times by instant.
func normalize(v any) any {
	switch m := v.(type) {
	case DeviceTime:
		return m.Time.UnixMilli()
	case SetTimeRequest:
		return [2]any{m.Password, m.Time.UnixMilli()}
	case ListPage:
		for i := range m.Entries {
			m.Entries[i].StartedAt = m.Entries[i].StartedAt.UTC()
		}
		return m
	}
	return v
}
