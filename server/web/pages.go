package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"evidock"
	"evidock/server"
)

func (h *Handler) handleRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/cases", http.StatusSeeOther)
}

type loginData struct {
	Next, Login string
	Failed      bool
}

// safeNext returns next if it is a path on this server, else "/cases".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/cases"
	}
	return next
}

func (h *Handler) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "login", "login", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// handleLogin logs in with the API's auth.Service and sets the API's
// session cookie.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	login, password, next := r.PostFormValue("login"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	l, err := h.cfg.Auth.Login(r.Context(), login, password, clientOf(r))
	if err != nil {
		status := http.StatusUnauthorized
		switch evidock.ErrorCode(err) {
		case evidock.EUNAUTHORIZED, evidock.EINVALID:
		case evidock.ERATELIMITED:
			status = http.StatusTooManyRequests
		default:
			h.fail(w, r, nil, err)
			return
		}
		h.render(w, r, status, "login", "login", loginData{Next: next, Login: login, Failed: true})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: l.Token, Path: "/",
		Expires: l.ExpiresAt, MaxAge: int(time.Until(l.ExpiresAt).Seconds()),
		Secure: h.cfg.CookieSecure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(h.cookieName()); err == nil && c.Value != "" {
		if err := h.cfg.Auth.Logout(r.Context(), c.Value, clientOf(r)); err != nil && evidock.ErrorCode(err) != evidock.EUNAUTHORIZED {
			h.fail(w, r, nil, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: h.cfg.CookieSecure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type casesData struct {
	Cases             []*evidock.Case
	Unit, Kind, Stage string
	Kinds             []evidock.CaseKind
	Stages            []evidock.CaseStage
	Total, Shown      int
}

// handleCases lists the cases, of those the filter matches, that the
// user's view_clip roles reach.
func (h *Handler) handleCases(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Cases == nil || h.cfg.Units == nil {
		h.fail(w, r, nil, evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server keeps no cases"))
		return
	}
	q := r.URL.Query()
	d := casesData{Unit: q.Get("unit"), Kind: q.Get("kind"), Stage: q.Get("stage"), Kinds: evidock.CaseKinds(), Stages: evidock.CaseStages()}
	f := evidock.CaseFilter{UnitCode: d.Unit, Kind: evidock.CaseKind(d.Kind), Stage: evidock.CaseStage(d.Stage)}
	if err := f.Validate(); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	cases, total, err := h.cfg.Cases.FindCases(r.Context(), f)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	u, paths := userFrom(r.Context()), server.NewUnitPaths(h.cfg.Units)
	for _, c := range cases {
		p, err := paths.Path(r.Context(), c.UnitCode)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if evidock.Authorize(u, evidock.ActionViewClip, evidock.Resource{Units: []string{p}}, nil, h.now()).Allowed {
			d.Cases = append(d.Cases, c)
		}
	}
	d.Total, d.Shown = total, len(d.Cases)
	h.render(w, r, http.StatusOK, "cases", "cases", d)
}

type caseData struct {
	Detail  *evidock.CaseDetail
	CanLink bool
}

// authorizedCase returns the case of the path and its resource if the user
// may take action on it (audited as h.authorize audits); otherwise it
// answers with the error or the refusal and returns false.
func (h *Handler) authorizedCase(w http.ResponseWriter, r *http.Request, action evidock.Action) (*evidock.Case, evidock.Resource, bool) {
	c, res, err := h.caseResource(r)
	if err != nil {
		h.fail(w, r, nil, err)
		return nil, res, false
	}
	dec, err := h.authorize(r, action, res, "case:"+c.Number)
	if err != nil {
		h.fail(w, r, nil, err)
		return nil, res, false
	}
	if !dec.Allowed {
		h.fail(w, r, &dec, nil)
		return nil, res, false
	}
	return c, res, true
}

// caseResource returns the case of the path and what Authorize needs.
func (h *Handler) caseResource(r *http.Request) (*evidock.Case, evidock.Resource, error) {
	if h.cfg.Cases == nil || h.cfg.Units == nil || h.cfg.Links == nil {
		return nil, evidock.Resource{}, evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server keeps no cases")
	}
	c, err := h.cfg.Cases.FindCase(r.Context(), r.PathValue("number"))
	if err != nil {
		return nil, evidock.Resource{}, err
	}
	p, err := server.NewUnitPaths(h.cfg.Units).Path(r.Context(), c.UnitCode)
	if err != nil {
		return nil, evidock.Resource{}, err
	}
	return c, evidock.Resource{Units: []string{p}, Cases: []string{c.Number}}, nil
}

// handleCase shows a case to a user whose view_clip reaches its unit (or
// who holds a grant for it), audited as the API audits a clip view.
func (h *Handler) handleCase(w http.ResponseWriter, r *http.Request) {
	c, res, ok := h.authorizedCase(w, r, evidock.ActionViewClip)
	if !ok {
		return
	}
	ctx := r.Context()
	acts, err := h.cfg.Cases.FindActivities(ctx, c.ID)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	links, err := h.cfg.Links.FindLinks(ctx, evidock.LinkFilter{CaseID: c.ID})
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	missing, err := h.cfg.Links.MissingRecordings(ctx, c.ID)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	detail := &evidock.CaseDetail{Case: c}
	byID := map[int64]*evidock.ActivityDetail{}
	for _, a := range acts {
		a.Derive()
		ad := &evidock.ActivityDetail{Activity: a}
		detail.Activities = append(detail.Activities, ad)
		byID[a.ID] = ad
	}
	for _, l := range links {
		if ad := byID[l.ActivityID]; ad != nil {
			ad.Links = append(ad.Links, l)
		}
	}
	// Suggestions not yet in the links: what the officer confirms or rejects.
	for _, ad := range detail.Activities {
		sugg, err := h.cfg.Links.SuggestLinks(ctx, ad.ID, evidock.DefaultSuggestMargin)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		for _, s := range sugg {
			if !slices.ContainsFunc(ad.Links, func(l *evidock.ClipLink) bool { return l.Clip.Digest == s.Clip.Digest }) {
				ad.Links = append(ad.Links, s)
			}
		}
		evidock.SortLinks(ad.Links)
	}
	for _, a := range missing {
		detail.MissingRecordings = append(detail.MissingRecordings, a.ID)
	}
	u := userFrom(ctx)
	canLink := u.OfficerNo != "" && evidock.Authorize(u, evidock.ActionLinkClips, res, nil, h.now()).Allowed
	h.render(w, r, http.StatusOK, "case", "case", caseData{Detail: detail, CanLink: canLink})
}

// handleChangeLink confirms or rejects a clip's link to an activity of the
// case, as the officer the user is, if link_clips reaches the case's unit.
func (h *Handler) handleChangeLink(w http.ResponseWriter, r *http.Request) {
	c, _, ok := h.authorizedCase(w, r, evidock.ActionLinkClips)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	act, err := strconv.ParseInt(r.PostFormValue("activity"), 10, 64)
	if err != nil {
		h.fail(w, r, nil, evidock.Errorf(evidock.EINVALID, "activity %q is not an activity id", r.PostFormValue("activity")))
		return
	}
	a, err := h.cfg.Cases.FindActivity(r.Context(), act)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if a.CaseID != c.ID {
		h.fail(w, r, nil, evidock.Errorf(evidock.EINVALID, "activity %d is not of case %s", act, c.Number))
		return
	}
	d, err := evidock.ParseDigest(r.PostFormValue("clip"))
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	e := &evidock.LinkEntry{ActivityID: act, Digest: d, Action: evidock.LinkAction(r.PostFormValue("action")),
		By: userFrom(r.Context()).OfficerNo, At: h.now(), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if err := e.Validate(); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if err := h.cfg.Links.ChangeLink(r.Context(), e); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/cases/"+pathEscape(c.Number)+"?flash=linked", http.StatusSeeOther)
}

type clipData struct {
	Clip *evidock.Clip
	// VideoURL is the player's source: the video route with a playback
	// ticket, so that the playback's range requests are not audited again.
	VideoURL string
	Allowed  bool
	Reason   string
	Receipt  *evidock.Receipt
	Playback bool
	Mine     []*evidock.AccessRequest
}

// clipResource returns the clip of the path and what Authorize needs.
func (h *Handler) clipResource(r *http.Request) (*evidock.Clip, evidock.Resource, error) {
	d, err := evidock.ParseDigest(r.PathValue("blake3"))
	if err != nil {
		return nil, evidock.Resource{}, err
	}
	c, err := h.cfg.Clips.FindClipByDigest(r.Context(), d)
	if err != nil {
		return nil, evidock.Resource{}, err
	}
	units, cases, err := h.cfg.Scope.ClipScope(r.Context(), c)
	if err != nil {
		return nil, evidock.Resource{}, err
	}
	return c, evidock.Resource{Units: units, Clip: c.Digest, Cases: cases}, nil
}

// handleClip shows a clip: to a user whom view_clip allows, its metadata,
// proof and player; to others, the form to request access (Art. 19).
func (h *Handler) handleClip(w http.ResponseWriter, r *http.Request) {
	c, res, err := h.clipResource(r)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	dec, err := h.authorize(r, evidock.ActionViewClip, res, "clip:"+c.Digest.String())
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d := clipData{Clip: c, Allowed: dec.Allowed, Reason: dec.Reason, Playback: h.cfg.Objects != nil}
	status := http.StatusOK
	if !dec.Allowed {
		status = http.StatusForbidden
		mine, err := h.cfg.Access.FindAccessRequests(r.Context(), evidock.AccessRequestFilter{RequesterID: userFrom(r.Context()).ID})
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		for _, q := range mine {
			if slices.Contains(q.Clips, c.Digest) {
				d.Mine = append(d.Mine, q)
			}
		}
	} else if h.cfg.Log != nil {
		if rc, err := h.cfg.Log.LogReceipt(r.Context(), c.Digest); err == nil {
			d.Receipt = rc
		}
	}
	if dec.Allowed && d.Playback {
		d.VideoURL = "/clips/" + c.Digest.String() + "/video"
		if h.tickets != nil {
			// The view was audited just now: the playback is that view.
			ticket, err := h.tickets.issue(r.Context(), c.Digest, userFrom(r.Context()).ID, h.now())
			if err != nil {
				h.fail(w, r, nil, err)
				return
			}
			d.VideoURL += "?t=" + ticket
		}
	}
	h.render(w, r, status, "clip", "clip", d)
}

// handleVideo streams a clip's footage, with range requests, to a user
// whom view_clip allows. With a valid playback ticket (from the clip page,
// which audited the view) a request is authorized but not audited again;
// without one it is audited as a view; a refusal is always audited. See
// PlaybackTicketTTL.
func (h *Handler) handleVideo(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Objects == nil {
		http.Error(w, "no footage store", http.StatusNotImplemented)
		return
	}
	c, res, err := h.clipResource(r)
	if err != nil {
		http.Error(w, evidock.ErrorMessage(err), http.StatusNotFound)
		return
	}
	object := "clip:" + c.Digest.String()
	var dec evidock.Decision
	if ticket := r.URL.Query().Get("t"); ticket != "" && h.tickets != nil {
		dec, err = h.authorizePlayback(r, ticket, c, res)
	} else {
		dec, err = h.authorize(r, evidock.ActionViewClip, res, object)
	}
	if err != nil {
		h.cfg.Logger.Error("web: video", "clip", c.Digest.String(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !dec.Allowed {
		http.Error(w, dec.Reason, http.StatusForbidden)
		return
	}
	body := &objectSeeker{ctx: r.Context(), objects: h.cfg.Objects, key: c.ObjectKey, size: c.Size}
	defer body.Close()
	w.Header().Set("Content-Type", contentType(c.FileName))
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", c.RegisteredAt, body)
}

// authorizePlayback decides a range request that carries a playback
// ticket: the ticket must be for this clip and user and not expired, and
// view_clip must still allow the user (with the grants valid now). Only a
// refusal is audited: the view was audited when the ticket was issued.
func (h *Handler) authorizePlayback(r *http.Request, ticket string, c *evidock.Clip, res evidock.Resource) (evidock.Decision, error) {
	ctx, u := r.Context(), userFrom(r.Context())
	var dec evidock.Decision
	if err := h.tickets.check(ctx, ticket, c.Digest, u.ID, h.now()); errors.Is(err, errBadTicket) {
		dec = evidock.Decision{Reason: err.Error()}
	} else if err != nil {
		return dec, err
	} else {
		grants, err := h.cfg.Access.FindGrants(ctx, u.ID, res.Clip, res.Cases)
		if err != nil {
			return dec, err
		}
		if dec = evidock.Authorize(u, evidock.ActionViewClip, res, grants, h.now()); dec.Allowed {
			return dec, nil
		}
	}
	e := h.event(r, string(evidock.ActionViewClip), "clip:"+c.Digest.String(), evidock.CommonUnit(res.Units))
	e.Outcome, e.Reason = evidock.AuditDenied, "playback: "+dec.Reason
	return dec, h.cfg.Audit.AppendAudit(ctx, e)
}

// contentType guesses the footage's type from its file name; recorders
// write MP4 (H.264/AAC) almost always.
func contentType(name string) string {
	switch n := strings.ToLower(name); {
	case strings.HasSuffix(n, ".mov"):
		return "video/quicktime"
	case strings.HasSuffix(n, ".wav"):
		return "audio/wav"
	case strings.HasSuffix(n, ".jpg"), strings.HasSuffix(n, ".jpeg"):
		return "image/jpeg"
	}
	return "video/mp4"
}

// handleRequestAccess files a request to view a clip beyond one's roles.
func (h *Handler) handleRequestAccess(w http.ResponseWriter, r *http.Request) {
	c, _, err := h.clipResource(r)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	hours, err := strconv.ParseFloat(r.PostFormValue("hours"), 64)
	if err != nil || hours <= 0 {
		h.fail(w, r, nil, evidock.Errorf(evidock.EINVALID, "duration %q: give the hours, e.g. 24", r.PostFormValue("hours")))
		return
	}
	req := &evidock.AccessRequest{RequesterID: userFrom(r.Context()).ID, Actions: []evidock.Action{evidock.ActionViewClip},
		Clips: []evidock.Digest{c.Digest}, Reason: strings.TrimSpace(r.PostFormValue("reason")), DurationSeconds: int64(hours * 3600)}
	if err := req.Validate(); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	units, _, err := h.cfg.Scope.ClipScope(r.Context(), c)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if len(units) == 0 {
		h.fail(w, r, nil, evidock.Errorf(evidock.EINVALID, "clip %s belongs to no unit: no department head can decide a request for it", c.Digest))
		return
	}
	req.Units = units
	ev := h.event(r, evidock.AuditRequestAccess, "", evidock.CommonUnit(units))
	ev.Outcome, ev.Reason = evidock.AuditAllowed, req.Reason
	if err := h.cfg.Access.CreateAccessRequest(r.Context(), req, ev); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/clips/"+c.Digest.String()+"?flash=requested", http.StatusSeeOther)
}

type approvalsData struct {
	Pending []*evidock.AccessRequest
	Mine    []*evidock.AccessRequest
}

// handleApprovals lists the pending requests the user may decide (their
// approve_access reaches every unit of the request, and it is not their
// own), and the user's own requests.
func (h *Handler) handleApprovals(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	pending, err := h.cfg.Access.FindAccessRequests(r.Context(), evidock.AccessRequestFilter{State: evidock.AccessPending})
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	var d approvalsData
	for _, q := range pending {
		if q.RequesterID != u.ID && evidock.Authorize(u, evidock.ActionApproveAccess, evidock.Resource{Units: q.Units}, nil, h.now()).Allowed {
			d.Pending = append(d.Pending, q)
		}
	}
	if d.Mine, err = h.cfg.Access.FindAccessRequests(r.Context(), evidock.AccessRequestFilter{RequesterID: u.ID}); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	h.render(w, r, http.StatusOK, "approvals", "approvals", d)
}

// handleDecide approves or refuses a request, with a reason, as the API's
// POST /api/v1/access-requests/{id}/approve|refuse does.
func (h *Handler) handleDecide(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, nil, evidock.Errorf(evidock.EINVALID, "%q is not a request id", r.PathValue("id")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	approve, action := false, evidock.AuditRefuseAccess
	switch r.PostFormValue("decision") {
	case "approve":
		approve, action = true, evidock.AuditApproveAccess
	case "refuse":
	default:
		h.fail(w, r, nil, evidock.Errorf(evidock.EINVALID, "decision must be approve or refuse"))
		return
	}
	req, err := h.cfg.Access.FindAccessRequest(r.Context(), id)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	object := fmt.Sprintf("access_request:%d", id)
	dec := evidock.Authorize(u, evidock.ActionApproveAccess, evidock.Resource{Units: req.Units}, nil, h.now())
	if dec.Allowed && req.RequesterID == u.ID {
		dec = evidock.Decision{Reason: fmt.Sprintf("access request %d is your own: another department head must decide it", id)}
	}
	if !dec.Allowed {
		ev := h.event(r, action, object, evidock.CommonUnit(req.Units))
		ev.Outcome, ev.Reason = evidock.AuditDenied, dec.Reason
		if err := h.cfg.Audit.AppendAudit(r.Context(), ev); err != nil {
			h.fail(w, r, nil, err)
			return
		}
		h.fail(w, r, &dec, nil)
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	ev := h.event(r, action, object, evidock.CommonUnit(req.Units))
	ev.Outcome, ev.Reason = evidock.AuditAllowed, reason
	if _, err := h.cfg.Access.DecideAccessRequest(r.Context(), evidock.AccessDecision{
		RequestID: id, Approve: approve, DeciderID: u.ID, Reason: reason, At: h.now()}, ev); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/approvals?flash=decided", http.StatusSeeOther)
}

type auditData struct {
	User, Action, From, To string
	Events                 []*evidock.AuditEvent
	Searched               bool
}

// handleAudit searches the audit log within the user's read_audit scope.
func (h *Handler) handleAudit(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	scopes := []string{}
	for unit := range u.Scopes(evidock.ActionReadAudit) {
		scopes = append(scopes, unit)
	}
	slices.Sort(scopes)
	ev := h.event(r, evidock.AuditReadAudit, "audit", evidock.CommonUnit(scopes))
	if len(scopes) == 0 {
		dec := evidock.Authorize(u, evidock.ActionReadAudit, evidock.Resource{}, nil, h.now())
		ev.Outcome, ev.Reason = evidock.AuditDenied, dec.Reason
		if err := h.cfg.Audit.AppendAudit(r.Context(), ev); err != nil {
			h.fail(w, r, nil, err)
			return
		}
		h.fail(w, r, &dec, nil)
		return
	}
	q := r.URL.Query()
	d := auditData{User: q.Get("user"), Action: q.Get("action"), From: q.Get("from"), To: q.Get("to")}
	f := evidock.AuditFilter{Action: d.Action, Scopes: scopes, Limit: 500}
	if d.User != "" {
		f.Actor = "user:" + d.User
	}
	var err error
	if f.From, err = parseDay(d.From); err == nil {
		f.To, err = parseDay(d.To)
		if !f.To.IsZero() {
			f.To = f.To.AddDate(0, 0, 1)
		}
	}
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	ev.Outcome, ev.Reason = evidock.AuditAllowed, fmt.Sprintf("user=%s action=%s from=%s to=%s", d.User, d.Action, d.From, d.To)
	if err := h.cfg.Audit.AppendAudit(r.Context(), ev); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if d.Events, err = h.cfg.Audit.FindAuditEvents(r.Context(), f); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d.Searched = true
	h.render(w, r, http.StatusOK, "audit", "audit", d)
}

// parseDay parses a yyyy-mm-dd date in Asia/Shanghai; "" is the zero time.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, evidock.ChinaTime)
	if err != nil {
		return t, evidock.Errorf(evidock.EINVALID, "date %q: use yyyy-mm-dd", s)
	}
	return t, nil
}
