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

// TestClipBodyFieldsMatchClip holds the wire form of a registration to the
// domain's Clip: a field added to one and not the other would be refused as
// unknown, or silently dropped.
func TestClipBodyFieldsMatchClip(t *testing.T) {
	tags := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
		sort.Strings(out)
		return out
	}
	if got, want := tags(clipBody{}), tags(evidock.Clip{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("clipBody has JSON fields %v; evidock.Clip has %v", got, want)
	}
}

func seedClip() *evidock.Clip {
	started := time.Date(2024, 5, 1, 9, 30, 0, 0, evidock.ChinaTime)
	d, n, _ := evidock.DigestOf(strings.NewReader("seed"))
	return &evidock.Clip{
		Digest: d, Size: n, ObjectKey: evidock.ObjectKey(d),
		FileName: "A123456_100001_20240501093000_0001.MP4", DeviceSerial: "A123456", OfficerNo: "100001",
		StartedAt: started, Seq: 1, Kind: evidock.MediaVideo, DurationMS: 1500,
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
	if !got.StartedAt.Equal(want.StartedAt) || !got.IngestedAt.Equal(want.IngestedAt) {
		t.Fatalf("times changed: %v %v", got.StartedAt, got.IngestedAt)
	}
	got.StartedAt, got.IngestedAt = want.StartedAt, want.IngestedAt
	if *got != *want {
		t.Fatalf("decodeClip(encodeClip(c)) =\n%+v\nwant\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("round-tripped clip is invalid: %v", err)
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
