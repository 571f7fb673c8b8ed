package protocol

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// FieldError reports a text field that cannot be put on the wire or taken
// off it: too long, not representable in GBK, or of the wrong characters.
type FieldError struct {
	Field  string // as PROTOCOL.md names it, e.g. "officer_name"
	Value  string // what was given or received, for the message
	Reason string // what is wrong and, where there is one, the fix
}

// Error returns the field, the value and the reason.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// Is lets errors.Is(err, ErrField) match any *FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrField }

// encodeGBK returns s in GBK, or a *FieldError if s has a control character
// or a character GBK lacks (an emoji, say), or exceeds width bytes.
func encodeGBK(field, s string, width int) ([]byte, error) {
	for _, r := range s {
		if r < 0x20 || r == 0x7F || r == utf8.RuneError {
			return nil, &FieldError{field, s, "holds a control character or invalid UTF-8"}
		}
	}
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, &FieldError{field, s, "has a character that GBK cannot encode; use the nearest common character"}
	}
	if len(b) > width {
		return nil, &FieldError{field, s, fmt.Sprintf("is %d bytes in GBK, the field holds %d (a Chinese character takes 2)", len(b), width)}
	}
	return b, nil
}

// fieldBytes returns the text part of a fixed-width field: the bytes before
// the first NUL, without trailing spaces. Firmware written in C pads with
// NUL or with spaces and may leave anything after the terminating NUL.
func fieldBytes(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimRight(b, " ")
}

// decodeGBK decodes a fixed-width GBK field. It returns a *FieldError for
// bytes that are not GBK (among them a character cut in half by the field's
// end) or control characters.
func decodeGBK(field string, b []byte) (string, error) {
	b = fieldBytes(b)
	out, err := simplifiedchinese.GBK.NewDecoder().Bytes(b)
	s := string(out)
	if err != nil || strings.ContainsRune(s, utf8.RuneError) {
		return "", &FieldError{field, fmt.Sprintf("% x", b), "is not valid GBK"}
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7F {
			return "", &FieldError{field, s, "holds a control character"}
		}
	}
	return s, nil
}

// decodeASCII decodes a fixed-width field that must hold printable ASCII.
func decodeASCII(field string, b []byte) (string, error) {
	b = fieldBytes(b)
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return "", &FieldError{field, fmt.Sprintf("% x", b), "is not printable ASCII"}
		}
	}
	return string(b), nil
}

// encodeASCII returns s, checked to be printable ASCII of at most width bytes.
func encodeASCII(field, s string, width int) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7E {
			return nil, &FieldError{field, s, "must be printable ASCII"}
		}
	}
	if len(s) > width {
		return nil, &FieldError{field, s, fmt.Sprintf("is %d bytes, the field holds %d", len(s), width)}
	}
	return []byte(s), nil
}

// appendFixed appends b padded with NUL to width bytes.
func appendFixed(dst, b []byte, width int) []byte {
	dst = append(dst, b...)
	for range width - len(b) {
		dst = append(dst, 0)
	}
	return dst
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
