package sim

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"evidock"
)

// sizeUnits maps the units ParseSize accepts, in lower case, to bytes.
// Decimal units are powers of 1000, as disk and card makers count; binary
// units are powers of 1024.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"kb":  1e3,
	"mb":  1e6,
	"gb":  1e9,
	"tb":  1e12,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
}

const unitList = "B, kB, MB, GB, TB, KiB, MiB, GiB or TiB"

// ParseSize parses a size such as "200MB", "5MiB", "1.5GB" or "4096": a
// decimal number and an optional unit (B, kB, MB, GB, TB = powers of 1000;
// KiB, MiB, GiB, TiB = powers of 1024; any letter case; a bare number is
// bytes). It returns an EINVALID error that names the bad part if s is not
// such a size, is negative, is not a whole number of bytes, or overflows int64.
func ParseSize(s string) (int64, error) {
	n, err := parseSize(s)
	if err != nil {
		return 0, evidock.Errorf(evidock.EINVALID, "size %q: %v", s, err)
	}
	return n, nil
}

// ParseSizes parses a comma-separated list of sizes in ParseSize's format,
// such as "200MB,20MB,5MiB,1GB"; spaces around items are ignored. It returns
// an EINVALID error that names the first bad item by position and text, or
// says that the list is empty.
func ParseSizes(list string) ([]int64, error) {
	if strings.TrimSpace(list) == "" {
		return nil, evidock.Errorf(evidock.EINVALID, "size list is empty (want e.g. 200MB,20MB,5MiB)")
	}
	items := strings.Split(list, ",")
	sizes := make([]int64, 0, len(items))
	for i, item := range items {
		n, err := parseSize(item)
		if err != nil {
			return nil, evidock.Errorf(evidock.EINVALID, "size list item %d %q: %v", i+1, strings.TrimSpace(item), err)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is empty (want a number and a unit, e.g. 200MB)")
	}
	end := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end < 0 {
		end = len(s)
	}
	num, unit := s[:end], strings.TrimSpace(s[end:])
	if num == "" {
		if s[0] == '-' {
			return 0, errors.New("is negative")
		}
		return 0, errors.New("does not start with a number (want e.g. 200MB)")
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, errors.New("unknown unit " + strconv.Quote(unit) + " (want " + unitList + ")")
	}
	whole, frac, hasDot := strings.Cut(num, ".")
	if whole == "" || strings.Contains(frac, ".") || hasDot && frac == "" || len(frac) > 12 {
		return 0, errors.New("number " + strconv.Quote(num) + " is malformed (want digits, optionally with up to 12 decimals)")
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/mult {
		return 0, errors.New("is too large")
	}
	n := w * mult
	if frac != "" {
		f, _ := strconv.ParseInt(frac, 10, 64) // cannot fail: at most 12 digits
		scale := uint64(math.Pow10(len(frac)))
		// f*mult can pass 2^64 (12 decimals of a TiB), hence 128-bit
		// arithmetic; the quotient is below mult because f < scale.
		hi, lo := bits.Mul64(uint64(f), uint64(mult))
		q, rem := bits.Div64(hi, lo, scale)
		if rem != 0 {
			return 0, errors.New("is not a whole number of bytes")
		}
		if n > math.MaxInt64-int64(q) {
			return 0, errors.New("is too large")
		}
		n += int64(q)
	}
	return n, nil
}
