package sim

import (
	"slices"
	"strings"
	"testing"

	"evidock"
)

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"4096", 4096},
		{"4096B", 4096},
		{"200MB", 200_000_000},
		{"200mb", 200_000_000},
		{" 200 MB ", 200_000_000},
		{"5MiB", 5 << 20},
		{"5mib", 5 << 20},
		{"1GB", 1_000_000_000},
		{"1GiB", 1 << 30},
		{"1.5GB", 1_500_000_000},
		{"2.5KiB", 2560},
		{"1kB", 1000},
		{"2TB", 2_000_000_000_000},
		{"0.5TiB", 1 << 39},
		{"8388607TiB", 8388607 << 40},
		{"0.000000000001TB", 1},
	}
	for _, tt := range good {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}

	bad := []struct{ in, want string }{
		{"", "is empty"},
		{"MB", "does not start with a number"},
		{"-5MB", "is negative"},
		{"5XB", `unknown unit "XB"`},
		{"5 M B", `unknown unit "M B"`},
		{"1.5B", "not a whole number of bytes"},
		{"1.2.3MB", "malformed"},
		{".5MB", "malformed"},
		{"5.MB", "malformed"},
		{"9999999999999999999", "too large"},
		{"8388608TiB", "too large"},
		{"1e6", `unknown unit "e6"`},
	}
	for _, tt := range bad {
		_, err := ParseSize(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("ParseSize(%q) err = %v; want EINVALID containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("200MB,20MB,5MiB,1GB")
	if want := []int64{200e6, 20e6, 5 << 20, 1e9}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseSizes = %v, %v; want %v", got, err, want)
	}
	bad := []struct{ in, want string }{
		{"", "size list is empty"},
		{"  ", "size list is empty"},
		{"200MB,,5MB", `item 2 "": is empty`},
		{"200MB,5XB", `item 2 "5XB": unknown unit "XB"`},
		{"200MB,", `item 2 "": is empty`},
		{"1MB, 2 MB, x", `item 3 "x": does not start with a number`},
	}
	for _, tt := range bad {
		_, err := ParseSizes(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || evidock.ErrorCode(err) != evidock.EINVALID {
			t.Errorf("ParseSizes(%q) err = %v; want EINVALID containing %q", tt.in, err, tt.want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"200MB", "5MiB", "1.5GB", "0.000000000001TiB", "-1", "9e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n < 0 {
			t.Errorf("ParseSize(%q) = %d", s, n)
		}
	})
}
