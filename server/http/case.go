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

// The case API: units, officers, recorder assignments, cases, their
// activities and the links of clips to activities. Every route needs a
// station token for now, except the link changes: a confirm, reject or
// unlink is an officer's statement about evidence, so it needs an officer's
// session (see handleChangeLink), and the server records that officer as
// its "by"; a station token is refused there.
//
//	POST /api/v1/units                               create a unit                      201 unit
//	GET  /api/v1/units                               the tree                           {"units":[node]}
//	GET  /api/v1/units/{code}                        one unit                           unit
//	POST /api/v1/officers                            create an officer                  201 officer
//	GET  /api/v1/officers?unit=U                     officers of U and below            {"officers":[...]}
//	GET  /api/v1/officers/{no}                       one officer                        officer
//	POST /api/v1/recorders/{serial}/assignments      issue a recorder                   201 assignment
//	GET  /api/v1/recorders/{serial}/assignments      its history                        {"assignments":[...]}
//	POST /api/v1/cases                               file a case                        201 case
//	GET  /api/v1/cases?unit=&kind=&stage=&officer=&filed_from=&filed_to=&limit=&offset=
//	                                                 latest filed first                 {"cases":[...],"total":N}
//	GET  /api/v1/cases/{number}                      the case, activities, links        evidock.CaseDetail
//	POST /api/v1/cases/{number}/dates                record Art. 20 dates               case
//	POST /api/v1/cases/{number}/activities           add an activity                    201 activity
//	GET  /api/v1/cases/{number}/missing-recordings   Art. 10(7) of the legal review     {"activities":[...]}
//	GET  /api/v1/activities/{id}                     an activity with its links         evidock.ActivityDetail
//	GET  /api/v1/activities/{id}/suggestions?margin=30m                                 {"suggestions":[...]}
//	POST /api/v1/activities/{id}/links               confirm, reject or unlink a clip   201 entry
//	                                                 {"blake3","action","reason"}, with an officer's session
//	GET  /api/v1/activities/{id}/links               where its links stand              {"links":[...]}
//	GET  /api/v1/activities/{id}/links/history       every change                       {"entries":[...]}
//	GET  /api/v1/clips/{blake3}/links                the clip's links                   {"links":[...]}
//	GET  /api/v1/clips/{blake3}/links/history        every change                       {"entries":[...]}

// MaxCaseBody bounds the body of a case, activity, unit, officer,
// assignment or link request; the largest, a case with its parties, is a
// few kilobytes.
const MaxCaseBody = 256 << 10

// CaseServices are the stores the case routes answer from; see
// Server.SetCases.
type CaseServices struct {
	Units    evidock.UnitService
	Officers evidock.OfficerService
	Cases    evidock.CaseService
	Links    evidock.LinkService
	// SuggestMargin is the margin of link suggestions when a request asks
	// for none; 0 means evidock.DefaultSuggestMargin.
	SuggestMargin time.Duration
}

// SetCases makes the server answer the case routes from c. Call it before
// serving. Without it the case routes answer 501.
func (s *Server) SetCases(c CaseServices) {
	if c.SuggestMargin == 0 {
		c.SuggestMargin = evidock.DefaultSuggestMargin
	}
	s.cases = &c
}

// registerCaseRoutes adds the case routes to mux.
func (s *Server) registerCaseRoutes(mux *http.ServeMux) {
	for pattern, h := range map[string]http.HandlerFunc{
		"POST /api/v1/units":                            s.handleCreateUnit,
		"GET /api/v1/units":                             s.handleUnitTree,
		"GET /api/v1/units/{code}":                      s.handleGetUnit,
		"POST /api/v1/officers":                         s.handleCreateOfficer,
		"GET /api/v1/officers":                          s.handleFindOfficers,
		"GET /api/v1/officers/{no}":                     s.handleGetOfficer,
		"POST /api/v1/recorders/{serial}/assignments":   s.handleAssignRecorder,
		"GET /api/v1/recorders/{serial}/assignments":    s.handleFindAssignments,
		"POST /api/v1/cases":                            s.handleCreateCase,
		"GET /api/v1/cases":                             s.handleFindCases,
		"GET /api/v1/cases/{number}":                    s.handleGetCase,
		"POST /api/v1/cases/{number}/dates":             s.handleRecordCaseDates,
		"POST /api/v1/cases/{number}/activities":        s.handleCreateActivity,
		"GET /api/v1/cases/{number}/missing-recordings": s.handleMissingRecordings,
		"GET /api/v1/activities/{id}":                   s.handleGetActivity,
		"GET /api/v1/activities/{id}/suggestions":       s.handleSuggestLinks,
		"GET /api/v1/activities/{id}/links":             s.handleActivityLinks,
		"GET /api/v1/activities/{id}/links/history":     s.handleActivityLinkHistory,
		"GET /api/v1/clips/{blake3}/links":              s.handleClipLinks,
		"GET /api/v1/clips/{blake3}/links/history":      s.handleClipLinkHistory,
	} {
		mux.Handle(pattern, s.station(s.withCases(h)))
	}
	mux.Handle("POST /api/v1/activities/{id}/links", s.stationOrUser(s.withCases(s.handleStationChangeLink), s.withCases(s.handleChangeLink)))
}

// withCases answers 501 unless SetCases was called.
func (s *Server) withCases(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cases == nil {
			s.writeError(w, r, evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server keeps no cases"))
			return
		}
		next(w, r)
	}
}

// Wire forms of listings.
type (
	unitTree struct {
		Units []*evidock.UnitNode `json:"units"`
	}
	officerList struct {
		Officers []*evidock.Officer `json:"officers"`
	}
	assignmentList struct {
		Assignments []*evidock.RecorderAssignment `json:"assignments"`
	}
	caseList struct {
		Cases []*evidock.Case `json:"cases"`
		Total int             `json:"total"`
	}
	activityList struct {
		Activities []*evidock.Activity `json:"activities"`
	}
	linkList struct {
		Links []*evidock.ClipLink `json:"links"`
	}
	suggestionList struct {
		Suggestions []*evidock.ClipLink `json:"suggestions"`
	}
	entryList struct {
		Entries []*evidock.LinkEntry `json:"entries"`
	}
)

// handleCreateUnit creates a unit and, in the same transaction, audits it
// as the station's doing: roles are scoped to units, so who added a unit,
// when and from where must be on record. The store names the unit and its
// path in the event.
func (s *Server) handleCreateUnit(w http.ResponseWriter, r *http.Request) {
	u, err := decodeUnit(http.MaxBytesReader(w, r.Body, MaxCaseBody))
	if err == nil {
		ev := s.eventFor(r, evidock.AuditCreateUnit, "", "")
		ev.Actor = "station:" + stationFrom(r.Context()).ID
		ev.Outcome, ev.Reason = evidock.AuditAllowed, "station token"
		err = s.cases.Units.CreateUnit(r.Context(), u, ev)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/units/"+url.PathEscape(u.Code))
	s.writeJSON(w, r, http.StatusCreated, u)
}

func (s *Server) handleUnitTree(w http.ResponseWriter, r *http.Request) {
	if err := noQuery(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	units, err := s.cases.Units.FindUnits(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, unitTree{Units: evidock.BuildUnitTree(units)})
}

func (s *Server) handleGetUnit(w http.ResponseWriter, r *http.Request) {
	u, err := s.cases.Units.FindUnit(r.Context(), r.PathValue("code"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, u)
}

func (s *Server) handleCreateOfficer(w http.ResponseWriter, r *http.Request) {
	o, err := decodeOfficer(http.MaxBytesReader(w, r.Body, MaxCaseBody))
	if err == nil {
		err = s.cases.Officers.CreateOfficer(r.Context(), o)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/officers/"+o.No)
	s.writeJSON(w, r, http.StatusCreated, o)
}

func (s *Server) handleFindOfficers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := checkParams(q, "unit"); err != nil {
		s.writeError(w, r, err)
		return
	}
	officers, err := s.cases.Officers.FindOfficers(r.Context(), evidock.OfficerFilter{UnitCode: q.Get("unit")})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, officerList{Officers: officers})
}

func (s *Server) handleGetOfficer(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	if !evidock.IsOfficerNo(no) {
		s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "path /api/v1/officers/{no}: %q must be a %d-digit officer number", no, evidock.OfficerNoLen))
		return
	}
	o, err := s.cases.Officers.FindOfficer(r.Context(), no)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, o)
}

func (s *Server) handleAssignRecorder(w http.ResponseWriter, r *http.Request) {
	serial, err := pathSerial(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := decodeAssignment(http.MaxBytesReader(w, r.Body, MaxCaseBody))
	if err == nil {
		a.DeviceSerial = serial
		err = s.cases.Officers.AssignRecorder(r.Context(), a)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, a)
}

func (s *Server) handleFindAssignments(w http.ResponseWriter, r *http.Request) {
	serial, err := pathSerial(r)
	if err == nil {
		err = noQuery(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	history, err := s.cases.Officers.FindRecorderAssignments(r.Context(), serial)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, assignmentList{Assignments: history})
}

func (s *Server) handleCreateCase(w http.ResponseWriter, r *http.Request) {
	c, err := decodeCase(http.MaxBytesReader(w, r.Body, MaxCaseBody))
	if err == nil {
		err = s.cases.Cases.CreateCase(r.Context(), c)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+url.PathEscape(c.Number))
	s.writeJSON(w, r, http.StatusCreated, c)
}

func (s *Server) handleFindCases(w http.ResponseWriter, r *http.Request) {
	f, err := parseCaseFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cases, total, err := s.cases.Cases.FindCases(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, caseList{Cases: cases, Total: total})
}

func (s *Server) handleGetCase(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.cases.Cases.FindCase(ctx, r.PathValue("number"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	acts, err := s.cases.Cases.FindActivities(ctx, c.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	links, err := s.cases.Links.FindLinks(ctx, evidock.LinkFilter{CaseID: c.ID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	missing, err := s.cases.Links.MissingRecordings(ctx, c.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	detail := &evidock.CaseDetail{Case: c, Activities: []*evidock.ActivityDetail{}, MissingRecordings: []int64{}}
	byID := map[int64]*evidock.ActivityDetail{}
	for _, a := range acts {
		d := &evidock.ActivityDetail{Activity: a, Links: []*evidock.ClipLink{}}
		detail.Activities = append(detail.Activities, d)
		byID[a.ID] = d
	}
	for _, l := range links {
		if d := byID[l.ActivityID]; d != nil {
			d.Links = append(d.Links, l)
		}
	}
	for _, a := range missing {
		detail.MissingRecordings = append(detail.MissingRecordings, a.ID)
	}
	s.writeJSON(w, r, http.StatusOK, detail)
}

func (s *Server) handleRecordCaseDates(w http.ResponseWriter, r *http.Request) {
	d, err := decodeCaseDates(http.MaxBytesReader(w, r.Body, MaxCaseBody))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.cases.Cases.RecordCaseDates(r.Context(), r.PathValue("number"), d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

func (s *Server) handleCreateActivity(w http.ResponseWriter, r *http.Request) {
	a, err := decodeActivity(http.MaxBytesReader(w, r.Body, MaxCaseBody))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.cases.Cases.FindCase(r.Context(), r.PathValue("number"))
	if err == nil {
		a.CaseID = c.ID
		err = s.cases.Cases.CreateActivity(r.Context(), a)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/activities/"+strconv.FormatInt(a.ID, 10))
	s.writeJSON(w, r, http.StatusCreated, a)
}

func (s *Server) handleMissingRecordings(w http.ResponseWriter, r *http.Request) {
	c, err := s.cases.Cases.FindCase(r.Context(), r.PathValue("number"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	missing, err := s.cases.Links.MissingRecordings(r.Context(), c.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, activityList{Activities: missing})
}

// pathActivity returns the {id} of an activity path, or EINVALID.
func pathActivity(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, evidock.Errorf(evidock.EINVALID, "path /api/v1/activities/{id}: %q must be an activity id, a positive whole number", v)
	}
	return id, nil
}

// pathDigest returns the {blake3} of a clip path, or EINVALID.
func pathDigest(r *http.Request) (evidock.Digest, error) {
	d, err := evidock.ParseDigest(r.PathValue("blake3"))
	if err != nil {
		return d, evidock.Errorf(evidock.EINVALID, "path /api/v1/clips/{blake3}: %s", evidock.ErrorMessage(err))
	}
	return d, nil
}

func (s *Server) handleGetActivity(w http.ResponseWriter, r *http.Request) {
	id, err := pathActivity(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.cases.Cases.FindActivity(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	links, err := s.cases.Links.FindLinks(r.Context(), evidock.LinkFilter{ActivityID: id})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, &evidock.ActivityDetail{Activity: a, Links: links})
}

func (s *Server) handleSuggestLinks(w http.ResponseWriter, r *http.Request) {
	id, err := pathActivity(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	margin, err := parseMargin(r.URL.Query(), s.cases.SuggestMargin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	links, err := s.cases.Links.SuggestLinks(r.Context(), id, margin)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, suggestionList{Suggestions: links})
}

// parseMargin reads the query of the suggestions route: at most a margin
// like 45m or 1h30m; def when absent.
func parseMargin(q url.Values, def time.Duration) (time.Duration, error) {
	if err := checkParams(q, "margin"); err != nil {
		return 0, err
	}
	v := q.Get("margin")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > evidock.MaxSuggestMargin {
		return 0, evidock.Errorf(evidock.EINVALID, "query parameter margin: %q must be a duration from 0s to %s, like 30m or 1h30m", v, evidock.MaxSuggestMargin)
	}
	return d, nil
}

// handleStationChangeLink refuses a link change sent with a station token:
// a docking station is a shared PC, not an officer, and the history must
// say which officer confirmed, rejected or unlinked a clip.
func (s *Server) handleStationChangeLink(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, evidock.Errorf(evidock.EFORBIDDEN,
		"a docking station cannot change links: confirming, rejecting or unlinking a clip is an officer's decision; "+
			"log in as the officer (POST /api/v1/login) and send the change with that session"))
}

// handleChangeLink records a confirm, reject or unlink by the officer the
// session's user is: "by" is the user's officer number, never the body's.
// The user's link_clips must reach the clip's units (audited either way).
func (s *Server) handleChangeLink(w http.ResponseWriter, r *http.Request) {
	id, err := pathActivity(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := decodeLinkChange(http.MaxBytesReader(w, r.Body, MaxCaseBody))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u := userFrom(r.Context())
	if u.OfficerNo == "" {
		s.writeError(w, r, evidock.Errorf(evidock.EFORBIDDEN,
			"user %s has no officer number: only an officer confirms, rejects or unlinks a clip", u.Login))
		return
	}
	if e.Digest.IsZero() {
		s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "link: blake3 is required: name the clip"))
		return
	}
	c, err := s.clips.FindClipByDigest(r.Context(), e.Digest)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	units, cases, err := s.people.Scope.ClipScope(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.authorize(r, evidock.ActionLinkClips, evidock.Resource{Units: units, Clip: c.Digest, Cases: cases},
		fmt.Sprintf("clip:%s activity:%d", c.Digest, id))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !d.Allowed {
		s.writeError(w, r, refusal(d))
		return
	}
	e.ActivityID, e.By = id, u.OfficerNo
	if err := s.cases.Links.ChangeLink(r.Context(), e); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, e)
}

func (s *Server) handleActivityLinks(w http.ResponseWriter, r *http.Request) {
	id, err := pathActivity(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeLinks(w, r, evidock.LinkFilter{ActivityID: id})
}

func (s *Server) handleActivityLinkHistory(w http.ResponseWriter, r *http.Request) {
	id, err := pathActivity(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeHistory(w, r, evidock.LinkFilter{ActivityID: id})
}

func (s *Server) handleClipLinks(w http.ResponseWriter, r *http.Request) {
	d, err := pathDigest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeLinks(w, r, evidock.LinkFilter{Digest: d})
}

func (s *Server) handleClipLinkHistory(w http.ResponseWriter, r *http.Request) {
	d, err := pathDigest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeHistory(w, r, evidock.LinkFilter{Digest: d})
}

func (s *Server) writeLinks(w http.ResponseWriter, r *http.Request, f evidock.LinkFilter) {
	links, err := s.cases.Links.FindLinks(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, linkList{Links: links})
}

func (s *Server) writeHistory(w http.ResponseWriter, r *http.Request, f evidock.LinkFilter) {
	entries, err := s.cases.Links.LinkHistory(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, entryList{Entries: entries})
}

// noQuery returns EINVALID if the request has a query, which its route
// does not take.
func noQuery(r *http.Request) error { return checkParams(r.URL.Query()) }

// checkParams returns EINVALID for a query parameter not among names or
// given more than once: a misspelt filter must not list everything as if
// it matched.
func checkParams(q url.Values, names ...string) error {
	for name, vs := range q {
		known := false
		for _, n := range names {
			known = known || n == name
		}
		if !known {
			if len(names) == 0 {
				return evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; this route takes none", name)
			}
			return evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; use %s", name, strings.Join(names, ", "))
		}
		if len(vs) > 1 {
			return evidock.Errorf(evidock.EINVALID, "query parameter %s is given %d times; give it once", name, len(vs))
		}
	}
	return nil
}

// caseParams are the query parameters of GET /api/v1/cases.
var caseParams = []string{"unit", "kind", "stage", "officer", "filed_from", "filed_to", "limit", "offset"}

// parseCaseFilter reads the query of GET /api/v1/cases. It returns EINVALID
// naming the parameter for an unknown, repeated or malformed one. Dates
// are China-time days (filed_to includes its day) or RFC 3339 times.
func parseCaseFilter(q url.Values) (evidock.CaseFilter, error) {
	var f evidock.CaseFilter
	if err := checkParams(q, caseParams...); err != nil {
		return f, err
	}
	f.UnitCode, f.Kind, f.Stage, f.OfficerNo = q.Get("unit"), evidock.CaseKind(q.Get("kind")), evidock.CaseStage(q.Get("stage")), q.Get("officer")
	var err error
	for _, b := range []struct {
		name  string
		dst   *time.Time
		upper bool
	}{{"filed_from", &f.FiledFrom, false}, {"filed_to", &f.FiledTo, true}} {
		if v := strings.ReplaceAll(q.Get(b.name), " ", "+"); v != "" {
			if *b.dst, err = ParseTimeBound(v, b.upper); err != nil {
				return f, evidock.Errorf(evidock.EINVALID, "query parameter %s: %s", b.name, evidock.ErrorMessage(err))
			}
		}
	}
	if f.Limit, err = intParam(q, "limit", evidock.MaxCaseLimit); err != nil {
		return f, err
	}
	if f.Offset, err = intParam(q, "offset", -1); err != nil {
		return f, err
	}
	if err := f.Validate(); err != nil {
		return f, evidock.Errorf(evidock.EINVALID, "query: %s", strings.TrimPrefix(evidock.ErrorMessage(err), "case filter: "))
	}
	return f, nil
}

// encodeCaseFilter is parseCaseFilter's inverse, for the client.
func encodeCaseFilter(f evidock.CaseFilter) string {
	q := url.Values{}
	set := func(name, v string) {
		if v != "" {
			q.Set(name, v)
		}
	}
	set("unit", f.UnitCode)
	set("kind", string(f.Kind))
	set("stage", string(f.Stage))
	set("officer", f.OfficerNo)
	if !f.FiledFrom.IsZero() {
		set("filed_from", f.FiledFrom.Format(time.RFC3339Nano))
	}
	if !f.FiledTo.IsZero() {
		set("filed_to", f.FiledTo.Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		set("offset", strconv.Itoa(f.Offset))
	}
	return q.Encode()
}

// Wire forms of request bodies. Strings stand in for times so that an
// error can name the field at fault; what the server sets (ids, creation
// times, derived fields) is not accepted.
type (
	unitBody struct {
		Code       string            `json:"code"`
		Name       string            `json:"name"`
		Level      evidock.UnitLevel `json:"level"`
		ParentCode string            `json:"parent_code"`
	}
	officerBody struct {
		No            string `json:"officer_no"`
		CertificateNo string `json:"certificate_no"`
		Name          string `json:"name"`
		UnitCode      string `json:"unit_code"`
	}
	assignmentBody struct {
		OfficerNo  string `json:"officer_no"` // "" returns the recorder to the store
		From       string `json:"from"`
		AssignedBy string `json:"assigned_by"`
		Reason     string `json:"reason"`
	}
	partyBody struct {
		Role evidock.PartyRole `json:"role"`
		Name string            `json:"name"`
	}
	datesBody struct {
		FiledAt    string `json:"filed_at"`
		DecidedAt  string `json:"decided_at"`
		ServedAt   string `json:"served_at"`
		ExecutedAt string `json:"executed_at"`
		ClosedAt   string `json:"closed_at"`
		ArchivedAt string `json:"archived_at"`
	}
	caseBody struct {
		Number   string           `json:"number"`
		Kind     evidock.CaseKind `json:"kind"`
		Title    string           `json:"title"`
		UnitCode string           `json:"unit_code"`
		Parties  []partyBody      `json:"parties"`
		datesBody
	}
	activityBody struct {
		Type             evidock.ActivityType  `json:"type"`
		ServiceMethod    evidock.ServiceMethod `json:"service_method"`
		Emergency        bool                  `json:"emergency"`
		Uncooperative    bool                  `json:"uncooperative"`
		RecordingOrdered bool                  `json:"recording_ordered"`
		Officers         []string              `json:"officers"`
		StartedAt        string                `json:"started_at"`
		EndedAt          string                `json:"ended_at"`
		Place            string                `json:"place"`
		Note             string                `json:"note"`
	}
	linkBody struct {
		Digest string             `json:"blake3"`
		Action evidock.LinkAction `json:"action"`
		Reason string             `json:"reason"`
		// By is refused when present: the server records who made the
		// change from the session, and silently ignoring a client's "by"
		// would hide the client's mistake.
		By *string `json:"by,omitempty"`
	}
)

var (
	unitKind       = bodyKind{what: "unit", fields: fieldNames(unitBody{}), max: MaxCaseBody}
	officerKind    = bodyKind{what: "officer", fields: fieldNames(officerBody{}), max: MaxCaseBody}
	assignmentKind = bodyKind{what: "recorder assignment", fields: fieldNames(assignmentBody{}), max: MaxCaseBody}
	caseKind       = bodyKind{what: "case", fields: "number, kind, title, unit_code, parties (role, name), " + fieldNames(datesBody{}), max: MaxCaseBody}
	datesKind      = bodyKind{what: "case dates", fields: fieldNames(datesBody{}), max: MaxCaseBody}
	activityKind   = bodyKind{what: "activity", fields: fieldNames(activityBody{}), max: MaxCaseBody}
	linkKind       = bodyKind{what: "link change", fields: fieldNames(linkBody{}, "by"), max: MaxCaseBody}
)

// decodeUnit reads one unit as JSON from r; EINVALID names what is wrong
// with the body, not with the unit, which CreateUnit checks.
func decodeUnit(r io.Reader) (*evidock.Unit, error) {
	var b unitBody
	if err := decodeBody(r, &b, unitKind); err != nil {
		return nil, err
	}
	return &evidock.Unit{Code: b.Code, Name: b.Name, Level: b.Level, ParentCode: b.ParentCode}, nil
}

// decodeOfficer reads one officer as JSON from r, as decodeUnit does.
func decodeOfficer(r io.Reader) (*evidock.Officer, error) {
	var b officerBody
	if err := decodeBody(r, &b, officerKind); err != nil {
		return nil, err
	}
	return &evidock.Officer{No: b.No, CertificateNo: b.CertificateNo, Name: b.Name, UnitCode: b.UnitCode}, nil
}

// decodeAssignment reads one recorder assignment as JSON from r, as
// decodeUnit does; the recorder comes from the path.
func decodeAssignment(r io.Reader) (*evidock.RecorderAssignment, error) {
	var b assignmentBody
	if err := decodeBody(r, &b, assignmentKind); err != nil {
		return nil, err
	}
	a := &evidock.RecorderAssignment{OfficerNo: b.OfficerNo, AssignedBy: b.AssignedBy, Reason: b.Reason}
	var err error
	if a.From, err = parseBodyTime("from", b.From); err != nil {
		return nil, err
	}
	return a, nil
}

// parseBodyDate parses a case date of field name: an RFC 3339 time or a
// date (midnight China time); empty means unset.
func parseBodyDate(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := ParseTimeBound(s, false)
	if err != nil {
		return time.Time{}, evidock.Errorf(evidock.EINVALID, "request body: field %s: %q is neither a date like 2024-05-01 nor an RFC 3339 time", name, s)
	}
	return t, nil
}

func (b *datesBody) dates() (evidock.CaseDates, error) {
	var d evidock.CaseDates
	for _, f := range []struct {
		name string
		src  string
		dst  *time.Time
	}{
		{"filed_at", b.FiledAt, &d.FiledAt}, {"decided_at", b.DecidedAt, &d.DecidedAt}, {"served_at", b.ServedAt, &d.ServedAt},
		{"executed_at", b.ExecutedAt, &d.ExecutedAt}, {"closed_at", b.ClosedAt, &d.ClosedAt}, {"archived_at", b.ArchivedAt, &d.ArchivedAt},
	} {
		var err error
		if *f.dst, err = parseBodyDate(f.name, f.src); err != nil {
			return d, err
		}
	}
	return d, nil
}

// decodeCase reads one case as JSON from r, as decodeUnit does.
func decodeCase(r io.Reader) (*evidock.Case, error) {
	var b caseBody
	if err := decodeBody(r, &b, caseKind); err != nil {
		return nil, err
	}
	c := &evidock.Case{Number: b.Number, Kind: b.Kind, Title: b.Title, UnitCode: b.UnitCode, Parties: []evidock.Party{}}
	for _, p := range b.Parties {
		c.Parties = append(c.Parties, evidock.Party{Role: p.Role, Name: p.Name})
	}
	var err error
	if c.CaseDates, err = b.dates(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeCaseDates reads the dates to record on a case as JSON from r.
func decodeCaseDates(r io.Reader) (evidock.CaseDates, error) {
	var b datesBody
	if err := decodeBody(r, &b, datesKind); err != nil {
		return evidock.CaseDates{}, err
	}
	d, err := b.dates()
	if err == nil && d.IsZero() {
		err = evidock.Errorf(evidock.EINVALID, "request body: set at least one of %s", datesKind.fields)
	}
	return d, err
}

// decodeActivity reads one activity as JSON from r, as decodeUnit does;
// the case comes from the path.
func decodeActivity(r io.Reader) (*evidock.Activity, error) {
	var b activityBody
	if err := decodeBody(r, &b, activityKind); err != nil {
		return nil, err
	}
	a := &evidock.Activity{Type: b.Type, ServiceMethod: b.ServiceMethod, Emergency: b.Emergency, Uncooperative: b.Uncooperative,
		RecordingOrdered: b.RecordingOrdered, Officers: append([]string{}, b.Officers...), Place: b.Place, Note: b.Note}
	var err error
	if a.StartedAt, err = parseBodyTime("started_at", b.StartedAt); err != nil {
		return nil, err
	}
	if a.EndedAt, err = parseBodyTime("ended_at", b.EndedAt); err != nil {
		return nil, err
	}
	return a, nil
}

// decodeLinkChange reads an officer's change to a link as JSON from r, as
// decodeUnit does; the activity comes from the path and the officer (By)
// from the session, so a body naming "by" is refused with EINVALID.
func decodeLinkChange(r io.Reader) (*evidock.LinkEntry, error) {
	var b linkBody
	if err := decodeBody(r, &b, linkKind); err != nil {
		return nil, err
	}
	if b.By != nil {
		return nil, evidock.Errorf(evidock.EINVALID,
			"request body: field by is not accepted: the server records who made the change, the officer whose session sends it; leave by out")
	}
	e := &evidock.LinkEntry{Action: b.Action, Reason: b.Reason}
	if b.Digest != "" {
		d, err := evidock.ParseDigest(b.Digest)
		if err != nil {
			return nil, evidock.Errorf(evidock.EINVALID, "request body: field blake3: %s", evidock.ErrorMessage(err))
		}
		e.Digest = d
	}
	return e, nil
}

// bodyTime formats t for a request body; "" for the zero time.
func bodyTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func datesBodyOf(d evidock.CaseDates) datesBody {
	return datesBody{FiledAt: bodyTime(d.FiledAt), DecidedAt: bodyTime(d.DecidedAt), ServedAt: bodyTime(d.ServedAt),
		ExecutedAt: bodyTime(d.ExecutedAt), ClosedAt: bodyTime(d.ClosedAt), ArchivedAt: bodyTime(d.ArchivedAt)}
}

// encodeCase returns c as a request body.
func encodeCase(c *evidock.Case) ([]byte, error) {
	b := caseBody{Number: c.Number, Kind: c.Kind, Title: c.Title, UnitCode: c.UnitCode, Parties: []partyBody{}, datesBody: datesBodyOf(c.CaseDates)}
	for _, p := range c.Parties {
		b.Parties = append(b.Parties, partyBody{Role: p.Role, Name: p.Name})
	}
	return encodeBody(b)
}

// encodeActivity returns a as a request body.
func encodeActivity(a *evidock.Activity) ([]byte, error) {
	officers := a.Officers
	if officers == nil {
		officers = []string{}
	}
	return encodeBody(activityBody{Type: a.Type, ServiceMethod: a.ServiceMethod, Emergency: a.Emergency, Uncooperative: a.Uncooperative,
		RecordingOrdered: a.RecordingOrdered, Officers: officers, StartedAt: bodyTime(a.StartedAt), EndedAt: bodyTime(a.EndedAt),
		Place: a.Place, Note: a.Note})
}

// encodeBody returns v as JSON.
func encodeBody(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return buf.Bytes(), nil
}
