package http

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"evidock"
	"evidock/server/auth"
)

// People and permissions: users log in with a password and get a session
// cookie; what they may see and do is decided by evidock.Authorize, and
// every view, download, request, decision and reading of the audit is
// appended to the audit log before it is answered.
//
//	POST /api/v1/login                         {"login","password"} → {"user","expires_at"} and the session cookie
//	POST /api/v1/logout                        ends the session, clears the cookie
//	GET  /api/v1/me                            {"user","expires_at","scopes":{action:{unit:reach}}}
//	POST /api/v1/access-requests               {"actions","clips"|"case_id","reason","duration_seconds"} → 201 the request
//	GET  /api/v1/access-requests?state=        {"requests":[...]}: one's own, and those one may decide
//	GET  /api/v1/access-requests/{id}          one request, to its requester and those who may decide it
//	POST /api/v1/access-requests/{id}/approve  {"reason"} → the decided request
//	POST /api/v1/access-requests/{id}/refuse   {"reason"} → the decided request
//	GET  /api/v1/audit?user=&action=&unit=&from=&to=&after=&limit=
//	                                           {"events":[...]} within the reader's read_audit scope
//	POST /api/v1/users                         {"login","name","officer_no","roles","password"} → 201 the user
//	POST /api/v1/users/{login}/disable         disables the user and ends their sessions
//	POST /api/v1/users/{login}/enable
//	GET  /api/v1/clips?officer=&recorder=&from=&to=&limit=&offset=
//	                                           with a session: {"clips","total"}, only the clips view_clip
//	                                           allows (by role or by a valid grant); the search is audited
//	GET  /api/v1/clips/{blake3}                with a session: the clip, if view_clip allows (audited)
//	GET  /api/v1/clips/{blake3}/content        with a session: the footage, if download_clip allows (audited)
//
// State-changing requests with a session cookie are refused (403) when a
// browser marks them cross-origin (http.CrossOriginProtection): the cookie
// is SameSite=Strict besides. Requests with a station token are not
// affected: a token is not sent by a browser on its own.

// PeopleConfig is what the people routes need; see Server.SetPeople.
type PeopleConfig struct {
	// Auth logs users in and finds the user of a session.
	Auth *auth.Service
	// Access keeps access requests and grants.
	Access evidock.AccessService
	// Audit is the audit log every decision is appended to.
	Audit evidock.AuditService
	// Scope says which units (and cases) a clip belongs to.
	Scope ClipScoper
	// Objects, if not nil, is where downloads read footage from; without
	// it GET /api/v1/clips/{blake3}/content answers 501.
	Objects evidock.ObjectReader
	// CookieSecure marks the session cookie Secure (and names it with the
	// __Host- prefix). Turn it off only for plain http on loopback, in
	// tests and demos: a browser does not send a Secure cookie over http.
	CookieSecure bool
	// TrustedOrigins are origins (scheme://host[:port]) whose browser
	// pages may make state-changing requests across origins, e.g. a UI
	// served elsewhere; normally none.
	TrustedOrigins []string
	// Now, if not nil, is the clock that grants are checked and
	// decisions and events are dated by; tests set it.
	Now func() time.Time
}

// now returns the time by the people config's clock.
func (s *Server) now() time.Time {
	if s.people != nil && s.people.Now != nil {
		return s.people.Now()
	}
	return time.Now()
}

// ClipScoper says which units a clip belongs to, and which cases it is
// linked to, for evidock.Authorize.
type ClipScoper interface {
	ClipScope(ctx context.Context, c *evidock.Clip) (units, cases []string, err error)
}

// CaseScoper is a ClipScoper that also knows the units of a case, so that
// access requests may name a case.
type CaseScoper interface {
	ClipScoper
	CaseUnits(ctx context.Context, caseID string) ([]string, error)
}

// UnitScoper is a CaseScoper that also says which units' footage a user's
// roles reach, so that users may list clips (GET /api/v1/clips).
type UnitScoper interface {
	CaseScoper
	// UnitsReaching returns the codes of the units whose path some role
	// of u reaches for action at now (by evidock.Authorize), never nil.
	UnitsReaching(ctx context.Context, u *evidock.User, action evidock.Action, now time.Time) ([]string, error)
}

// SetPeople turns on logins, sessions, access requests and the audit API,
// and lets users (as well as stations) read clips. Call it before serving;
// without it the people routes answer 501 and clips are for stations only.
// It returns an error if a trusted origin is malformed.
func (s *Server) SetPeople(p *PeopleConfig) error {
	cop := http.NewCrossOriginProtection()
	for _, o := range p.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return evidock.WrapError(evidock.EINVALID, err, "trusted origin %q: %v", o, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, evidock.Errorf(evidock.EFORBIDDEN, "cross-origin request refused: state-changing requests must come from the server's own pages"))
	}))
	s.people, s.cop = p, cop
	return nil
}

// registerPeopleRoutes adds the people routes to mux.
func (s *Server) registerPeopleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/login", s.handleLogin)
	mux.HandleFunc("POST /api/v1/logout", s.handleLogout)
	mux.Handle("GET /api/v1/me", s.user(s.handleMe))
	mux.Handle("POST /api/v1/access-requests", s.user(s.handleCreateAccessRequest))
	mux.Handle("GET /api/v1/access-requests", s.user(s.handleFindAccessRequests))
	mux.Handle("GET /api/v1/access-requests/{id}", s.user(s.handleGetAccessRequest))
	mux.Handle("POST /api/v1/access-requests/{id}/approve", s.user(s.handleDecide(true)))
	mux.Handle("POST /api/v1/access-requests/{id}/refuse", s.user(s.handleDecide(false)))
	mux.Handle("GET /api/v1/audit", s.user(s.handleAudit))
	mux.Handle("POST /api/v1/users", s.user(s.handleCreateUser))
	mux.Handle("POST /api/v1/users/{login}/disable", s.user(s.handleSetDisabled(true)))
	mux.Handle("POST /api/v1/users/{login}/enable", s.user(s.handleSetDisabled(false)))
	mux.Handle("GET /api/v1/clips/{blake3}/content", s.user(s.handleDownloadClip))
}

// SessionCookie is the name of the session cookie; with CookieSecure it
// carries the __Host- prefix, which browsers accept only on a Secure cookie
// for the whole host, so that no other site or sub-domain can plant one.
const SessionCookie = "evidock_session"

func (s *Server) cookieName() string {
	if s.people != nil && s.people.CookieSecure {
		return "__Host-" + SessionCookie
	}
	return SessionCookie
}

// userKey holds the session's *evidock.User in a request context.
type userKey struct{}

// userFrom returns the user that authenticated the request, or nil.
func userFrom(ctx context.Context) *evidock.User {
	u, _ := ctx.Value(userKey{}).(*evidock.User)
	return u
}

// clientOf says where r came from. The address is the connection's: a
// proxy's forwarding headers are not trusted.
func clientOf(r *http.Request) auth.Client {
	return auth.Client{RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent()}
}

// peopleOrError returns the people config, or answers 501 and returns nil.
func (s *Server) peopleOrError(w http.ResponseWriter, r *http.Request) *PeopleConfig {
	if s.people == nil {
		s.writeError(w, r, evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server has no user logins"))
	}
	return s.people
}

// checkOrigin refuses a state-changing request that a browser marks as
// cross-origin; it reports whether the request may go on.
func (s *Server) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	if err := s.cop.Check(r); err != nil {
		s.writeError(w, r, evidock.WrapError(evidock.EFORBIDDEN, err,
			"cross-origin request refused: state-changing requests must come from the server's own pages"))
		return false
	}
	return true
}

// sessionKey holds the request's *auth.Session in a request context.
type sessionKey struct{}

// authenticateUser returns the user of the request's session cookie, and
// the session.
func (s *Server) authenticateUser(r *http.Request) (*evidock.User, *auth.Session, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return nil, nil, evidock.Errorf(evidock.EUNAUTHORIZED, "not logged in: POST /api/v1/login first")
	}
	return s.people.Auth.Authenticate(r.Context(), c.Value)
}

// user requires a user session before calling next, and refuses
// cross-origin state-changing requests. It answers 401 without a valid
// session and 501 on a server without logins.
func (s *Server) user(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.peopleOrError(w, r) == nil || !s.checkOrigin(w, r) {
			return
		}
		u, sess, err := s.authenticateUser(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.user = u.Login
		}
		ctx := context.WithValue(context.WithValue(r.Context(), userKey{}, u), sessionKey{}, sess)
		next(w, r.WithContext(ctx))
	})
}

// stationOrUser serves a request with a station token (in the
// Authorization header) exactly as station does, and one without, on a
// server with logins, as user does: with station's handler or user's.
func (s *Server) stationOrUser(forStation, forUser http.HandlerFunc) http.Handler {
	st, u := s.station(forStation), s.user(forUser)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := bearerToken(r); ok || s.people == nil {
			st.ServeHTTP(w, r)
			return
		}
		if _, err := r.Cookie(s.cookieName()); err != nil {
			s.writeError(w, r, evidock.Errorf(evidock.EUNAUTHORIZED,
				"not logged in: log in with POST /api/v1/login, or, as a docking station, send \"Authorization: Bearer <token>\""))
			return
		}
		u.ServeHTTP(w, r)
	})
}

// audit appends e, filled in with the request's user, address and user
// agent, to the audit log.
func (s *Server) audit(r *http.Request, e *evidock.AuditEvent) error {
	if u := userFrom(r.Context()); u != nil && e.Actor == "" {
		e.Actor = "user:" + u.Login
	}
	c := clientOf(r)
	e.RemoteAddr, e.UserAgent = c.RemoteAddr, c.UserAgent
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	return s.people.Audit.AppendAudit(r.Context(), e)
}

// eventFor returns an event of the request's user doing action on object
// in unit, with the request's address, not yet appended.
func (s *Server) eventFor(r *http.Request, action, object, unit string) *evidock.AuditEvent {
	c := clientOf(r)
	e := &evidock.AuditEvent{Time: s.now(), Action: action, Object: object, Unit: unit, RemoteAddr: c.RemoteAddr, UserAgent: c.UserAgent}
	if u := userFrom(r.Context()); u != nil {
		e.Actor = "user:" + u.Login
	}
	return e
}

// authorize decides whether the request's user may do action on res (with
// their grants for res.Clip or res.Cases), appends the decision to the
// audit log as action on object, and returns it. It returns an error, and
// the action must not be done, if the grants cannot be read or the decision
// cannot be audited; a refusal is a Decision, not an error.
func (s *Server) authorize(r *http.Request, action evidock.Action, res evidock.Resource, object string) (evidock.Decision, error) {
	u := userFrom(r.Context())
	var grants []evidock.Grant
	if action.Grantable() && (!res.Clip.IsZero() || len(res.Cases) > 0) {
		var err error
		if grants, err = s.people.Access.FindGrants(r.Context(), u.ID, res.Clip, res.Cases); err != nil {
			return evidock.Decision{}, err
		}
	}
	d := evidock.Authorize(u, action, res, grants, s.now())
	e := &evidock.AuditEvent{Action: string(action), Object: object, Unit: evidock.CommonUnit(res.Units)}
	if d.Allowed {
		e.Outcome, e.Reason = evidock.AuditAllowed, d.Via
	} else {
		e.Outcome, e.Reason = evidock.AuditDenied, d.Reason
	}
	if err := s.audit(r, e); err != nil {
		return d, err
	}
	return d, nil
}

// refusal is the error for a refused decision.
func refusal(d evidock.Decision) error {
	return evidock.Errorf(evidock.EFORBIDDEN, "%s", d.Reason)
}

// MaxPeopleBody bounds the body of a login, access request, decision or
// new user.
const MaxPeopleBody = 64 << 10

type loginBody struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

var loginKind = bodyKind{what: "login", fields: fieldNames(loginBody{}), max: MaxPeopleBody}

// session is the answer to a login and to GET /api/v1/me.
type session struct {
	User      *evidock.User `json:"user"`
	ExpiresAt time.Time     `json:"expires_at"`
	// Scopes says, per action, in which units (and how far) the user's
	// roles allow it: the rule table applied to the user.
	Scopes map[evidock.Action]map[string]string `json:"scopes,omitempty"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.peopleOrError(w, r) == nil || !s.checkOrigin(w, r) {
		return
	}
	var b loginBody
	if err := decodeBody(http.MaxBytesReader(w, r.Body, MaxPeopleBody), &b, loginKind); err != nil {
		s.writeError(w, r, err)
		return
	}
	l, err := s.people.Auth.Login(r.Context(), b.Login, b.Password, clientOf(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.user = l.User.Login
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: l.Token, Path: "/",
		Expires: l.ExpiresAt, MaxAge: int(time.Until(l.ExpiresAt).Seconds()),
		Secure: s.people.CookieSecure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusOK, session{User: l.User, ExpiresAt: l.ExpiresAt})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if s.peopleOrError(w, r) == nil || !s.checkOrigin(w, r) {
		return
	}
	if c, err := r.Cookie(s.cookieName()); err == nil && c.Value != "" {
		if err := s.people.Auth.Logout(r.Context(), c.Value, clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: s.people.CookieSecure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "logged out"})
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	sess, _ := r.Context().Value(sessionKey{}).(*auth.Session)
	scopes := map[evidock.Action]map[string]string{}
	for _, a := range evidock.Actions() {
		for unit, reach := range u.Scopes(a) {
			if scopes[a] == nil {
				scopes[a] = map[string]string{}
			}
			scopes[a][unit] = reach.String()
		}
	}
	s.writeJSON(w, r, http.StatusOK, session{User: u, ExpiresAt: sess.ExpiresAt, Scopes: scopes})
}

// clipResource returns the clip with the digest of the path's {blake3} and
// what Authorize needs to know of it.
func (s *Server) clipResource(r *http.Request) (*evidock.Clip, evidock.Resource, error) {
	d, err := evidock.ParseDigest(r.PathValue("blake3"))
	if err != nil {
		return nil, evidock.Resource{}, evidock.Errorf(evidock.EINVALID, "path /api/v1/clips/{blake3}: %s", evidock.ErrorMessage(err))
	}
	c, err := s.clips.FindClipByDigest(r.Context(), d)
	if err != nil {
		return nil, evidock.Resource{}, err
	}
	units, cases, err := s.people.Scope.ClipScope(r.Context(), c)
	if err != nil {
		return nil, evidock.Resource{}, err
	}
	return c, evidock.Resource{Units: units, Clip: c.Digest, Cases: cases}, nil
}

// handleUserGetClip is GET /api/v1/clips/{blake3} for a user: a view,
// allowed by view_clip and audited whether allowed or not.
func (s *Server) handleUserGetClip(w http.ResponseWriter, r *http.Request) {
	c, res, err := s.clipResource(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.authorize(r, evidock.ActionViewClip, res, "clip:"+c.Digest.String())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !d.Allowed {
		s.writeError(w, r, refusal(d))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// handleDownloadClip streams a clip's footage to a user whom download_clip
// allows, after auditing the download.
func (s *Server) handleDownloadClip(w http.ResponseWriter, r *http.Request) {
	if s.people.Objects == nil {
		s.writeError(w, r, evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server serves no footage downloads"))
		return
	}
	c, res, err := s.clipResource(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.authorize(r, evidock.ActionDownloadClip, res, "clip:"+c.Digest.String())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !d.Allowed {
		s.writeError(w, r, refusal(d))
		return
	}
	body, err := s.people.Objects.OpenObject(r.Context(), c.ObjectKey)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(c.Size, 10))
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(c.FileName))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, body); err != nil {
		s.logger.Warn("download cut off", "clip", c.Digest.String(), "err", err)
	}
}

// handleUserFindClips is GET /api/v1/clips for a user: the clips matching
// the query (the filters stations use) that view_clip allows the user, by
// role (the clips of the officers of the units their roles reach) or by a
// grant valid now (its clips, or the clips linked to its case). The
// filtering is done by the database, in the query that pages the clips.
// The search is audited as a view of "clips?<query>", with the roles and
// grants it went by and how many clips it found.
func (s *Server) handleUserFindClips(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseClipFilter(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	us, ok := s.people.Scope.(UnitScoper)
	if !ok {
		s.writeError(w, r, evidock.Errorf(evidock.ENOTIMPLEMENTED, "listing clips for users needs the unit registry"))
		return
	}
	ctx, u, now := r.Context(), userFrom(r.Context()), s.now()
	access := &evidock.ClipAccess{}
	if !u.Disabled {
		if access.Units, err = us.UnitsReaching(ctx, u, evidock.ActionViewClip, now); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	grants, err := s.people.Access.FindValidGrants(ctx, u.ID, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var via []string
	for _, a := range u.Roles {
		if evidock.Permission(a.Role, evidock.ActionViewClip) != evidock.ReachNone {
			via = append(via, a.String())
		}
	}
	scope := evidock.CommonUnit(slices.Sorted(maps.Keys(u.Scopes(evidock.ActionViewClip))))
	for _, g := range grants {
		// As Authorize takes grants: the user's own, for view_clip, in
		// their time.
		if u.Disabled || g.UserID != u.ID || !slices.Contains(g.Actions, evidock.ActionViewClip) ||
			now.Before(g.ValidFrom) || !now.Before(g.ValidUntil) {
			continue
		}
		access.Clips = append(access.Clips, g.Clips...)
		if g.CaseID != "" && !slices.Contains(access.Cases, g.CaseID) {
			access.Cases = append(access.Cases, g.CaseID)
		}
		via = append(via, fmt.Sprintf("grant %d", g.RequestID))
	}
	f.Access = access
	clips, total, err := s.clips.FindClips(ctx, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reason := fmt.Sprintf("search: %d of %d clips", len(clips), total)
	if len(via) > 0 {
		reason += " by " + strings.Join(via, ", ")
	} else {
		reason += ": no role or grant allows view_clip"
	}
	e := &evidock.AuditEvent{Action: evidock.AuditViewClip, Object: "clips?" + q.Encode(), Unit: scope,
		Outcome: evidock.AuditAllowed, Reason: reason}
	if err := s.audit(r, e); err != nil {
		s.writeError(w, r, err)
		return
	}
	if clips == nil {
		clips = []*evidock.Clip{}
	}
	s.writeJSON(w, r, http.StatusOK, clipList{Clips: clips, Total: total})
}

// accessRequestBody is the wire form of a new access request.
type accessRequestBody struct {
	Actions         []evidock.Action `json:"actions"`
	Clips           []string         `json:"clips"`
	CaseID          string           `json:"case_id"`
	Reason          string           `json:"reason"`
	DurationSeconds int64            `json:"duration_seconds"`
}

var accessRequestKind = bodyKind{what: "access request", fields: fieldNames(accessRequestBody{}), max: MaxPeopleBody}

func (s *Server) handleCreateAccessRequest(w http.ResponseWriter, r *http.Request) {
	var b accessRequestBody
	if err := decodeBody(http.MaxBytesReader(w, r.Body, MaxPeopleBody), &b, accessRequestKind); err != nil {
		s.writeError(w, r, err)
		return
	}
	u := userFrom(r.Context())
	req := &evidock.AccessRequest{RequesterID: u.ID, Actions: b.Actions, CaseID: b.CaseID, Reason: b.Reason, DurationSeconds: b.DurationSeconds}
	for i, c := range b.Clips {
		d, err := evidock.ParseDigest(c)
		if err != nil {
			s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "request body: clips[%d]: %s", i, evidock.ErrorMessage(err)))
			return
		}
		req.Clips = append(req.Clips, d)
	}
	if err := req.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	units, err := s.requestUnits(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Units = units
	ev := s.eventFor(r, evidock.AuditRequestAccess, "", evidock.CommonUnit(units))
	ev.Outcome, ev.Reason = evidock.AuditAllowed, req.Reason
	if err := s.people.Access.CreateAccessRequest(r.Context(), req, ev); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/access-requests/%d", req.ID))
	s.writeJSON(w, r, http.StatusCreated, req)
}

// requestUnits returns the units of the clips (or the case) of req: whose
// department head decides it. It returns EINVALID for a clip in no unit,
// which no department head could decide.
func (s *Server) requestUnits(ctx context.Context, req *evidock.AccessRequest) ([]string, error) {
	var units []string
	if req.CaseID != "" {
		cs, ok := s.people.Scope.(CaseScoper)
		if !ok {
			return nil, evidock.Errorf(evidock.ENOTIMPLEMENTED, "access requests for a case need the case registry; name the clips instead")
		}
		var err error
		units, err = cs.CaseUnits(ctx, req.CaseID)
		if evidock.ErrorCode(err) == evidock.ENOTFOUND {
			return nil, evidock.Errorf(evidock.EINVALID, "access request: case_id %q is not a case: name the case by its number", req.CaseID)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, d := range req.Clips {
		c, err := s.clips.FindClipByDigest(ctx, d)
		if err != nil {
			return nil, err
		}
		us, _, err := s.people.Scope.ClipScope(ctx, c)
		if err != nil {
			return nil, err
		}
		if len(us) == 0 {
			return nil, evidock.Errorf(evidock.EINVALID,
				"clip %s belongs to no unit (its officer %s is not in the officers table), so no department head can decide a request for it: record the officer and their unit first",
				d, c.OfficerNo)
		}
		for _, u := range us {
			if !slices.Contains(units, u) {
				units = append(units, u)
			}
		}
	}
	slices.Sort(units)
	return units, nil
}

// mayDecide reports whether u's roles let them decide a request for units.
func mayDecide(u *evidock.User, req *evidock.AccessRequest, now time.Time) bool {
	return evidock.Authorize(u, evidock.ActionApproveAccess, evidock.Resource{Units: req.Units}, nil, now).Allowed
}

func (s *Server) handleFindAccessRequests(w http.ResponseWriter, r *http.Request) {
	var f evidock.AccessRequestFilter
	for name := range r.URL.Query() {
		if name != "state" {
			s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; use state", name))
			return
		}
	}
	switch st := evidock.AccessState(r.URL.Query().Get("state")); st {
	case "", evidock.AccessPending, evidock.AccessApproved, evidock.AccessRefused:
		f.State = st
	default:
		s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "query parameter state: %q is not pending, approved or refused", st))
		return
	}
	u := userFrom(r.Context())
	all, err := s.people.Access.FindAccessRequests(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reqs := []*evidock.AccessRequest{}
	for _, req := range all {
		if req.RequesterID == u.ID || mayDecide(u, req, s.now()) {
			reqs = append(reqs, req)
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string][]*evidock.AccessRequest{"requests": reqs})
}

// pathRequest returns the access request of the path's {id} if u may see it:
// its requester, and those who may decide it. Others get ENOTFOUND, as for a
// request that does not exist.
func (s *Server) pathRequest(r *http.Request, u *evidock.User) (*evidock.AccessRequest, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, evidock.Errorf(evidock.EINVALID, "path /api/v1/access-requests/{id}: %q is not a request id", r.PathValue("id"))
	}
	req, err := s.people.Access.FindAccessRequest(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if req.RequesterID != u.ID && !mayDecide(u, req, s.now()) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "access request %d does not exist", id)
	}
	return req, nil
}

func (s *Server) handleGetAccessRequest(w http.ResponseWriter, r *http.Request) {
	req, err := s.pathRequest(r, userFrom(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, req)
}

type decisionBody struct {
	Reason string `json:"reason"`
}

var decisionKind = bodyKind{what: "decision", fields: fieldNames(decisionBody{}), max: MaxPeopleBody}

// handleDecide approves or refuses a request, if the user's roles let them
// decide for every unit of it and they did not make it.
func (s *Server) handleDecide(approve bool) http.HandlerFunc {
	action := evidock.AuditRefuseAccess
	if approve {
		action = evidock.AuditApproveAccess
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var b decisionBody
		if err := decodeBody(http.MaxBytesReader(w, r.Body, MaxPeopleBody), &b, decisionKind); err != nil {
			s.writeError(w, r, err)
			return
		}
		u := userFrom(r.Context())
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "path /api/v1/access-requests/{id}: %q is not a request id", r.PathValue("id")))
			return
		}
		req, err := s.people.Access.FindAccessRequest(r.Context(), id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		object := fmt.Sprintf("access_request:%d", id)
		d, err := s.authorizeDecision(r, u, req, action, object)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !d.Allowed {
			s.writeError(w, r, refusal(d))
			return
		}
		ev := s.eventFor(r, action, object, evidock.CommonUnit(req.Units))
		ev.Outcome, ev.Reason = evidock.AuditAllowed, b.Reason
		decided, err := s.people.Access.DecideAccessRequest(r.Context(), evidock.AccessDecision{
			RequestID: id, Approve: approve, DeciderID: u.ID, Reason: b.Reason, At: s.now()}, ev)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, decided)
	}
}

// authorizeDecision decides whether u may decide req, and audits a refusal
// (an allowed decision is audited with the decision itself, in its
// transaction).
func (s *Server) authorizeDecision(r *http.Request, u *evidock.User, req *evidock.AccessRequest, action, object string) (evidock.Decision, error) {
	d := evidock.Authorize(u, evidock.ActionApproveAccess, evidock.Resource{Units: req.Units}, nil, s.now())
	if d.Allowed && req.RequesterID == u.ID {
		d = evidock.Decision{Reason: fmt.Sprintf("access request %d is your own: another department head must decide it", req.ID)}
	}
	if d.Allowed {
		return d, nil
	}
	ev := s.eventFor(r, action, object, evidock.CommonUnit(req.Units))
	ev.Outcome, ev.Reason = evidock.AuditDenied, d.Reason
	return d, s.people.Audit.AppendAudit(r.Context(), ev)
}

// auditParams are the query parameters of GET /api/v1/audit.
var auditParams = map[string]bool{"user": true, "action": true, "unit": true, "from": true, "to": true, "after": true, "limit": true}

// handleAudit answers GET /api/v1/audit with the events within the units
// whose audit the user may read: the unit asked for, if read_audit reaches
// it, or every unit it reaches. The reading is audited itself.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, unit, err := parseAuditFilter(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u := userFrom(r.Context())
	res := evidock.Resource{Units: []string{}}
	f.Scopes = []string{}
	if unit != "" {
		res.Units = []string{unit}
		f.Scopes = []string{unit}
	} else {
		// Every unit the user's read_audit reaches; a unit-reach role
		// reads its own unit only, which no role in the table has.
		for s := range u.Scopes(evidock.ActionReadAudit) {
			f.Scopes = append(f.Scopes, s)
		}
		slices.Sort(f.Scopes)
		res.Units = f.Scopes
	}
	d, err := s.authorize(r, evidock.ActionReadAudit, res, "audit?"+q.Encode())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !d.Allowed {
		s.writeError(w, r, refusal(d))
		return
	}
	events, err := s.people.Audit.FindAuditEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string][]*evidock.AuditEvent{"events": events})
}

// parseAuditFilter reads the query of GET /api/v1/audit. It returns EINVALID
// naming the parameter for an unknown, repeated or malformed one.
func parseAuditFilter(q url.Values) (evidock.AuditFilter, string, error) {
	var f evidock.AuditFilter
	for name, vs := range q {
		if !auditParams[name] {
			return f, "", evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; use user, action, unit, from, to, after or limit", name)
		}
		if len(vs) > 1 {
			return f, "", evidock.Errorf(evidock.EINVALID, "query parameter %s is given %d times; give it once", name, len(vs))
		}
	}
	if v := q.Get("user"); v != "" {
		if err := evidock.ValidateLogin(v); err != nil {
			return f, "", evidock.Errorf(evidock.EINVALID, "query parameter user: %s", evidock.ErrorMessage(err))
		}
		f.Actor = "user:" + v
	}
	f.Action = q.Get("action")
	unit := q.Get("unit")
	if unit != "" {
		if err := evidock.ValidateUnitPath(unit); err != nil {
			return f, "", evidock.Errorf(evidock.EINVALID, "query parameter unit: %s", evidock.ErrorMessage(err))
		}
	}
	var err error
	if v := strings.ReplaceAll(q.Get("from"), " ", "+"); v != "" {
		if f.From, err = ParseTimeBound(v, false); err != nil {
			return f, "", evidock.Errorf(evidock.EINVALID, "query parameter from: %s", evidock.ErrorMessage(err))
		}
	}
	if v := strings.ReplaceAll(q.Get("to"), " ", "+"); v != "" {
		if f.To, err = ParseTimeBound(v, true); err != nil {
			return f, "", evidock.Errorf(evidock.EINVALID, "query parameter to: %s", evidock.ErrorMessage(err))
		}
	}
	after, err := intParam(q, "after", -1)
	if err != nil {
		return f, "", err
	}
	f.AfterSeq = int64(after)
	if f.Limit, err = intParam(q, "limit", evidock.MaxAuditLimit); err != nil {
		return f, "", err
	}
	return f, unit, nil
}

// userBody is the wire form of a new user.
type userBody struct {
	Login     string                   `json:"login"`
	Name      string                   `json:"name"`
	OfficerNo string                   `json:"officer_no"`
	Roles     []evidock.RoleAssignment `json:"roles"`
	Password  string                   `json:"password"`
}

var userKind = bodyKind{what: "user", fields: fieldNames(userBody{}), max: MaxPeopleBody}

// handleCreateUser creates a user, if manage_users reaches every unit of the
// new user's roles.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var b userBody
	if err := decodeBody(http.MaxBytesReader(w, r.Body, MaxPeopleBody), &b, userKind); err != nil {
		s.writeError(w, r, err)
		return
	}
	nu := &evidock.User{Login: b.Login, Name: b.Name, OfficerNo: b.OfficerNo, Roles: b.Roles}
	if err := nu.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	object := "user:" + nu.Login
	d := evidock.Authorize(userFrom(r.Context()), evidock.ActionManageUsers, evidock.Resource{Units: nu.Units()}, nil, s.now())
	if !d.Allowed {
		ev := s.eventFor(r, evidock.AuditCreateUser, object, evidock.CommonUnit(nu.Units()))
		ev.Outcome, ev.Reason = evidock.AuditDenied, d.Reason
		if err := s.people.Audit.AppendAudit(r.Context(), ev); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, refusal(d))
		return
	}
	ev := s.eventFor(r, evidock.AuditCreateUser, object, evidock.CommonUnit(nu.Units()))
	ev.Outcome, ev.Reason = evidock.AuditAllowed, d.Via
	if err := s.people.Auth.CreateUser(r.Context(), nu, b.Password, ev); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, nu)
}

// handleSetDisabled disables or enables a user, if manage_users reaches
// every unit of their roles. Nobody disables themselves.
func (s *Server) handleSetDisabled(disable bool) http.HandlerFunc {
	action := evidock.AuditEnableUser
	if disable {
		action = evidock.AuditDisableUser
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 0 {
			s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "request body: send none"))
			return
		}
		u := userFrom(r.Context())
		target, err := s.people.Auth.Store().FindUserByLogin(r.Context(), r.PathValue("login"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		d := evidock.Authorize(u, evidock.ActionManageUsers, evidock.Resource{Units: target.Units()}, nil, s.now())
		if d.Allowed && target.ID == u.ID {
			d = evidock.Decision{Reason: "nobody disables or enables themselves: ask another administrator"}
		}
		ev := s.eventFor(r, action, "user:"+target.Login, evidock.CommonUnit(target.Units()))
		if !d.Allowed {
			ev.Outcome, ev.Reason = evidock.AuditDenied, d.Reason
			if err := s.people.Audit.AppendAudit(r.Context(), ev); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.writeError(w, r, refusal(d))
			return
		}
		ev.Outcome, ev.Reason = evidock.AuditAllowed, d.Via
		if err := s.people.Auth.Store().SetUserDisabled(r.Context(), target.ID, disable, ev); err != nil {
			s.writeError(w, r, err)
			return
		}
		target.Disabled = disable
		s.writeJSON(w, r, http.StatusOK, target)
	}
}
