package http

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"evidock"
)

// jsonFields returns the JSON names of the fields of the struct v, sorted.
func jsonFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestBodyFieldsMatchDomain holds the wire forms of a registration and a
// dock report to the domain's Clip and Recorder: a field added to one and
// not the other would be refused as unknown, or silently dropped.
func TestBodyFieldsMatchDomain(t *testing.T) {
	if got, want := jsonFields(clipBody{}), jsonFields(evidock.Clip{}); !reflect.DeepEqual(got, want) {
		t.Errorf("clipBody has JSON fields %v; evidock.Clip has %v", got, want)
	}
	if got, want := jsonFields(recorderBody{}), jsonFields(evidock.Recorder{}); !reflect.DeepEqual(got, want) {
		t.Errorf("recorderBody has JSON fields %v; evidock.Recorder has %v", got, want)
	}
}

// TestUnknownFieldMessageListsFields shows that the message about an
// unknown field lists what a client may send, the new fields included, and
// not what the server sets.
func TestUnknownFieldMessageListsFields(t *testing.T) {
	for _, tt := range []struct {
		name   string
		decode func() error
		want   []string
		absent []string
	}{
		{"clip", func() error { _, err := decodeClip(strings.NewReader(`{"sise":1}`)); return err },
			[]string{"blake3", "clock_offset_ms", "corrected_started_at", "important", "ingested_at"},
			[]string{"station_id", "registered_at", "unit_code", "id,"}},
		{"recorder", func() error { _, err := decodeRecorder(strings.NewReader(`{"serial":"A"}`)); return err },
			[]string{"device_serial", "last_docked_at", "battery_percent", "clock_drifted"},
			[]string{"last_station_id"}},
	} {
		msg := evidock.ErrorMessage(tt.decode())
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q does not list %s", tt.name, msg, w)
			}
		}
		for _, a := range tt.absent {
			if strings.Contains(msg, a) {
				t.Errorf("%s: message %q lists %s, which the server sets", tt.name, msg, a)
			}
		}
	}
}

func seedClip() *evidock.Clip {
	started := time.Date(2024, 5, 1, 9, 30, 0, 0, evidock.ChinaTime)
	d, n, _ := evidock.DigestOf(strings.NewReader("seed"))
	return &evidock.Clip{
		Digest: d, Size: n, ObjectKey: evidock.ObjectKey(d),
		FileName: "A123456_100001_20240501093000_0001.MP4", DeviceSerial: "A123456", OfficerNo: "100001",
		StartedAt: started, ClockOffsetMS: 1_500, CorrectedStartedAt: started.Add(-1500 * time.Millisecond), Important: true,
		Seq: 1, Kind: evidock.MediaVideo, DurationMS: 1500,
		StationID: "dock-01", IngestedAt: started.Add(9 * time.Hour), RegisteredAt: started.Add(10 * time.Hour),
	}
}

func TestDecodeClipRoundTrip(t *testing.T) {
	want := seedClip()
	b, err := encodeClip(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeClip(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// What the server assigns is not taken from the body.
	if got.ID != 0 || got.StationID != "" || !got.RegisteredAt.IsZero() {
		t.Fatalf("decodeClip kept server-assigned fields: %+v", got)
	}
	got.StationID, got.RegisteredAt = want.StationID, want.RegisteredAt
	if !got.StartedAt.Equal(want.StartedAt) || !got.CorrectedStartedAt.Equal(want.CorrectedStartedAt) || !got.IngestedAt.Equal(want.IngestedAt) {
		t.Fatalf("times changed: %v %v %v", got.StartedAt, got.CorrectedStartedAt, got.IngestedAt)
	}
	got.StartedAt, got.CorrectedStartedAt, got.IngestedAt = want.StartedAt, want.CorrectedStartedAt, want.IngestedAt
	if *got != *want {
		t.Fatalf("decodeClip(encodeClip(c)) =\n%+v\nwant\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("round-tripped clip is invalid: %v", err)
	}
}

// TestDecodeClipCorrectedTime shows that a corrected time left out, null or
// zero (as a Go client encodes an unset one) decodes as zero, for the
// registry to compute, and that one sent is kept.
func TestDecodeClipCorrectedTime(t *testing.T) {
	for _, tt := range []struct {
		body string
		want time.Time
	}{
		{`{"started_at":"2024-05-01T09:30:00+08:00","clock_offset_ms":-2000}`, time.Time{}},
		{`{"corrected_started_at":null}`, time.Time{}},
		{`{"corrected_started_at":""}`, time.Time{}},
		{`{"corrected_started_at":"0001-01-01T00:00:00Z"}`, time.Time{}},
		{`{"corrected_started_at":"2024-05-01T09:30:02+08:00"}`, time.Date(2024, 5, 1, 1, 30, 2, 0, time.UTC)},
	} {
		c, err := decodeClip(strings.NewReader(tt.body))
		if err != nil {
			t.Fatalf("decodeClip(%s): %v", tt.body, err)
		}
		if !c.CorrectedStartedAt.Equal(tt.want) || c.CorrectedStartedAt.IsZero() != tt.want.IsZero() {
			t.Errorf("decodeClip(%s).CorrectedStartedAt = %v; want %v", tt.body, c.CorrectedStartedAt, tt.want)
		}
	}
	_, err := decodeClip(strings.NewReader(`{"corrected_started_at":"yesterday"}`))
	if evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), "field corrected_started_at") {
		t.Fatalf("decodeClip with a malformed corrected time = %v; want EINVALID naming the field", err)
	}
}

// FuzzDecodeClip feeds the registration decoder arbitrary bodies: it must
// never panic, must refuse with EINVALID only, and what it accepts must
// survive encoding and decoding again unchanged.
func FuzzDecodeClip(f *testing.F) {
	good, _ := encodeClip(seedClip())
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"blake3":"zz"}`))
	f.Add([]byte(`{"size":1e400}`))
	f.Add([]byte(`{"started_at":"2024-05-01T09:30:00+08:00","seq":-1}`))
	f.Add([]byte(`{"unknown":1}`))
	f.Add([]byte(`{"id":{"a":[1,2,3]},"registered_at":null}`))
	f.Add([]byte(`{"file_name":"\u0000\ud800"} {}`))
	f.Add([]byte(`{"clock_offset_ms":-9223372036854775808,"important":true,"corrected_started_at":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"corrected_started_at":"2024-05-01T09:30:00.123456789-23:59"}`))
	f.Add([]byte(`{"important":"yes","clock_offset_ms":1.5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeClip(bytes.NewReader(body))
		if err != nil {
			if evidock.ErrorCode(err) != evidock.EINVALID || c != nil {
				t.Fatalf("decodeClip(%q) = %v, %v; want nil, EINVALID", body, c, err)
			}
			return
		}
		b, err := encodeClip(c)
		if err != nil {
			t.Fatalf("encode accepted clip: %v", err)
		}
		again, err := decodeClip(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decodeClip rejects its own output %s: %v", b, err)
		}
		b2, _ := encodeClip(again)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the clip:\n%s\n%s", b, b2)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("encoded clip is not JSON: %v", err)
		}
	})
}

func seedRecorder() *evidock.Recorder {
	return &evidock.Recorder{
		DeviceSerial: "A123456", Manufacturer: "Example Recorders", Model: "DSJ-X1", Firmware: "2.4.1",
		OfficerNo: "100001", OfficerName: "张伟", UnitNo: "110105", UnitName: "朝阳分局",
		LastDockedAt: time.Date(2024, 5, 1, 18, 5, 0, 0, evidock.ChinaTime), LastStationID: "dock-01",
		BatteryPercent: 0, StorageUsed: 12 << 30, StorageTotal: 64 << 30,
		ClockOffsetMS: -4_200, DriftPerDayMS: -4_100, ClockDrifted: true,
	}
}

func TestDecodeRecorderRoundTrip(t *testing.T) {
	want := seedRecorder()
	b, err := encodeRecorder(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRecorder(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// The token, not the body, says which station.
	if got.LastStationID != "" {
		t.Fatalf("decodeRecorder kept last_station_id %q", got.LastStationID)
	}
	got.LastStationID = want.LastStationID
	if !got.LastDockedAt.Equal(want.LastDockedAt) {
		t.Fatalf("last_docked_at changed: %v", got.LastDockedAt)
	}
	got.LastDockedAt = want.LastDockedAt
	// An empty battery (0) stays empty: only an absent one is unknown.
	if *got != *want {
		t.Fatalf("decodeRecorder(encodeRecorder(r)) =\n%+v\nwant\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("round-tripped recorder is invalid: %v", err)
	}
}

func TestDecodeRecorderUnknownBattery(t *testing.T) {
	for _, body := range []string{`{}`, `{"battery_percent":null}`} {
		r, err := decodeRecorder(strings.NewReader(body))
		if err != nil || r.BatteryPercent != -1 {
			t.Errorf("decodeRecorder(%s) = %+v, %v; want battery -1 (unknown)", body, r, err)
		}
	}
}

// FuzzDecodeRecorder feeds the dock report decoder arbitrary bodies: it
// must never panic, must refuse with EINVALID only, and what it accepts
// must survive encoding and decoding again unchanged.
func FuzzDecodeRecorder(f *testing.F) {
	good, _ := encodeRecorder(seedRecorder())
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`"A123456"`))
	f.Add([]byte(`{"device_serial":"A123456","last_docked_at":"2024-05-01T18:05:00+08:00"}`))
	f.Add([]byte(`{"battery_percent":null,"storage_used_bytes":-1}`))
	f.Add([]byte(`{"battery_percent":1e400}`))
	f.Add([]byte(`{"battery_percent":"80"}`))
	f.Add([]byte(`{"last_docked_at":"2024-13-01T00:00:00Z"}`))
	f.Add([]byte(`{"last_station_id":"dock-99","clock_drifted":1}`))
	f.Add([]byte(`{"officer_name":"\u0000\ud800"} {}`))
	f.Add([]byte(`{"Device_Serial":"A123456"}`))
	f.Add([]byte(`{"unknown":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeRecorder(bytes.NewReader(body))
		if err != nil {
			if evidock.ErrorCode(err) != evidock.EINVALID || r != nil {
				t.Fatalf("decodeRecorder(%q) = %v, %v; want nil, EINVALID", body, r, err)
			}
			return
		}
		b, err := encodeRecorder(r)
		if err != nil {
			t.Fatalf("encode accepted recorder: %v", err)
		}
		again, err := decodeRecorder(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("decodeRecorder rejects its own output %s: %v", b, err)
		}
		b2, _ := encodeRecorder(again)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the recorder:\n%s\n%s", b, b2)
		}
	})
}
