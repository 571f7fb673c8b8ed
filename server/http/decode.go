package http

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"evidock"
)

// bodyKind describes one kind of request body, for the messages of
// decodeBody.
type bodyKind struct {
	what   string // what the body holds, e.g. "clip"
	fields string // the fields a client sets, listed when one is unknown
	max    int    // the size bound the handler puts on the body
}

// decodeBody reads exactly one JSON object from r into v, which must be a
// pointer to a struct. It returns EINVALID with a message naming the problem
// (bad JSON, an unknown or mistyped field, a body over k.max, data after the
// object), so that a station operator can act on it.
//
// Unknown fields are refused rather than ignored: a misspelt field would
// otherwise be dropped silently, and a station would believe it had sent
// what the server never kept.
func decodeBody(r io.Reader, v any, k bodyKind) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err, k)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil && isTooLarge(err) {
			return bodyError(err, k)
		}
		return evidock.Errorf(evidock.EINVALID, "request body: data after the %s object; send exactly one JSON object", k.what)
	}
	return nil
}

// parseBodyTime parses an RFC 3339 time of field name; empty means unset.
func parseBodyTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, evidock.Errorf(evidock.EINVALID,
			"request body: field %s: %q is not an RFC 3339 time like 2024-05-01T09:30:00+08:00", name, s)
	}
	return t, nil
}

func isTooLarge(err error) bool {
	var tooLarge *http.MaxBytesError
	return errors.As(err, &tooLarge)
}

// bodyError turns a decoding error into an EINVALID error that says what is
// wrong with the body in words a station operator can act on.
func bodyError(err error, k bodyKind) error {
	var (
		syntax    *json.SyntaxError
		fieldType *json.UnmarshalTypeError
	)
	switch {
	case isTooLarge(err):
		return evidock.Errorf(evidock.EINVALID, "request body is larger than %d bytes; a %s's JSON is far smaller", k.max, k.what)
	case errors.Is(err, io.EOF):
		return evidock.Errorf(evidock.EINVALID, "request body is empty: send the %s as a JSON object", k.what)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return evidock.Errorf(evidock.EINVALID, "request body is cut off: the JSON ends in the middle of the %s", k.what)
	case errors.As(err, &syntax):
		return evidock.Errorf(evidock.EINVALID, "request body is not valid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &fieldType) && fieldType.Field == "":
		return evidock.Errorf(evidock.EINVALID, "request body must be a JSON object (the %s), not a JSON %s", k.what, fieldType.Value)
	case errors.As(err, &fieldType):
		return evidock.Errorf(evidock.EINVALID, "request body: field %s must be a JSON %s, not %s", fieldType.Field, jsonKind(fieldType.Type.Kind()), fieldType.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return evidock.Errorf(evidock.EINVALID, "request body: unknown field %s; the %s fields are %s", field, k.what, k.fields)
	}
	return evidock.Errorf(evidock.EINVALID, "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Pointer:
		return "value"
	}
	return k.String()
}

// fieldNames lists the JSON names of the fields of the struct v, in order,
// leaving out those in skip (fields the server sets itself), for the
// message about an unknown field.
func fieldNames(v any, skip ...string) string {
	var names []string
	rt := reflect.TypeOf(v)
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if !slices.Contains(skip, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}
