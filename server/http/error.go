package http

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"evidock"
)

// statusOf is the one table from domain error codes to HTTP status codes. The
// client reads it backwards, so each status appears once.
var statusOf = map[string]int{
	evidock.EINVALID:        http.StatusBadRequest,
	evidock.EUNAUTHORIZED:   http.StatusUnauthorized,
	evidock.EFORBIDDEN:      http.StatusForbidden,
	evidock.ERATELIMITED:    http.StatusTooManyRequests,
	evidock.ENOTFOUND:       http.StatusNotFound,
	evidock.ECONFLICT:       http.StatusConflict,
	evidock.EUNVERIFIED:     http.StatusUnprocessableEntity,
	evidock.EINTERNAL:       http.StatusInternalServerError,
	evidock.ENOTIMPLEMENTED: http.StatusNotImplemented,
	evidock.EUNAVAILABLE:    http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status for a domain error code; unknown codes are
// 500 because only a bug makes one.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// codeOf returns the domain error code for an HTTP status that came without
// an error body (from a proxy, say).
func codeOf(status int) string {
	for code, s := range statusOf {
		if s == status {
			return code
		}
	}
	switch {
	case status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		return evidock.EUNAVAILABLE
	case status >= 400 && status < 500:
		return evidock.EINVALID
	}
	return evidock.EINTERNAL
}

// errorBody is the JSON form of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers r with err as a JSON error. Internal errors are logged
// in full and shown to the client only as "internal error", because their
// text may hold paths, SQL or addresses that are nobody else's business.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := evidock.ErrorCode(err), evidock.ErrorMessage(err)
	if code == evidock.EINTERNAL && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The client went away or the server is shutting down: not a bug.
		code, msg = evidock.EUNAVAILABLE, "request cancelled"
	}
	switch code {
	case evidock.EINTERNAL:
		s.logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error: the server log has the details"
	case evidock.EUNAVAILABLE:
		s.logger.Warn("dependency unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	case evidock.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="evidock"`)
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, msg
	s.writeJSON(w, r, StatusOf(code), body)
}

// writeJSON answers r with v as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Messages quote headers like "Bearer <token>"; the API is never
	// embedded in HTML, and nosniff below keeps browsers from guessing.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.logger.Error("encode response", "method", r.Method, "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"internal error"}}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		s.logger.Debug("write response", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// maxErrorBody bounds how much of an error response the client reads.
const maxErrorBody = 64 << 10

// responseError turns a non-2xx response into an *evidock.Error carrying the
// server's code and message, or, for a body that is not ours (a proxy's error
// page), a code derived from the status.
func responseError(op string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	if err := json.Unmarshal(b, &body); err == nil && body.Error.Code != "" {
		return &evidock.Error{Code: body.Error.Code, Message: body.Error.Message}
	}
	return evidock.Errorf(codeOf(resp.StatusCode), "%s: server answered %s", op, resp.Status)
}

// transportError maps a failed round trip: a cancelled context stays a
// context error, anything else means the server cannot be reached.
func transportError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "%s: the evidock server's certificate is from a CA this machine does not trust: give its CA's certificate (the agent's server.ca_file, the CLI's --ca-file): %v", op, err)
	}
	return evidock.WrapError(evidock.EUNAVAILABLE, err, "%s: cannot reach the evidock server: %v", op, err)
}

// logLevelFor returns the level a finished request is logged at: health
// checks are frequent and dull, server errors are not.
func logLevelFor(path string, status int) slog.Level {
	switch {
	case status == http.StatusInternalServerError:
		return slog.LevelError
	case status >= 500:
		return slog.LevelWarn
	case path == "/healthz", path == "/metrics":
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
