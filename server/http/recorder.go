package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"evidock"
)

// MaxRecorderBody bounds the body of a dock report. A report's JSON is well
// under a kilobyte.
const MaxRecorderBody = 64 << 10

// recorderList is the JSON form of a recorder listing.
type recorderList struct {
	Recorders []*evidock.Recorder `json:"recorders"`
}

func (s *Server) handleReportDock(w http.ResponseWriter, r *http.Request) {
	serial, err := pathSerial(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := decodeRecorder(http.MaxBytesReader(w, r.Body, MaxRecorderBody))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rec.DeviceSerial != serial {
		s.writeError(w, r, evidock.Errorf(evidock.EINVALID,
			"path /api/v1/recorders/%s names another recorder than the body's device_serial %q: put each report under its own serial", serial, rec.DeviceSerial))
		return
	}
	// The server, not the client, says which station docked it.
	rec.LastStationID = stationFrom(r.Context()).ID
	if err := s.recorders.ReportDock(r.Context(), rec); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rec)
}

func (s *Server) handleGetRecorder(w http.ResponseWriter, r *http.Request) {
	serial, err := pathSerial(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.recorders.FindRecorder(r.Context(), serial)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, rec)
}

func (s *Server) handleFindRecorders(w http.ResponseWriter, r *http.Request) {
	officer, err := parseRecorderQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	recs, err := s.recorders.FindRecorders(r.Context(), officer)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if recs == nil {
		recs = []*evidock.Recorder{} // [] rather than null for clients
	}
	s.writeJSON(w, r, http.StatusOK, recorderList{Recorders: recs})
}

// pathSerial returns the {serial} of a recorder path, upper-cased as
// recorders print it, or EINVALID if it cannot be a serial.
func pathSerial(r *http.Request) (string, error) {
	v := r.PathValue("serial")
	serial := strings.ToUpper(v)
	if !isSerial(serial) {
		return "", evidock.Errorf(evidock.EINVALID, "path /api/v1/recorders/{serial}: %q must be a %d-character recorder serial", v, evidock.DeviceSerialLen)
	}
	return serial, nil
}

// isSerial reports whether s has the form of an upper-case device serial.
func isSerial(s string) bool {
	return len(s) == evidock.DeviceSerialLen && strings.Trim(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// parseRecorderQuery reads the query of GET /api/v1/recorders: at most one
// officer, a 6-digit officer number. It returns EINVALID naming the
// parameter for an unknown, repeated or malformed one.
func parseRecorderQuery(q url.Values) (string, error) {
	for name, vs := range q {
		if name != "officer" {
			return "", evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; use officer", name)
		}
		if len(vs) > 1 {
			return "", evidock.Errorf(evidock.EINVALID, "query parameter %s is given %d times; give it once", name, len(vs))
		}
	}
	v := q.Get("officer")
	if v != "" && (len(v) != evidock.OfficerNoLen || strings.Trim(v, "0123456789") != "") {
		return "", evidock.Errorf(evidock.EINVALID, "query parameter officer: %q must be a %d-digit officer number", v, evidock.OfficerNoLen)
	}
	return v, nil
}

// recorderBody is the wire form of a dock report. A string stands in for
// the dock time so that an error can name the field, as for clips. The
// fields must be those of evidock.Recorder (a test holds them together).
type recorderBody struct {
	DeviceSerial   string `json:"device_serial"`
	Manufacturer   string `json:"manufacturer"`
	Model          string `json:"model"`
	Firmware       string `json:"firmware"`
	OfficerNo      string `json:"officer_no"`
	OfficerName    string `json:"officer_name"`
	UnitNo         string `json:"unit_no"`
	UnitName       string `json:"unit_name"`
	LastDockedAt   string `json:"last_docked_at"`
	LastStationID  string `json:"last_station_id"` // ignored: the token says which station
	BatteryPercent *int   `json:"battery_percent"` // absent or null: unknown, -1
	StorageUsed    int64  `json:"storage_used_bytes"`
	StorageTotal   int64  `json:"storage_total_bytes"`
	ClockOffsetMS  int64  `json:"clock_offset_ms"`
	DriftPerDayMS  int64  `json:"drift_per_day_ms"`
	ClockDrifted   bool   `json:"clock_drifted"`
}

// recorderKind describes a dock report body for decodeBody.
var recorderKind = bodyKind{what: "recorder", fields: fieldNames(recorderBody{}, "last_station_id"), max: MaxRecorderBody}

// decodeRecorder reads one dock report as JSON from r. It returns EINVALID
// with a message naming the problem, as decodeClip does; it does not check
// the report's content, which is ReportDock's job. A battery_percent that is
// absent is -1, unknown, rather than an empty battery.
func decodeRecorder(r io.Reader) (*evidock.Recorder, error) {
	var b recorderBody
	if err := decodeBody(r, &b, recorderKind); err != nil {
		return nil, err
	}
	rec := &evidock.Recorder{
		DeviceSerial:   b.DeviceSerial,
		Manufacturer:   b.Manufacturer,
		Model:          b.Model,
		Firmware:       b.Firmware,
		OfficerNo:      b.OfficerNo,
		OfficerName:    b.OfficerName,
		UnitNo:         b.UnitNo,
		UnitName:       b.UnitName,
		BatteryPercent: -1,
		StorageUsed:    b.StorageUsed,
		StorageTotal:   b.StorageTotal,
		ClockOffsetMS:  b.ClockOffsetMS,
		DriftPerDayMS:  b.DriftPerDayMS,
		ClockDrifted:   b.ClockDrifted,
	}
	if b.BatteryPercent != nil {
		rec.BatteryPercent = *b.BatteryPercent
	}
	var err error
	if rec.LastDockedAt, err = parseBodyTime("last_docked_at", b.LastDockedAt); err != nil {
		return nil, err
	}
	return rec, nil
}

// encodeRecorder returns r as a dock report body.
func encodeRecorder(r *evidock.Recorder) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		return nil, fmt.Errorf("encode recorder: %w", err)
	}
	return buf.Bytes(), nil
}

// noRecorders stands in for a server given no recorder store: every
// recorder route answers 501.
type noRecorders struct{}

func (noRecorders) ReportDock(context.Context, *evidock.Recorder) error {
	return errNoRecorders
}

func (noRecorders) FindRecorder(context.Context, string) (*evidock.Recorder, error) {
	return nil, errNoRecorders
}

func (noRecorders) FindRecorders(context.Context, string) ([]*evidock.Recorder, error) {
	return nil, errNoRecorders
}

var errNoRecorders = evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server keeps no recorders")
