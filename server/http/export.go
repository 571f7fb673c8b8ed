package http

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"evidock"
	"evidock/server/fixity"
	"evidock/server/translog"
)

// Export (Art. 19): a user whom export allows copies footage off the server
// for others (a disc for a court, a file for a reviewing body), as one tar
// stream that proves itself.
//
//	POST /api/v1/exports  {"case_id"|"clips","reason"} → 200 application/x-tar
//
// case_id is a case number: the clips confirmed as linked to its activities
// are exported. clips lists BLAKE3 digests instead. reason is required.
//
// The tar holds, in this order:
//
//	manifest.json                    ExportManifest: for every clip its path in the tar, BLAKE3,
//	                                 size, file name, officer, recorded and corrected times,
//	                                 links, the clip as registered, and its transparency-log
//	                                 receipt (signed checkpoint and inclusion proof)
//	README.txt                       how to check the export
//	clips/<blake3>/<file name>       each clip's original bytes, in manifest order
//
// Every clip is authorized with the export action before anything is sent:
// if any is refused, the whole export is (403, naming the clip), and the
// refusal is audited. An allowed export is audited before the first byte,
// as one event naming the clips, the reason, the user and the address (an
// export of more clips than one event's fields hold, server/audit's
// MaxFieldLen, is audited as several parts, all before the first byte).
//
// Before the first byte the server also checks that each object is in the
// store with its registered size; a missing or resized object refuses the
// export (422) and raises a fixity alarm. While streaming it hashes each
// clip, and holds back each clip's last byte until the BLAKE3 matches: if an
// object turns out altered (or vanishes, or ends early), the server raises
// the fixity alarm and aborts the response. The client then sees the
// chunked HTTP/1.1 response end without its final chunk (an unexpected
// EOF) and a tar cut off inside that clip, which CheckExport and the CLI
// reject; a trailing entry could not make a half-sent tar whole, so none is
// sent.

// MaxExportClips bounds the clips of one export, and MaxExportReasonLen the
// bytes of its reason (it is repeated in every audit event of the export).
const (
	MaxExportClips     = 1000
	MaxExportReasonLen = 800
)

// ExportFormat is the format line of an export's manifest.
const ExportFormat = "evidock export v1"

// ExportManifestName and ExportReadmeName are the first two entries of an
// export's tar.
const (
	ExportManifestName = "manifest.json"
	ExportReadmeName   = "README.txt"
)

// maxManifest bounds the manifest a reader accepts: a receipt is a few
// kilobytes, and an export holds at most MaxExportClips clips.
const maxManifest = 64 << 20

// ExportManifest is manifest.json, the first entry of an export.
type ExportManifest struct {
	Format string `json:"format"`
	// ID names the export; the audit events of the export carry it.
	ID         string    `json:"id"`
	ExportedAt time.Time `json:"exported_at"`
	ExportedBy string    `json:"exported_by"` // "user:LOGIN"
	Reason     string    `json:"reason"`
	// CaseID is the case number exported, if the export was of a case.
	CaseID string `json:"case_id,omitempty"`
	// LogOrigin names the transparency log the receipts are of. Check
	// them with that log's public key, obtained from the bureau, not from
	// the export.
	LogOrigin string         `json:"log_origin,omitempty"`
	Clips     []ExportedClip `json:"clips"`
}

// ExportedClip is one clip of an export.
type ExportedClip struct {
	// Path is the clip's name in the tar.
	Path         string         `json:"path"`
	Digest       evidock.Digest `json:"blake3"`
	Size         int64          `json:"size"`
	FileName     string         `json:"file_name"`
	OfficerNo    string         `json:"officer_no"`
	DeviceSerial string         `json:"device_serial"`
	// RecordedAt is the start by the recorder's clock; CorrectedAt is the
	// true start (RecordedAt minus ClockOffsetMS).
	RecordedAt    time.Time `json:"recorded_at"`
	CorrectedAt   time.Time `json:"corrected_started_at"`
	ClockOffsetMS int64     `json:"clock_offset_ms"`
	// Links are the clip's links to activities, as they stand.
	Links []ExportLink `json:"links"`
	// Receipt is the clip's transparency-log receipt, as a docking station
	// gets it; absent if the server keeps no log.
	Receipt *evidock.Receipt `json:"receipt,omitempty"`
	// Clip is the clip as registered: what the receipt's record must match.
	Clip *evidock.Clip `json:"clip"`
}

// ExportLink is where one link of an exported clip to an activity stands.
type ExportLink struct {
	CaseID int64 `json:"case_id"`
	// CaseNumber is set for the links to the exported case.
	CaseNumber string            `json:"case_number,omitempty"`
	ActivityID int64             `json:"activity_id"`
	State      evidock.LinkState `json:"state"`
	By         string            `json:"by,omitempty"`
	At         time.Time         `json:"at,omitzero"`
	Reason     string            `json:"reason,omitempty"`
}

// ExportRequest is what Client.Export asks for: a case or clips, and why.
type ExportRequest struct {
	CaseID string
	Clips  []evidock.Digest
	Reason string
}

type exportBody struct {
	CaseID string   `json:"case_id"`
	Clips  []string `json:"clips"`
	Reason string   `json:"reason"`
}

var exportKind = bodyKind{what: "export", fields: fieldNames(exportBody{}), max: MaxPeopleBody}

// registerExportRoutes adds the export route to mux.
func (s *Server) registerExportRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/exports", s.user(s.handleExport))
}

// exportClip is a clip being exported and what was found out about it.
type exportClip struct {
	clip  *evidock.Clip
	units []string
	entry ExportedClip
}

// handleExport answers POST /api/v1/exports; see the comment at the top.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	if s.people.Objects == nil {
		s.writeError(w, r, evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server serves no footage exports"))
		return
	}
	var b exportBody
	if err := decodeBody(http.MaxBytesReader(w, r.Body, MaxPeopleBody), &b, exportKind); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	clips, caseNumber, err := s.exportClips(ctx, b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u := userFrom(ctx)
	id, err := newExportID()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// All or nothing: every clip is decided before anything is sent.
	var via, allUnits []string
	for _, ec := range clips {
		res := evidock.Resource{Units: ec.units, Clip: ec.clip.Digest}
		_, cases, err := s.people.Scope.ClipScope(ctx, ec.clip)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res.Cases = cases
		if caseNumber != "" && !slices.Contains(res.Cases, caseNumber) {
			// Linked to the case exported: a grant for the case opens it.
			res.Cases = append(res.Cases, caseNumber)
		}
		grants, err := s.people.Access.FindGrants(ctx, u.ID, res.Clip, res.Cases)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		d := evidock.Authorize(u, evidock.ActionExport, res, grants, s.now())
		if !d.Allowed {
			ev := s.eventFor(r, evidock.AuditExport, "clip:"+ec.clip.Digest.String(), evidock.CommonUnit(ec.units))
			ev.Outcome = evidock.AuditDenied
			ev.Reason = fmt.Sprintf("export %s of %d clips refused (reason given: %s): %s", id, len(clips), b.Reason, d.Reason)
			if err := s.people.Audit.AppendAudit(ctx, ev); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.writeError(w, r, evidock.Errorf(evidock.EFORBIDDEN, "export refused: clip %s (%s): %s; nothing was exported",
				ec.clip.Digest, ec.clip.FileName, d.Reason))
			return
		}
		if !slices.Contains(via, d.Via) {
			via = append(via, d.Via)
		}
		for _, unit := range ec.units {
			if !slices.Contains(allUnits, unit) {
				allUnits = append(allUnits, unit)
			}
		}
	}
	unit := evidock.CommonUnit(allUnits)
	m := &ExportManifest{Format: ExportFormat, ID: id, ExportedAt: s.now(), ExportedBy: "user:" + u.Login,
		Reason: b.Reason, CaseID: caseNumber, Clips: []ExportedClip{}}
	for _, ec := range clips {
		if err := s.describeExported(ctx, ec, caseNumber); err != nil {
			s.writeError(w, r, err)
			return
		}
		if ec.entry.Receipt != nil && m.LogOrigin == "" {
			if rec, err := translog.ParseCheckpoint(firstNoteText(ec.entry.Receipt.Checkpoint)); err == nil {
				m.LogOrigin = rec.Origin
			}
		}
		m.Clips = append(m.Clips, ec.entry)
	}
	// Missing or resized objects are found before the first byte.
	for _, ec := range clips {
		info, err := s.people.Objects.StatObject(ctx, ec.clip.ObjectKey)
		result, detail := fixity.OK, ""
		switch {
		case evidock.ErrorCode(err) == evidock.ENOTFOUND:
			result, detail = fixity.Missing, fmt.Sprintf("object %s is not in the store (found by export %s)", ec.clip.ObjectKey, id)
		case err != nil:
			s.writeError(w, r, err)
			return
		case info.Size != ec.clip.Size:
			result, detail = fixity.Changed, fmt.Sprintf("object %s holds %d bytes, but the registry says %d (found by export %s)",
				ec.clip.ObjectKey, info.Size, ec.clip.Size, id)
		}
		if result != fixity.OK {
			s.raiseFixityAlarm(ctx, ec.clip, result, detail, 0)
			ev := s.eventFor(r, evidock.AuditExport, "clip:"+ec.clip.Digest.String(), unit)
			ev.Outcome, ev.Reason = evidock.AuditFailed, fmt.Sprintf("export %s (reason given: %s): %s", id, b.Reason, detail)
			if err := s.people.Audit.AppendAudit(ctx, ev); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.writeError(w, r, evidock.Errorf(evidock.EUNVERIFIED, "export refused: clip %s (%s): the stored original is %s: %s; a fixity alarm is raised, nothing was exported",
				ec.clip.Digest, ec.clip.FileName, result, detail))
			return
		}
	}
	for _, ev := range s.exportEvents(r, m, unit, strings.Join(via, "; ")) {
		if err := s.people.Audit.AppendAudit(ctx, ev); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		s.writeError(w, r, fmt.Errorf("export: encode manifest: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", `attachment; filename="evidock-export-`+id+`.tar"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Evidock-Export-Id", id)
	// Footage does not compress, and a compressor would hold bytes back.
	w.Header().Set(gzhttp.HeaderNoCompression, "1")
	w.WriteHeader(http.StatusOK)
	tw := tar.NewWriter(w)
	for _, f := range []struct {
		name string
		body []byte
	}{{ExportManifestName, manifest}, {ExportReadmeName, []byte(exportReadme)}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o444, Size: int64(len(f.body)), ModTime: m.ExportedAt, Typeflag: tar.TypeReg}); err != nil {
			s.logger.Warn("export cut off", "export", id, "err", err)
			return
		}
		if _, err := tw.Write(f.body); err != nil {
			s.logger.Warn("export cut off", "export", id, "err", err)
			return
		}
	}
	for _, ec := range clips {
		if err := s.streamClip(ctx, tw, ec, id); err != nil {
			var bad *badObject
			if errors.As(err, &bad) {
				s.raiseFixityAlarm(ctx, ec.clip, bad.result, bad.detail, bad.read)
			}
			s.logger.Error("export aborted: the client gets a cut-off tar", "export", id, "clip", ec.clip.Digest.String(), "err", err)
			// Without its final chunk the response ends abnormally, so
			// the client cannot take the cut-off tar for a whole one.
			panic(http.ErrAbortHandler)
		}
	}
	if err := tw.Close(); err != nil {
		s.logger.Warn("export cut off", "export", id, "err", err)
	}
}

// exportClips returns the clips b names, each with its units, and the case
// number if b names a case. It returns EINVALID for a malformed request,
// ENOTFOUND for an unknown case or clip.
func (s *Server) exportClips(ctx context.Context, b exportBody) ([]*exportClip, string, error) {
	switch {
	case strings.TrimSpace(b.Reason) == "":
		return nil, "", evidock.Errorf(evidock.EINVALID, "export: reason is required: say why the footage is copied and for whom (Art. 19)")
	case len(b.Reason) > MaxExportReasonLen:
		return nil, "", evidock.Errorf(evidock.EINVALID, "export: reason is %d bytes long, at most %d allowed", len(b.Reason), MaxExportReasonLen)
	case b.CaseID == "" && len(b.Clips) == 0:
		return nil, "", evidock.Errorf(evidock.EINVALID, "export: name the case_id (a case number) or the clips (by blake3) to export")
	case b.CaseID != "" && len(b.Clips) > 0:
		return nil, "", evidock.Errorf(evidock.EINVALID, "export: name a case_id or clips, not both: make two exports")
	case len(b.Clips) > MaxExportClips:
		return nil, "", evidock.Errorf(evidock.EINVALID, "export: %d clips named, at most %d allowed", len(b.Clips), MaxExportClips)
	}
	var digests []evidock.Digest
	if b.CaseID != "" {
		if s.cases == nil {
			return nil, "", evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server keeps no cases: export the clips by blake3")
		}
		c, err := s.cases.Cases.FindCase(ctx, b.CaseID)
		if err != nil {
			return nil, "", err
		}
		links, err := s.cases.Links.FindLinks(ctx, evidock.LinkFilter{CaseID: c.ID})
		if err != nil {
			return nil, "", err
		}
		var confirmed []*evidock.Clip
		for _, l := range links {
			if l.State == evidock.LinkConfirmed && l.Clip != nil && !slices.ContainsFunc(confirmed, func(c *evidock.Clip) bool { return c.Digest == l.Clip.Digest }) {
				confirmed = append(confirmed, l.Clip)
			}
		}
		if len(confirmed) == 0 {
			return nil, "", evidock.Errorf(evidock.EINVALID, "export: case %s has no confirmed clip: confirm its links first, or export clips by blake3", b.CaseID)
		}
		if len(confirmed) > MaxExportClips {
			return nil, "", evidock.Errorf(evidock.EINVALID, "export: case %s has %d confirmed clips, at most %d are exported at once: export them by blake3 in parts", b.CaseID, len(confirmed), MaxExportClips)
		}
		slices.SortFunc(confirmed, func(a, b *evidock.Clip) int {
			if c := a.CorrectedStartedAt.Compare(b.CorrectedStartedAt); c != 0 {
				return c
			}
			return bytes.Compare(a.Digest[:], b.Digest[:])
		})
		for _, c := range confirmed {
			digests = append(digests, c.Digest)
		}
	}
	for i, v := range b.Clips {
		d, err := evidock.ParseDigest(v)
		if err != nil {
			return nil, "", evidock.Errorf(evidock.EINVALID, "request body: clips[%d]: %s", i, evidock.ErrorMessage(err))
		}
		if slices.Contains(digests, d) {
			return nil, "", evidock.Errorf(evidock.EINVALID, "export: clip %s is named twice", d)
		}
		digests = append(digests, d)
	}
	var clips []*exportClip
	for _, d := range digests {
		c, err := s.clips.FindClipByDigest(ctx, d)
		if err != nil {
			return nil, "", err
		}
		units, _, err := s.people.Scope.ClipScope(ctx, c)
		if err != nil {
			return nil, "", err
		}
		clips = append(clips, &exportClip{clip: c, units: units})
	}
	return clips, b.CaseID, nil
}

// describeExported fills ec.entry: the clip, its links and its receipt.
func (s *Server) describeExported(ctx context.Context, ec *exportClip, caseNumber string) error {
	c := ec.clip
	ec.entry = ExportedClip{Path: ExportPath(c), Digest: c.Digest, Size: c.Size, FileName: c.FileName, OfficerNo: c.OfficerNo,
		DeviceSerial: c.DeviceSerial, RecordedAt: c.StartedAt, CorrectedAt: c.CorrectedStartedAt, ClockOffsetMS: c.ClockOffsetMS,
		Links: []ExportLink{}, Clip: c}
	if s.cases != nil {
		var caseID int64
		if caseNumber != "" {
			kase, err := s.cases.Cases.FindCase(ctx, caseNumber)
			if err != nil {
				return err
			}
			caseID = kase.ID
		}
		links, err := s.cases.Links.FindLinks(ctx, evidock.LinkFilter{Digest: c.Digest})
		if err != nil {
			return err
		}
		for _, l := range links {
			a, err := s.cases.Cases.FindActivity(ctx, l.ActivityID)
			if err != nil {
				return err
			}
			el := ExportLink{CaseID: a.CaseID, ActivityID: l.ActivityID, State: l.State}
			if a.CaseID == caseID {
				el.CaseNumber = caseNumber
			}
			if l.Last != nil {
				el.By, el.At, el.Reason = l.Last.By, l.Last.At, l.Last.Reason
			}
			ec.entry.Links = append(ec.entry.Links, el)
		}
	}
	rc, err := s.receiptFor(ctx, c)
	if err != nil {
		return fmt.Errorf("export: receipt of clip %s: %w", c.Digest, err)
	}
	ec.entry.Receipt = rc
	return nil
}

// exportEvents returns the audit events of an allowed export: one naming
// every clip, or, when the clips do not fit in one event's object field,
// one per part, each naming its clips and all carrying the export's ID.
func (s *Server) exportEvents(r *http.Request, m *ExportManifest, unit, via string) []*evidock.AuditEvent {
	const perEvent = 14 // 14 × 65 bytes and the prefix stay under audit.MaxFieldLen
	var parts [][]ExportedClip
	for i := 0; i < len(m.Clips); i += perEvent {
		parts = append(parts, m.Clips[i:min(i+perEvent, len(m.Clips))])
	}
	var events []*evidock.AuditEvent
	for i, part := range parts {
		var names []string
		for _, c := range part {
			names = append(names, c.Digest.String())
		}
		object := fmt.Sprintf("export:%s clips:%s", m.ID, strings.Join(names, ","))
		ev := s.eventFor(r, evidock.AuditExport, object, unit)
		ev.Outcome = evidock.AuditAllowed
		ev.Reason = fmt.Sprintf("%s (allowed by %s; export %s of %d clips", m.Reason, via, m.ID, len(m.Clips))
		if m.CaseID != "" {
			ev.Reason += ", case " + m.CaseID
		}
		if len(parts) > 1 {
			ev.Reason += fmt.Sprintf(", part %d of %d", i+1, len(parts))
		}
		ev.Reason += ")"
		events = append(events, ev)
	}
	return events
}

// badObject is a clip's object found missing or altered while streaming.
type badObject struct {
	result fixity.Result
	detail string
	read   int64
}

func (b *badObject) Error() string { return string(b.result) + ": " + b.detail }

// streamClip writes ec's tar entry: its header and the object's bytes,
// hashed on the way. The last byte is held back until the whole object has
// hashed to the registered BLAKE3, so that an altered object never appears
// whole in the tar. It returns a *badObject for a missing, short, long or
// altered object, and the error of a read or write that failed.
func (s *Server) streamClip(ctx context.Context, tw *tar.Writer, ec *exportClip, id string) error {
	c := ec.clip
	body, err := s.people.Objects.OpenObject(ctx, c.ObjectKey)
	if evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return &badObject{result: fixity.Missing, detail: fmt.Sprintf("object %s is not in the store (found by export %s)", c.ObjectKey, id)}
	}
	if err != nil {
		return err
	}
	defer body.Close()
	if err := tw.WriteHeader(&tar.Header{Name: ExportPath(c), Mode: 0o444, Size: c.Size, ModTime: c.CorrectedStartedAt, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	h := evidock.NewHasher()
	src := io.TeeReader(body, h)
	n, err := io.CopyN(tw, src, c.Size-1)
	if err == nil {
		var last [1]byte
		var m int
		m, err = io.ReadFull(src, last[:])
		n += int64(m)
		if err == nil {
			var extra [1]byte
			if k, _ := io.ReadFull(body, extra[:]); k > 0 {
				return &badObject{result: fixity.Changed, read: n + 1,
					detail: fmt.Sprintf("object %s holds more than the %d bytes the registry says (found by export %s)", c.ObjectKey, c.Size, id)}
			}
			if got := h.Digest(); got != c.Digest {
				return &badObject{result: fixity.Changed, read: n,
					detail: fmt.Sprintf("object %s has blake3 %s, but the registry says %s (found by export %s)", c.ObjectKey, got, c.Digest, id)}
			}
			if _, err := tw.Write(last[:]); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			return nil
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &badObject{result: fixity.Changed, read: n,
			detail: fmt.Sprintf("object %s ends after %d bytes, but the registry says %d (found by export %s)", c.ObjectKey, n, c.Size, id)}
	}
	return fmt.Errorf("copy %s after %d bytes: %w", c.ObjectKey, n, err)
}

// raiseFixityAlarm records a failed check of c in the fixity history,
// which opens the alarm supervisors see, if the server has the fixity store
// (Server.SetStatus); it logs the alarm either way.
func (s *Server) raiseFixityAlarm(ctx context.Context, c *evidock.Clip, result fixity.Result, detail string, read int64) {
	s.logger.Error("ALARM: export found stored footage "+string(result), "clip", c.Digest.String(), "file", c.FileName, "detail", detail)
	if s.status == nil || s.status.Fixity == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.status.Fixity.RecordCheck(rctx, &fixity.Check{ClipID: c.ID, Result: result, Detail: detail,
		BytesRead: read, CheckedBy: "export"}); err != nil {
		s.logger.Error("export: cannot record the fixity alarm", "clip", c.Digest.String(), "err", err)
	}
}

// ExportPath returns the name of clip c in an export: clips/<blake3>/<file
// name>, the file name kept to letters, digits, '.', '_' and '-'.
func ExportPath(c *evidock.Clip) string {
	name := []byte(c.FileName)
	for i, ch := range name {
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '.' || ch == '_' || ch == '-') {
			name[i] = '_'
		}
	}
	if len(name) == 0 || strings.Trim(string(name), ".") == "" {
		name = []byte("clip")
	}
	return "clips/" + c.Digest.String() + "/" + string(name)
}

// newExportID returns a random export ID of 16 hex digits.
func newExportID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("export: id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// firstNoteText returns the text of a signed note: what precedes its blank
// line and signatures.
func firstNoteText(note string) []byte {
	text, _, _ := strings.Cut(note, "\n\n")
	return []byte(text + "\n")
}

const exportReadme = `evidock export
==============

manifest.json lists every recording in this archive: its path here, its
BLAKE3 digest and size, the recorder's file name, the officer, the recorded
and corrected start times, its links to case activities, the clip as the
case server registered it, and its transparency-log receipt (a checkpoint
signed by the case server's log key and an inclusion proof).

To check the archive with the log's public key (obtained from the bureau,
not from this archive):

    evidock verify-export --key log.pub evidock-export-ID.tar

It checks that every file hashes to its BLAKE3 and size, that every
receipt's checkpoint is signed by the key, that its inclusion proof leads to
the signed root, and that the logged record is of the same clip. Any
BLAKE3 tool (b3sum) checks a file alone against the manifest.
`

// CheckExport reads an export from r to its end, as POST /api/v1/exports
// sends it, and checks it: the manifest comes first and is well formed;
// every clip entry is listed in it, once, in order, with its size and
// BLAKE3; every listed clip is there; and the tar ends properly. With vkey
// (the log's public verifier key) it also checks every receipt against the
// key and the clip (translog.VerifyReceipt). It returns the manifest, or
// EUNVERIFIED naming the first problem: a cut-off or altered export fails,
// as does a read error of r.
func CheckExport(r io.Reader, vkey string) (*ExportManifest, error) {
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return nil, exportError(err, "reading the manifest")
	}
	if hdr.Name != ExportManifestName {
		return nil, evidock.Errorf(evidock.EUNVERIFIED, "export: the first entry is %q, not %s", hdr.Name, ExportManifestName)
	}
	var m ExportManifest
	dec := json.NewDecoder(io.LimitReader(tr, maxManifest))
	if err := dec.Decode(&m); err != nil {
		return nil, evidock.WrapError(evidock.EUNVERIFIED, err, "export: manifest: %v", err)
	}
	if m.Format != ExportFormat {
		return nil, evidock.Errorf(evidock.EUNVERIFIED, "export: manifest format %q is not %q", m.Format, ExportFormat)
	}
	for i, c := range m.Clips {
		if c.Clip == nil || c.Clip.Digest != c.Digest || c.Clip.Size != c.Size || c.Path != ExportPath(c.Clip) {
			return nil, evidock.Errorf(evidock.EUNVERIFIED, "export: manifest clip %d (%s) does not agree with itself", i, c.Digest)
		}
		if vkey != "" {
			if _, err := translog.VerifyReceipt(vkey, c.Receipt, c.Clip); err != nil {
				if evidock.ErrorCode(err) == evidock.EINVALID {
					return nil, err
				}
				return nil, evidock.WrapError(evidock.EUNVERIFIED, err, "export: clip %s (%s): %s", c.Digest, c.Path, evidock.ErrorMessage(err))
			}
		}
	}
	next := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, exportError(err, "after "+fmt.Sprint(next)+" clips")
		}
		if hdr.Name == ExportReadmeName {
			continue
		}
		if next >= len(m.Clips) || hdr.Name != m.Clips[next].Path {
			return nil, evidock.Errorf(evidock.EUNVERIFIED, "export: entry %q is not the next clip the manifest lists", hdr.Name)
		}
		c := m.Clips[next]
		got, n, err := evidock.DigestOf(tr)
		if err != nil {
			return nil, exportError(err, fmt.Sprintf("clip %s cut off after %d of %d bytes", c.Path, n, c.Size))
		}
		if n != c.Size || got != c.Digest {
			return nil, evidock.Errorf(evidock.EUNVERIFIED, "export: clip %s is %d bytes with blake3 %s; the manifest says %d bytes, %s", c.Path, n, got, c.Size, c.Digest)
		}
		next++
	}
	if next != len(m.Clips) {
		return nil, evidock.Errorf(evidock.EUNVERIFIED, "export: %d of the manifest's %d clips are missing, from %s on", len(m.Clips)-next, len(m.Clips), m.Clips[next].Path)
	}
	return &m, nil
}

// exportError is a failure to read an export at where.
func exportError(err error, where string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) {
		return evidock.WrapError(evidock.EUNVERIFIED, err, "export: cut off or malformed (%s): %v", where, err)
	}
	return fmt.Errorf("export: %s: %w", where, err)
}

// Export asks the server for an export of req and returns the tar stream,
// which the caller reads (checking it with CheckExport) and closes. The
// client must be logged in (Login). It returns EINVALID for a malformed
// request, EFORBIDDEN if a clip may not be exported (naming it),
// EUNVERIFIED if a clip's stored original is missing or altered, and the
// server's other errors with their codes. A read of the stream fails if
// the server aborts it part way.
func (c *Client) Export(ctx context.Context, req ExportRequest) (io.ReadCloser, error) {
	b := exportBody{CaseID: req.CaseID, Reason: req.Reason, Clips: []string{}}
	for _, d := range req.Clips {
		b.Clips = append(b.Clips, d.String())
	}
	body, err := encodeBody(b)
	if err != nil {
		return nil, err
	}
	hreq, err := c.newRequest(ctx, http.MethodPost, "/api/v1/exports", body)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Accept", "application/x-tar, application/json")
	// An export of a case may take longer than the client's backstop
	// timeout; the caller's context bounds it.
	hc := *c.HTTPClient
	hc.Timeout = 0
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, transportError(ctx, "export", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, fmt.Errorf("export: %w", responseError("POST /api/v1/exports", resp))
	}
	return resp.Body, nil
}
