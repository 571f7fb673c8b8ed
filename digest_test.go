package evidock_test

import (
	"strings"
	"testing"

	"evidock"
)

func TestDigestKnownVectors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
		{"abc", "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"},
	} {
		d, n, err := evidock.DigestOf(strings.NewReader(tt.in))
		if err != nil || n != int64(len(tt.in)) {
			t.Fatalf("DigestOf(%q) = %v, %d, %v", tt.in, d, n, err)
		}
		if d.String() != tt.want {
			t.Errorf("BLAKE3(%q) = %s, want %s", tt.in, d, tt.want)
		}
		back, err := evidock.ParseDigest(strings.ToUpper(tt.want))
		if err != nil || back != d {
			t.Errorf("ParseDigest round trip: %v, %v", back, err)
		}
	}
}

func TestParseDigestErrors(t *testing.T) {
	for _, in := range []string{"", "abc", strings.Repeat("g", 64), strings.Repeat("a", 65)} {
		if _, err := evidock.ParseDigest(in); evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("ParseDigest(%q) = %v, want invalid", in, err)
		}
	}
}

func TestObjectKey(t *testing.T) {
	d, _ := evidock.ParseDigest("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")
	if got, want := evidock.ObjectKey(d), "clips/64/6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"; got != want {
		t.Errorf("ObjectKey = %s, want %s", got, want)
	}
}
