package translog_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"evidock"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// storedClip returns a clip as a store hands it back: ID, registration
// time and station set, times in microseconds and China time.
func storedClip(body string, seq int) *evidock.Clip {
	c := storetest.NewClip([]byte(body), "A123456", "100001", time.Date(2024, 5, 1, 9, 30, 0, 0, evidock.ChinaTime), seq)
	c.ID = int64(seq)
	c.StationID = "dock-01"
	c.RegisteredAt = time.Date(2024, 5, 1, 18, 31, 2, 123_456_000, evidock.ChinaTime)
	return c
}

func TestEncodeRecordKnownAnswer(t *testing.T) {
	c := storedClip("known answer", 1)
	c.ClockOffsetMS, c.CorrectedStartedAt, c.Important = -1_500, c.StartedAt.Add(1_500*time.Millisecond), true
	got, err := translog.EncodeRecord(41, c)
	if err != nil {
		t.Fatal(err)
	}
	want := "evidock clip record v1\n" +
		"index 41\n" +
		"clip_id 1\n" +
		"blake3 " + c.Digest.String() + "\n" +
		"size 12\n" +
		"object_key " + c.ObjectKey + "\n" +
		"file_name A123456_100001_20240501093000_0001.MP4\n" +
		"device_serial A123456\n" +
		"officer_no 100001\n" +
		"started_at 2024-05-01T01:30:00.000000Z\n" +
		"clock_offset_ms -1500\n" +
		"corrected_started_at 2024-05-01T01:30:01.500000Z\n" +
		"important true\n" +
		"seq 1\n" +
		"kind video\n" +
		"duration_ms 61500\n" +
		"station_id dock-01\n" +
		"ingested_at 2024-05-01T10:30:00.000000Z\n" +
		"registered_at 2024-05-01T10:31:02.123456Z\n"
	if string(got) != want {
		t.Fatalf("record =\n%s\nwant\n%s", got, want)
	}
	// RFC 6962 leaf hash: SHA-256 of 0x00 and the record.
	if h := translog.RecordHash(got); h != evidock.LogHash(sha256.Sum256(append([]byte{0}, got...))) {
		t.Fatalf("RecordHash = %s; want the RFC 6962 leaf hash", h)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(c *evidock.Clip)
	}{
		{"plain", func(*evidock.Clip) {}},
		{"no station", func(c *evidock.Clip) { c.StationID = "" }},
		{"folder with spaces, percent and Chinese", func(c *evidock.Clip) { c.FileName = `D:\录像 100%\` + c.FileName }},
		{"control characters", func(c *evidock.Clip) { c.FileName = "a\nb\tc\x00/" + c.FileName }},
		{"negative offset", func(c *evidock.Clip) {
			c.ClockOffsetMS, c.CorrectedStartedAt = -86_400_000, c.StartedAt.Add(24*time.Hour)
		}},
		{"times in UTC", func(c *evidock.Clip) { c.IngestedAt, c.RegisteredAt = c.IngestedAt.UTC(), c.RegisteredAt.UTC() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := storedClip("round trip "+tt.name, 3)
			tt.modify(c)
			text, err := translog.EncodeRecord(7, c)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.ContainsFunc(text, func(r rune) bool { return r != '\n' && (r < 0x20 || r > 0x7e) }) {
				t.Fatalf("record is not printable ASCII:\n%q", text)
			}
			rec, err := translog.ParseRecord(text)
			if err != nil {
				t.Fatalf("ParseRecord: %v\n%s", err, text)
			}
			if d := translog.DiffClip(&rec.Clip, c); rec.Index != 7 || len(d) > 0 {
				t.Fatalf("round trip: index %d, differences %v", rec.Index, d)
			}
			if rec.Clip.RegisteredAt.Location() != evidock.ChinaTime {
				t.Errorf("times come back in %v; want China time", rec.Clip.RegisteredAt.Location())
			}
		})
	}
}

func TestEncodeRecordRefuses(t *testing.T) {
	c := storedClip("refused", 1)
	if _, err := translog.EncodeRecord(-1, c); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Errorf("negative index: %v; want EINVALID", err)
	}
	c.RegisteredAt = c.RegisteredAt.Add(time.Nanosecond)
	if _, err := translog.EncodeRecord(0, c); evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), "registered_at") {
		t.Errorf("nanoseconds: %v; want EINVALID naming registered_at", err)
	}
}

func TestParseRecordRefusesNonCanonical(t *testing.T) {
	good, err := translog.EncodeRecord(5, storedClip("canonical", 2))
	if err != nil {
		t.Fatal(err)
	}
	s := string(good)
	for _, tt := range []struct{ name, text string }{
		{"empty", ""},
		{"other version", strings.Replace(s, "record v1", "record v2", 1)},
		{"no final line feed", strings.TrimSuffix(s, "\n")},
		{"CRLF", strings.ReplaceAll(s, "\n", "\r\n")},
		{"extra line", s + "note hello\n"},
		{"blank line", s + "\n"},
		{"missing field", strings.Replace(s, "seq 2\n", "", 1)},
		{"fields swapped", strings.Replace(strings.Replace(s, "seq 2\n", "", 1), "kind video\n", "kind video\nseq 2\n", 1) + ""},
		{"leading zero", strings.Replace(s, "index 5\n", "index 05\n", 1)},
		{"plus sign", strings.Replace(s, "index 5\n", "index +5\n", 1)},
		{"negative index", strings.Replace(s, "index 5\n", "index -5\n", 1)},
		{"upper-case hex digest", strings.Replace(s, "blake3 ", "blake3 A", 1)},
		{"boolean spelled otherwise", strings.Replace(s, "important false", "important False", 1)},
		{"needless escape", strings.Replace(s, "device_serial A123456", "device_serial %41123456", 1)},
		{"lower-case escape", strings.Replace(s, "station_id dock-01", "station_id dock%2d01", 1)},
		{"bare space in value", strings.Replace(s, "station_id dock-01", "station_id dock 01", 1)},
		{"truncated escape", strings.Replace(s, "station_id dock-01", "station_id dock%2", 1)},
		{"nanoseconds", strings.Replace(s, "2024-05-01T10:31:02.123456Z", "2024-05-01T10:31:02.123456000Z", 1)},
		{"other zone", strings.Replace(s, "2024-05-01T10:31:02.123456Z", "2024-05-01T18:31:02.123456+08:00", 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.text == s {
				t.Fatal("test case does not change the record")
			}
			if _, err := translog.ParseRecord([]byte(tt.text)); evidock.ErrorCode(err) != evidock.EINVALID {
				t.Fatalf("ParseRecord = %v; want EINVALID for\n%s", err, tt.text)
			}
		})
	}
}

// FuzzParseRecord holds ParseRecord to its promise: whatever it accepts is
// exactly what EncodeRecord writes for the record it returns.
func FuzzParseRecord(f *testing.F) {
	for i, c := range []*evidock.Clip{storedClip("a", 1), storedClip("b", 2)} {
		if i == 1 {
			c.FileName, c.StationID = `D:\录像 100%\`+c.FileName, ""
		}
		text, err := translog.EncodeRecord(int64(i), c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	f.Add([]byte("evidock clip record v1\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		rec, err := translog.ParseRecord(text)
		if err != nil {
			if evidock.ErrorCode(err) != evidock.EINVALID {
				t.Fatalf("ParseRecord error %v is not EINVALID", err)
			}
			return
		}
		again, err := translog.EncodeRecord(rec.Index, &rec.Clip)
		if err != nil || !bytes.Equal(again, text) {
			t.Fatalf("accepted a record that does not encode back to itself: %v\n%q\n%q", err, text, again)
		}
	})
}

func TestCheckpointText(t *testing.T) {
	root := evidock.LogHash(sha256.Sum256([]byte("root")))
	c := translog.Checkpoint{Origin: "evidock.example/registry", Size: 42, Root: root}
	want := "evidock.example/registry\n42\n" + root.String() + "\n"
	if got := string(c.Text()); got != want {
		t.Fatalf("Text = %q; want %q", got, want)
	}
	if got, err := translog.ParseCheckpoint(c.Text()); err != nil || got != c {
		t.Fatalf("ParseCheckpoint = %+v, %v", got, err)
	}
	for _, bad := range []string{
		"", "o\n42\n" + root.String(), "o\n42\n" + root.String() + "\nextension\n", "\n42\n" + root.String() + "\n",
		"o\n042\n" + root.String() + "\n", "o\n-1\n" + root.String() + "\n", "o\n42\nnot base64\n", "o\n42\nAAAA\n",
		"go.sum database tree\n42\n" + root.String() + "\n" + "extra\n",
	} {
		if _, err := translog.ParseCheckpoint([]byte(bad)); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("ParseCheckpoint(%q) = %v; want EINVALID", bad, err)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("evidock.example/registry\n42\n" + evidock.LogHash{}.String() + "\n"))
	f.Add([]byte("o\n0\n\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := translog.ParseCheckpoint(text)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Text(), text) {
			t.Fatalf("accepted %q, which reads back as %q", text, c.Text())
		}
	})
}

func TestKeys(t *testing.T) {
	skey, vkey, err := translog.GenerateKey("evidock.test/registry")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := translog.VerifierKey(skey); err != nil || got != vkey {
		t.Fatalf("VerifierKey = %q, %v; want %q", got, err, vkey)
	}
	if _, err := note.NewVerifier(vkey); err != nil {
		t.Fatal(err)
	}
	for _, origin := range []string{"", "has space", "has+plus", "line\nfeed"} {
		if _, _, err := translog.GenerateKey(origin); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("GenerateKey(%q) = %v; want EINVALID", origin, err)
		}
	}
	if _, err := translog.VerifierKey(vkey); evidock.ErrorCode(err) != evidock.EINVALID {
		t.Errorf("VerifierKey of a verifier key = %v; want EINVALID", err)
	}

	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "keys", "log.key"), filepath.Join(dir, "keys", "log.pub")
	if err := translog.WriteKeyFiles(priv, pub, skey, vkey); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if info, _ := os.Stat(priv); info.Mode().Perm() != 0o600 {
			t.Errorf("private key mode %v; want 0600", info.Mode().Perm())
		}
	}
	if got, err := translog.ReadSigningKey(priv); err != nil || got != skey {
		t.Fatalf("ReadSigningKey = %v", err)
	}
	if got, err := translog.ReadVerifierKey(pub); err != nil || got != vkey {
		t.Fatalf("ReadVerifierKey = %q, %v", got, err)
	}
	other, _, _ := translog.GenerateKey("evidock.test/registry")
	if err := translog.WriteKeyFiles(priv, pub+"2", other, vkey); evidock.ErrorCode(err) != evidock.ECONFLICT {
		t.Fatalf("overwriting a key = %v; want ECONFLICT", err)
	}
	if got, _ := translog.ReadSigningKey(priv); got != skey {
		t.Fatal("the existing key was overwritten")
	}
	if _, err := os.Stat(pub + "2"); err == nil {
		t.Error("a public key was written for a private key that was not")
	}
	if runtime.GOOS != "windows" {
		os.Chmod(priv, 0o644)
		if _, err := translog.ReadSigningKey(priv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("ReadSigningKey of a world-readable key = %v; want a refusal naming chmod 600", err)
		}
	}
	if _, err := translog.ReadSigningKey(pub); err == nil || strings.Contains(err.Error(), skey) {
		t.Errorf("ReadSigningKey of a public key = %v", err)
	}
}
