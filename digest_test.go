package evidock_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/zeebo/blake3"

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

// TestHasherMatchesZeebo checks that whichever BLAKE3 code NewHasher runs
// on this CPU gives zeebo/blake3's digest, written in the 1 MiB pieces the
// agent writes and in odd ones.
func TestHasherMatchesZeebo(t *testing.T) {
	t.Logf("NewHasher runs %s", evidock.HashImplementation())
	data := make([]byte, 3<<20+17)
	rand.NewChaCha8([32]byte{7}).Read(data)
	want := evidock.Digest(blake3.Sum256(data))
	for _, piece := range []int{1 << 20, 65536 + 3} {
		h := evidock.NewHasher()
		for r := bytes.NewReader(data); r.Len() > 0; {
			b := make([]byte, min(piece, r.Len()))
			r.Read(b)
			h.Write(b)
		}
		if got := h.Digest(); got != want {
			t.Errorf("writes of %d bytes: %s, want %s", piece, got, want)
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
