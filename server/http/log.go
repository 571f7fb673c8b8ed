package http

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"evidock"
)

var _ evidock.LogService = (*Client)(nil)

// The transparency log's API. Every route needs a station token, like the
// other reads, for now; the answers prove themselves, so auditors need no
// more trust in the server than in any other source of bytes.
//
//	GET /api/v1/log/checkpoint                          the latest signed checkpoint (text/plain note)
//	GET /api/v1/log/key                                 the verifier key of the checkpoints (text/plain)
//	GET /api/v1/log/proof/inclusion?index=N&size=S      {"index","size","hashes"}
//	GET /api/v1/log/proof/consistency?old=A&new=B       {"old","new","hashes"}
//	GET /api/v1/log/records?start=I&count=C             {"records":[{"index","record"}]}
//	GET /api/v1/log/receipt/{blake3}                    the clip's receipt, as POST /api/v1/clips gives it

// maxNoteBody bounds a checkpoint or key the client reads; both are a few
// hundred bytes.
const maxNoteBody = 64 << 10

// inclusionProof is the JSON form of an inclusion proof.
type inclusionProof struct {
	Index  int64             `json:"index"`
	Size   int64             `json:"size"`
	Hashes []evidock.LogHash `json:"hashes"`
}

// consistencyProof is the JSON form of a consistency proof.
type consistencyProof struct {
	Old    int64             `json:"old"`
	New    int64             `json:"new"`
	Hashes []evidock.LogHash `json:"hashes"`
}

// logRecordList is the JSON form of a page of log records.
type logRecordList struct {
	Records []evidock.LogRecord `json:"records"`
}

// registration is the answer to POST /api/v1/clips: the clip as registered
// and, when the server keeps a transparency log, its receipt.
type registration struct {
	*evidock.Clip
	Receipt *evidock.Receipt `json:"receipt,omitempty"`
}

// SetLog makes the server answer the log routes from l and put a receipt
// from l in every registration response. Call it before serving. Without
// it the log routes answer 501 and registrations carry no receipt.
func (s *Server) SetLog(l evidock.LogService) { s.log = l }

// registerLogRoutes adds the log's routes to mux.
func (s *Server) registerLogRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/log/checkpoint", s.station(s.handleLogCheckpoint))
	mux.Handle("GET /api/v1/log/key", s.station(s.handleLogKey))
	mux.Handle("GET /api/v1/log/proof/inclusion", s.station(s.handleInclusionProof))
	mux.Handle("GET /api/v1/log/proof/consistency", s.station(s.handleConsistencyProof))
	mux.Handle("GET /api/v1/log/records", s.station(s.handleLogRecords))
	mux.Handle("GET /api/v1/log/receipt/{blake3}", s.station(s.handleLogReceipt))
}

// logOrError returns the server's log, or answers 501 and returns nil.
func (s *Server) logOrError(w http.ResponseWriter, r *http.Request) evidock.LogService {
	if s.log == nil {
		s.writeError(w, r, evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server keeps no transparency log"))
	}
	return s.log
}

// receiptFor returns the receipt of clip c, just registered, or nil if the
// server keeps no log.
func (s *Server) receiptFor(ctx context.Context, c *evidock.Clip) (*evidock.Receipt, error) {
	if s.log == nil {
		return nil, nil
	}
	return s.log.LogReceipt(ctx, c.Digest)
}

func (s *Server) handleLogCheckpoint(w http.ResponseWriter, r *http.Request) {
	l := s.logOrError(w, r)
	if l == nil {
		return
	}
	if err := queryParams(r.URL.Query()); err != nil {
		s.writeError(w, r, err)
		return
	}
	signed, err := l.LogCheckpoint(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeText(w, r, signed)
}

func (s *Server) handleLogKey(w http.ResponseWriter, r *http.Request) {
	l := s.logOrError(w, r)
	if l == nil {
		return
	}
	if err := queryParams(r.URL.Query()); err != nil {
		s.writeError(w, r, err)
		return
	}
	vkey, err := l.LogVerifierKey(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeText(w, r, []byte(vkey+"\n"))
}

func (s *Server) handleInclusionProof(w http.ResponseWriter, r *http.Request) {
	l := s.logOrError(w, r)
	if l == nil {
		return
	}
	index, size, err := twoInt64Params(r.URL.Query(), "index", "size")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	proof, err := l.LogInclusionProof(r.Context(), index, size)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, inclusionProof{Index: index, Size: size, Hashes: proof})
}

func (s *Server) handleConsistencyProof(w http.ResponseWriter, r *http.Request) {
	l := s.logOrError(w, r)
	if l == nil {
		return
	}
	oldSize, newSize, err := twoInt64Params(r.URL.Query(), "old", "new")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	proof, err := l.LogConsistencyProof(r.Context(), oldSize, newSize)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, consistencyProof{Old: oldSize, New: newSize, Hashes: proof})
}

func (s *Server) handleLogRecords(w http.ResponseWriter, r *http.Request) {
	l := s.logOrError(w, r)
	if l == nil {
		return
	}
	q := r.URL.Query()
	if err := queryParams(q, "start", "count"); err != nil {
		s.writeError(w, r, err)
		return
	}
	start, err := int64Param(q, "start", false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	count := int64(evidock.MaxLogRecords)
	if q.Has("count") {
		if count, err = int64Param(q, "count", true); err != nil {
			s.writeError(w, r, err)
			return
		}
		if count < 1 || count > evidock.MaxLogRecords {
			s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "query parameter count: %d must be 1 to %d", count, evidock.MaxLogRecords))
			return
		}
	}
	recs, err := l.LogRecords(r.Context(), start, int(count))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if recs == nil {
		recs = []evidock.LogRecord{}
	}
	s.writeJSON(w, r, http.StatusOK, logRecordList{Records: recs})
}

func (s *Server) handleLogReceipt(w http.ResponseWriter, r *http.Request) {
	l := s.logOrError(w, r)
	if l == nil {
		return
	}
	d, err := evidock.ParseDigest(r.PathValue("blake3"))
	if err != nil {
		s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "path /api/v1/log/receipt/{blake3}: %s", evidock.ErrorMessage(err)))
		return
	}
	receipt, err := l.LogReceipt(r.Context(), d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, receipt)
}

// writeText answers r with b as plain text.
func (s *Server) writeText(w http.ResponseWriter, r *http.Request, b []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(b); err != nil {
		s.logger.Debug("write response", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// twoInt64Params returns the required integer query parameters a and b of
// q, which may have no others; EINVALID names what is wrong.
func twoInt64Params(q url.Values, a, b string) (int64, int64, error) {
	if err := queryParams(q, a, b); err != nil {
		return 0, 0, err
	}
	x, err := int64Param(q, a, true)
	if err != nil {
		return 0, 0, err
	}
	y, err := int64Param(q, b, true)
	return x, y, err
}

// queryParams returns EINVALID naming the first parameter of q that is not
// among allowed or is given more than once.
func queryParams(q url.Values, allowed ...string) error {
	for name, vs := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			if len(allowed) == 0 {
				return evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; this request takes none", name)
			}
			return evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; use %s", name, strings.Join(allowed, " and "))
		}
		if len(vs) > 1 {
			return evidock.Errorf(evidock.EINVALID, "query parameter %s is given %d times; give it once", name, len(vs))
		}
	}
	return nil
}

// int64Param reads a whole number, 0 or more; absent is 0 unless required.
func int64Param(q url.Values, name string, required bool) (int64, error) {
	v := q.Get(name)
	if v == "" {
		if required {
			return 0, evidock.Errorf(evidock.EINVALID, "query parameter %s is required", name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, evidock.Errorf(evidock.EINVALID, "query parameter %s: %q must be a whole number, 0 or more", name, v)
	}
	return n, nil
}

// RegisterClipWithReceipt is RegisterClip that also returns the receipt the
// server sent with its answer: the clip's record in the transparency log,
// a signed checkpoint and the inclusion proof. The receipt is nil if the
// server keeps no log. The client does not check it: check it with
// translog.VerifyReceipt against the log's public key and the clip as sent
// (a copy taken before this call, which fills clip with the server's
// answer) before relying on it; VerifyReceipt refuses a nil receipt.
func (c *Client) RegisterClipWithReceipt(ctx context.Context, clip *evidock.Clip) (created bool, receipt *evidock.Receipt, err error) {
	body, err := encodeClip(clip)
	if err != nil {
		return false, nil, err
	}
	got := registration{Clip: &evidock.Clip{}}
	status, err := c.do(ctx, http.MethodPost, "/api/v1/clips", body, &got)
	if err != nil {
		return false, nil, fmt.Errorf("register clip %s: %w", clip.Digest, err)
	}
	*clip = *got.Clip
	return status == http.StatusCreated, got.Receipt, nil
}

// LogCheckpoint returns the server's latest signed checkpoint, unchecked:
// open it with translog.OpenCheckpoint. It returns ENOTIMPLEMENTED if the
// server keeps no log.
func (c *Client) LogCheckpoint(ctx context.Context) ([]byte, error) {
	b, err := c.getText(ctx, "/api/v1/log/checkpoint")
	if err != nil {
		return nil, fmt.Errorf("log checkpoint: %w", err)
	}
	return b, nil
}

// LogVerifierKey returns the verifier key the server says signs its
// checkpoints. An auditor must not take it from the server: it is for
// comparing with the key the auditor was given.
func (c *Client) LogVerifierKey(ctx context.Context) (string, error) {
	b, err := c.getText(ctx, "/api/v1/log/key")
	if err != nil {
		return "", fmt.Errorf("log key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// LogReceipt returns the receipt of the clip with digest d, or ENOTFOUND.
func (c *Client) LogReceipt(ctx context.Context, d evidock.Digest) (*evidock.Receipt, error) {
	var r evidock.Receipt
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/log/receipt/"+d.String(), nil, &r); err != nil {
		return nil, fmt.Errorf("log receipt of %s: %w", d, err)
	}
	return &r, nil
}

// LogInclusionProof returns the server's proof that record index is in the
// tree of size records, unchecked; EINVALID if the server refuses the
// numbers.
func (c *Client) LogInclusionProof(ctx context.Context, index, size int64) ([]evidock.LogHash, error) {
	var p inclusionProof
	q := url.Values{"index": {strconv.FormatInt(index, 10)}, "size": {strconv.FormatInt(size, 10)}}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/log/proof/inclusion?"+q.Encode(), nil, &p); err != nil {
		return nil, fmt.Errorf("inclusion proof of %d in %d: %w", index, size, err)
	}
	return p.Hashes, nil
}

// LogConsistencyProof returns the server's proof that the tree of size
// newSize extends the one of size oldSize, unchecked; EINVALID if the
// server refuses the numbers.
func (c *Client) LogConsistencyProof(ctx context.Context, oldSize, newSize int64) ([]evidock.LogHash, error) {
	var p consistencyProof
	q := url.Values{"old": {strconv.FormatInt(oldSize, 10)}, "new": {strconv.FormatInt(newSize, 10)}}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/log/proof/consistency?"+q.Encode(), nil, &p); err != nil {
		return nil, fmt.Errorf("consistency proof of %d in %d: %w", oldSize, newSize, err)
	}
	return p.Hashes, nil
}

// LogRecords returns up to count records from index start on; EINVALID for
// numbers the server refuses.
func (c *Client) LogRecords(ctx context.Context, start int64, count int) ([]evidock.LogRecord, error) {
	var list logRecordList
	q := url.Values{"start": {strconv.FormatInt(start, 10)}, "count": {strconv.Itoa(count)}}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/log/records?"+q.Encode(), nil, &list); err != nil {
		return nil, fmt.Errorf("log records from %d: %w", start, err)
	}
	if list.Records == nil {
		list.Records = []evidock.LogRecord{}
	}
	return list.Records, nil
}

// getText sends a GET and returns a 2xx plain-text answer; other answers
// become errors as in do.
func (c *Client) getText(ctx context.Context, path string) ([]byte, error) {
	op := "GET " + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+path, nil)
	if err != nil {
		return nil, evidock.WrapError(evidock.EINVALID, err, "%s: server URL %q is not usable: %v", op, c.baseURL, err)
	}
	req.Header.Set("Accept", "text/plain")
	req.Header.Set("User-Agent", "evidock-client")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, transportError(ctx, op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, responseError(op, resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxNoteBody))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return nil, evidock.WrapError(evidock.EUNAVAILABLE, err, "%s: reading the server's answer failed: %v", op, err)
	}
	return b, nil
}
