package translog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"evidock"
)

// RecordHeader is the first line of every version 1 record.
const RecordHeader = "evidock clip record v1"

// recordTime is the layout of times in records: UTC, microseconds.
const recordTime = "2006-01-02T15:04:05.000000Z"

// Record is one parsed log record: a clip as it was registered, and its
// position in the log.
type Record struct {
	Index int64
	Clip  evidock.Clip
}

// recordFields lists the record's field names in their order.
var recordFields = []string{
	"index", "clip_id", "blake3", "size", "object_key", "file_name", "device_serial", "officer_no",
	"started_at", "clock_offset_ms", "corrected_started_at", "important", "seq", "kind",
	"duration_ms", "station_id", "ingested_at", "registered_at",
}

// EncodeRecord returns the canonical record of clip c at log index (see the
// package comment). c must be a clip as a store returns it. It returns
// EINVALID if index is negative or a time of c cannot be written: not whole
// microseconds, or outside the years 0 to 9999.
func EncodeRecord(index int64, c *evidock.Clip) ([]byte, error) {
	if index < 0 {
		return nil, evidock.Errorf(evidock.EINVALID, "log record: index %d is negative", index)
	}
	var times [4]string
	for i, t := range []struct {
		name string
		t    time.Time
	}{
		{"started_at", c.StartedAt}, {"corrected_started_at", c.CorrectedStartedAt},
		{"ingested_at", c.IngestedAt}, {"registered_at", c.RegisteredAt},
	} {
		s, err := formatRecordTime(t.t)
		if err != nil {
			return nil, evidock.Errorf(evidock.EINVALID, "log record of clip %s: %s: %v", c.Digest, t.name, err)
		}
		times[i] = s
	}
	values := []string{
		strconv.FormatInt(index, 10),
		strconv.FormatInt(c.ID, 10),
		c.Digest.String(),
		strconv.FormatInt(c.Size, 10),
		escape(c.ObjectKey),
		escape(c.FileName),
		escape(c.DeviceSerial),
		escape(c.OfficerNo),
		times[0],
		strconv.FormatInt(c.ClockOffsetMS, 10),
		times[1],
		strconv.FormatBool(c.Important),
		strconv.Itoa(c.Seq),
		escape(string(c.Kind)),
		strconv.FormatInt(c.DurationMS, 10),
		escape(c.StationID),
		times[2],
		times[3],
	}
	var b bytes.Buffer
	b.WriteString(RecordHeader + "\n")
	for i, name := range recordFields {
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(values[i])
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

func formatRecordTime(t time.Time) (string, error) {
	if t.Nanosecond()%1000 != 0 {
		return "", fmt.Errorf("%s is not a whole number of microseconds", t.Format(time.RFC3339Nano))
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return "", fmt.Errorf("year %d is outside 0 to 9999", y)
	}
	return t.UTC().Format(recordTime), nil
}

// ParseRecord parses a record in the form EncodeRecord writes, with times in
// evidock.ChinaTime as the stores return them. It returns EINVALID naming
// the first thing wrong, including any text that is not exactly what
// EncodeRecord would write for the clip it describes.
func ParseRecord(text []byte) (*Record, error) {
	s := string(text)
	header, rest, ok := strings.Cut(s, "\n")
	if !ok || header != RecordHeader {
		return nil, evidock.Errorf(evidock.EINVALID, "log record: first line must be %q", RecordHeader)
	}
	if !strings.HasSuffix(rest, "\n") {
		return nil, evidock.Errorf(evidock.EINVALID, "log record: must end with a line feed")
	}
	lines := strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
	if len(lines) != len(recordFields) {
		return nil, evidock.Errorf(evidock.EINVALID, "log record: has %d fields, want %d", len(lines), len(recordFields))
	}
	v := make(map[string]string, len(lines))
	for i, line := range lines {
		name, value, ok := strings.Cut(line, " ")
		if !ok || name != recordFields[i] {
			return nil, evidock.Errorf(evidock.EINVALID, "log record: line %d must be the field %s", i+2, recordFields[i])
		}
		v[name] = value
	}

	var (
		r   Record
		c   = &r.Clip
		err error
	)
	fail := func(field string, err error) (*Record, error) {
		return nil, evidock.Errorf(evidock.EINVALID, "log record: field %s: %v", field, err)
	}
	if r.Index, err = strconv.ParseInt(v["index"], 10, 64); err != nil || r.Index < 0 {
		return fail("index", fmt.Errorf("%q is not a log index", v["index"]))
	}
	if c.ID, err = strconv.ParseInt(v["clip_id"], 10, 64); err != nil {
		return fail("clip_id", err)
	}
	if c.Digest, err = evidock.ParseDigest(v["blake3"]); err != nil {
		return fail("blake3", err)
	}
	if c.Size, err = strconv.ParseInt(v["size"], 10, 64); err != nil {
		return fail("size", err)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"object_key", &c.ObjectKey}, {"file_name", &c.FileName}, {"device_serial", &c.DeviceSerial},
		{"officer_no", &c.OfficerNo}, {"station_id", &c.StationID},
	} {
		if *f.dst, err = unescape(v[f.name]); err != nil {
			return fail(f.name, err)
		}
	}
	kind, err := unescape(v["kind"])
	if err != nil {
		return fail("kind", err)
	}
	c.Kind = evidock.MediaKind(kind)
	if c.ClockOffsetMS, err = strconv.ParseInt(v["clock_offset_ms"], 10, 64); err != nil {
		return fail("clock_offset_ms", err)
	}
	if c.Important, err = strconv.ParseBool(v["important"]); err != nil {
		return fail("important", err)
	}
	if c.Seq, err = strconv.Atoi(v["seq"]); err != nil {
		return fail("seq", err)
	}
	if c.DurationMS, err = strconv.ParseInt(v["duration_ms"], 10, 64); err != nil {
		return fail("duration_ms", err)
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{
		{"started_at", &c.StartedAt}, {"corrected_started_at", &c.CorrectedStartedAt},
		{"ingested_at", &c.IngestedAt}, {"registered_at", &c.RegisteredAt},
	} {
		t, err := time.Parse(recordTime, v[f.name])
		if err != nil {
			return fail(f.name, fmt.Errorf("%q is not a time like 2024-05-01T01:30:00.000000Z", v[f.name]))
		}
		*f.dst = t.In(evidock.ChinaTime)
	}
	// One text per clip: anything that parses but is not what EncodeRecord
	// writes (a leading zero, "True", a needless escape) is refused, so
	// that two different texts never describe the same clip.
	again, err := EncodeRecord(r.Index, c)
	if err != nil || !bytes.Equal(again, text) {
		return nil, evidock.Errorf(evidock.EINVALID, "log record: not in canonical form")
	}
	return &r, nil
}

// RecordHash returns the leaf hash of a record in the log's tree.
func RecordHash(record []byte) evidock.LogHash { return evidock.LogHash(tlog.RecordHash(record)) }

const hexDigits = "0123456789ABCDEF"

// escape percent-encodes s as the package comment describes.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x21 && c <= 0x7e && c != '%' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

// unescape reverses escape; it refuses bytes escape would have encoded and
// lower-case or missing hex digits.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("%q: '%%' must be followed by two hex digits", s)
			}
			hi, lo := strings.IndexByte(hexDigits, s[i+1]), strings.IndexByte(hexDigits, s[i+2])
			if hi < 0 || lo < 0 {
				return "", fmt.Errorf("%q: '%%' must be followed by two upper-case hex digits", s)
			}
			b.WriteByte(byte(hi<<4 | lo))
			i += 2
		case c < 0x21 || c > 0x7e:
			return "", fmt.Errorf("%q: byte 0x%02X must be percent-encoded", s, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// DiffClip compares the clip in a log record with a clip from the registry
// and returns one line per field that differs, naming the field and both
// values, or nil if they are the same clip in every field.
func DiffClip(logged, registry *evidock.Clip) []string {
	var diffs []string
	add := func(field string, a, b any) {
		diffs = append(diffs, fmt.Sprintf("%s: log record %q, registry %q", field, fmt.Sprint(a), fmt.Sprint(b)))
	}
	if logged.ID != registry.ID {
		add("id", logged.ID, registry.ID)
	}
	if logged.Digest != registry.Digest {
		add("blake3", logged.Digest, registry.Digest)
	}
	if logged.Size != registry.Size {
		add("size", logged.Size, registry.Size)
	}
	for _, f := range []struct{ name, a, b string }{
		{"object_key", logged.ObjectKey, registry.ObjectKey},
		{"file_name", logged.FileName, registry.FileName},
		{"device_serial", logged.DeviceSerial, registry.DeviceSerial},
		{"officer_no", logged.OfficerNo, registry.OfficerNo},
		{"kind", string(logged.Kind), string(registry.Kind)},
		{"station_id", logged.StationID, registry.StationID},
	} {
		if f.a != f.b {
			add(f.name, f.a, f.b)
		}
	}
	for _, f := range []struct {
		name string
		a, b time.Time
	}{
		{"started_at", logged.StartedAt, registry.StartedAt},
		{"corrected_started_at", logged.CorrectedStartedAt, registry.CorrectedStartedAt},
		{"ingested_at", logged.IngestedAt, registry.IngestedAt},
		{"registered_at", logged.RegisteredAt, registry.RegisteredAt},
	} {
		if !f.a.Equal(f.b) {
			add(f.name, f.a.UTC().Format(time.RFC3339Nano), f.b.UTC().Format(time.RFC3339Nano))
		}
	}
	if logged.ClockOffsetMS != registry.ClockOffsetMS {
		add("clock_offset_ms", logged.ClockOffsetMS, registry.ClockOffsetMS)
	}
	if logged.Important != registry.Important {
		add("important", logged.Important, registry.Important)
	}
	if logged.Seq != registry.Seq {
		add("seq", logged.Seq, registry.Seq)
	}
	if logged.DurationMS != registry.DurationMS {
		add("duration_ms", logged.DurationMS, registry.DurationMS)
	}
	return diffs
}
