package evidock_test

import (
	"strings"
	"testing"
	"time"

	"evidock"
)

func TestParseRecordingName(t *testing.T) {
	want := evidock.RecordingName{
		DeviceSerial: "DSJ0001", OfficerNo: "100234",
		StartedAt: time.Date(2026, 11, 25, 9, 30, 0, 0, evidock.ChinaTime),
		Seq:       12, Ext: "MP4", Kind: evidock.MediaVideo,
	}
	for _, name := range []string{
		"DSJ0001_100234_20261125093000_0012.MP4",
		"dsj0001_100234_20261125093000_0012.mp4",
		"DSJ0001-100234-20261125093000-0012.MP4",
		"DSJ0001_100234-20261125093000_12.Mp4",
		"DCIM/100MEDIA/DSJ0001_100234_20261125093000_0012.MP4",
		`DCIM\100MEDIA\DSJ0001_100234_20261125093000_0012.MP4`,
	} {
		got, err := evidock.ParseRecordingName(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got != want {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	for ext, kind := range map[string]evidock.MediaKind{"MOV": evidock.MediaVideo, "jpg": evidock.MediaPhoto, "WAV": evidock.MediaAudio, "aac": evidock.MediaAudio} {
		got, err := evidock.ParseRecordingName("DSJ0001_100234_20261125093000_0012." + ext)
		if err != nil || got.Kind != kind || got.Ext != strings.ToUpper(ext) {
			t.Errorf("%s: got %+v, %v", ext, got, err)
		}
	}
	if got := want.String(); got != "DSJ0001_100234_20261125093000_0012.MP4" {
		t.Errorf("String() = %s", got)
	}
}

func TestParseRecordingNameRejects(t *testing.T) {
	for name, reason := range map[string]string{
		"DSJ0001_100234_20261125093000_0012":        "no extension",
		"DSJ0001_100234_20261125093000_0012.TXT":    "not footage",
		"DSJ0001_100234_20261125093000.MP4":         "four fields",
		"DSJ0001__100234_20261125093000_0012.MP4":   "four fields",
		"DSJ001_100234_20261125093000_0012.MP4":     "device serial",
		"DSJ0001_10023X_20261125093000_0012.MP4":    "officer number",
		"DSJ0001_100234_2026112509300_0012.MP4":     "14 digits",
		"DSJ0001_100234_20261325093000_0012.MP4":    "not a real date",
		"DSJ0001_100234_20261125093000_A12.MP4":     "sequence",
		"DSJ0001_100234_20261125093000_1234567.MP4": "sequence",
		"DSJ000!_100234_20261125093000_0012.MP4":    "device serial",
		".MP4":                                      "four fields",
	} {
		_, err := evidock.ParseRecordingName(name)
		if evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: got %v, want an invalid error about %q", name, err, reason)
		}
	}
}

func TestIsFootage(t *testing.T) {
	for name, want := range map[string]bool{"a.MP4": true, "a.mov": true, "x.jpg": true, "x.txt": false, "noext": false, "a.mp4.tmp": false} {
		if got := evidock.IsFootage(name); got != want {
			t.Errorf("IsFootage(%q) = %v", name, got)
		}
	}
}

// FuzzParseRecordingName checks that no name crashes the parser and that
// every accepted name survives a round trip through its canonical form.
func FuzzParseRecordingName(f *testing.F) {
	for _, s := range []string{
		"DSJ0001_100234_20261125093000_0012.MP4", "dsj0001-100234-20261125093000-1.wav",
		"", ".", "a_b_c_d.MP4", "DSJ0001_100234_99999999999999_0012.MP4", "\x00_\xff.mp4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := evidock.ParseRecordingName(name)
		if err != nil {
			if evidock.ErrorCode(err) != evidock.EINVALID {
				t.Fatalf("error without invalid code: %v", err)
			}
			return
		}
		again, err := evidock.ParseRecordingName(n.String())
		if err != nil || again != n {
			t.Fatalf("round trip of %q via %q: %+v, %v", name, n.String(), again, err)
		}
	})
}
