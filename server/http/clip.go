package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"evidock"
)

// MaxClipBody bounds the body of a clip registration. A clip's JSON is under
// a kilobyte; the bound keeps a broken or hostile client from making the
// server buffer without end.
const MaxClipBody = 1 << 20

// clipList is the JSON form of a clip listing.
type clipList struct {
	Clips []*evidock.Clip `json:"clips"`
	Total int             `json:"total"`
}

func (s *Server) handleRegisterClip(w http.ResponseWriter, r *http.Request) {
	c, err := decodeClip(http.MaxBytesReader(w, r.Body, MaxClipBody))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The server, not the client, says who sent the clip and when it was
	// registered.
	c.StationID = stationFrom(r.Context()).ID
	created, err := s.clips.RegisterClip(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Without its receipt a station may not clear the recorder, so a
	// receipt that cannot be made fails the request; the station retries,
	// and the repeat returns the clip registered now, with its receipt.
	receipt, err := s.receiptFor(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/clips/"+c.Digest.String())
	}
	s.writeJSON(w, r, status, registration{Clip: c, Receipt: receipt})
}

func (s *Server) handleGetClip(w http.ResponseWriter, r *http.Request) {
	d, err := evidock.ParseDigest(r.PathValue("blake3"))
	if err != nil {
		s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "path /api/v1/clips/{blake3}: %s", evidock.ErrorMessage(err)))
		return
	}
	c, err := s.clips.FindClipByDigest(r.Context(), d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

func (s *Server) handleFindClips(w http.ResponseWriter, r *http.Request) {
	f, err := parseClipFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	clips, total, err := s.clips.FindClips(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if clips == nil {
		clips = []*evidock.Clip{} // [] rather than null for clients
	}
	s.writeJSON(w, r, http.StatusOK, clipList{Clips: clips, Total: total})
}

// clipBody is the wire form of a registration. Strings stand in for the
// digest and times so that an error can name the field at fault, which
// encoding/json does not do for values that decode themselves. The fields
// must be those of evidock.Clip (a test holds them together).
type clipBody struct {
	ID                 json.RawMessage   `json:"id"` // ignored: the server assigns it
	Digest             string            `json:"blake3"`
	Size               int64             `json:"size"`
	ObjectKey          string            `json:"object_key"`
	FileName           string            `json:"file_name"`
	DeviceSerial       string            `json:"device_serial"`
	OfficerNo          string            `json:"officer_no"`
	StartedAt          string            `json:"started_at"`
	ClockOffsetMS      int64             `json:"clock_offset_ms"`
	CorrectedStartedAt string            `json:"corrected_started_at"` // optional: the server computes it
	Important          bool              `json:"important"`
	Seq                int               `json:"seq"`
	Kind               evidock.MediaKind `json:"kind"`
	DurationMS         int64             `json:"duration_ms"`
	StationID          string            `json:"station_id"`    // ignored: the token says which station
	IngestedAt         string            `json:"ingested_at"`   //
	RegisteredAt       json.RawMessage   `json:"registered_at"` // ignored: the server sets it
	UnitCode           json.RawMessage   `json:"unit_code"`     // ignored: the registry stamps it
}

// clipKind describes a registration body for decodeBody.
var clipKind = bodyKind{what: "clip", fields: fieldNames(clipBody{}, "id", "station_id", "registered_at", "unit_code"), max: MaxClipBody}

// decodeClip reads one clip as JSON from r. It returns EINVALID with a
// message naming the problem (bad JSON, an unknown or mistyped field, a body
// over MaxClipBody, data after the object); it does not check the clip's
// content, which is RegisterClip's job. A corrected_started_at that is
// absent, or the zero time, stays zero, for RegisterClip to compute.
func decodeClip(r io.Reader) (*evidock.Clip, error) {
	var b clipBody
	if err := decodeBody(r, &b, clipKind); err != nil {
		return nil, err
	}
	c := &evidock.Clip{
		Size:          b.Size,
		ObjectKey:     b.ObjectKey,
		FileName:      b.FileName,
		DeviceSerial:  b.DeviceSerial,
		OfficerNo:     b.OfficerNo,
		ClockOffsetMS: b.ClockOffsetMS,
		Important:     b.Important,
		Seq:           b.Seq,
		Kind:          b.Kind,
		DurationMS:    b.DurationMS,
	}
	if b.Digest != "" {
		d, err := evidock.ParseDigest(b.Digest)
		if err != nil {
			return nil, evidock.Errorf(evidock.EINVALID, "request body: field blake3: %s", evidock.ErrorMessage(err))
		}
		c.Digest = d
	}
	var err error
	if c.StartedAt, err = parseBodyTime("started_at", b.StartedAt); err != nil {
		return nil, err
	}
	if c.CorrectedStartedAt, err = parseBodyTime("corrected_started_at", b.CorrectedStartedAt); err != nil {
		return nil, err
	}
	if c.IngestedAt, err = parseBodyTime("ingested_at", b.IngestedAt); err != nil {
		return nil, err
	}
	return c, nil
}

// Query parameters of GET /api/v1/clips. from and to bound the clips'
// corrected_started_at, the time deadlines run from.
var clipParams = map[string]bool{"officer": true, "recorder": true, "from": true, "to": true, "limit": true, "offset": true}

// parseClipFilter reads the query of GET /api/v1/clips. It returns EINVALID
// naming the parameter for an unknown, repeated or malformed one; an unknown
// one is refused rather than ignored, because a misspelt filter would
// otherwise list every clip as if it matched.
func parseClipFilter(q url.Values) (evidock.ClipFilter, error) {
	var f evidock.ClipFilter
	for name, vs := range q {
		if !clipParams[name] {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; use officer, recorder, from, to, limit or offset", name)
		}
		if len(vs) > 1 {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter %s is given %d times; give it once", name, len(vs))
		}
	}
	if v := q.Get("officer"); v != "" {
		if len(v) != evidock.OfficerNoLen || strings.Trim(v, "0123456789") != "" {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter officer: %q must be a %d-digit officer number", v, evidock.OfficerNoLen)
		}
		f.OfficerNo = v
	}
	if v := q.Get("recorder"); v != "" {
		v = strings.ToUpper(v)
		if len(v) != evidock.DeviceSerialLen || strings.Trim(v, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter recorder: %q must be a %d-character recorder serial", q.Get("recorder"), evidock.DeviceSerialLen)
		}
		f.DeviceSerial = v
	}
	var err error
	// A '+' of a zone offset arrives as a space when the client did not
	// escape it; RFC 3339 times never hold spaces, so restore it.
	if v := strings.ReplaceAll(q.Get("from"), " ", "+"); v != "" {
		if f.From, err = ParseTimeBound(v, false); err != nil {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter from: %s", evidock.ErrorMessage(err))
		}
	}
	if v := strings.ReplaceAll(q.Get("to"), " ", "+"); v != "" {
		if f.To, err = ParseTimeBound(v, true); err != nil {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter to: %s", evidock.ErrorMessage(err))
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, evidock.Errorf(evidock.EINVALID, "query parameters from and to: from (%s) must be before to (%s)", q.Get("from"), q.Get("to"))
	}
	if f.Limit, err = intParam(q, "limit", evidock.DefaultClipLimit); err != nil {
		return f, err
	}
	if f.Offset, err = intParam(q, "offset", -1); err != nil {
		return f, err
	}
	return f, nil
}

// intParam reads a non-negative integer parameter no larger than max (no
// bound if max < 0); absent is 0.
func intParam(q url.Values, name string, max int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 0:
		return 0, evidock.Errorf(evidock.EINVALID, "query parameter %s: %q must be a whole number, 0 or more", name, v)
	case max >= 0 && n > max:
		return 0, evidock.Errorf(evidock.EINVALID, "query parameter %s: %d is above the maximum %d; page with offset", name, n, max)
	}
	return n, nil
}

// ParseTimeBound parses the bound of a time span as people write it: an RFC
// 3339 time, or a date YYYY-MM-DD meaning midnight China time. A date as the
// upper (exclusive) bound means the end of that day, so that "from 2024-05-01
// to 2024-05-31" covers all of May. It returns EINVALID for anything else.
func ParseTimeBound(s string, upper bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, evidock.ChinaTime)
	if err != nil {
		return time.Time{}, evidock.Errorf(evidock.EINVALID, "%q is neither a date like 2024-05-01 nor an RFC 3339 time like 2024-05-01T09:30:00+08:00", s)
	}
	if upper {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// encodeClipFilter is parseClipFilter's inverse, for the client.
func encodeClipFilter(f evidock.ClipFilter) string {
	q := url.Values{}
	if f.OfficerNo != "" {
		q.Set("officer", f.OfficerNo)
	}
	if f.DeviceSerial != "" {
		q.Set("recorder", f.DeviceSerial)
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339Nano))
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset != 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	return q.Encode()
}

// encodeClip returns c as a registration body.
func encodeClip(c *evidock.Clip) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(c); err != nil {
		return nil, fmt.Errorf("encode clip: %w", err)
	}
	return buf.Bytes(), nil
}
