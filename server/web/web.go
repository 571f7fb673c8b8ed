package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"evidock"
	"evidock/server/auth"
	evhttp "evidock/server/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every page: nothing from outside
// the server, no inline script or style, no framing.
const CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Config is what the web UI needs: the same services the API answers from.
type Config struct {
	// Auth logs users in and finds the user of a session (required).
	Auth *auth.Service
	// Access keeps access requests and grants (required).
	Access evidock.AccessService
	// Audit is the audit log every decision is appended to (required).
	Audit evidock.AuditService
	// Clips finds clips (required).
	Clips evidock.ClipService
	// Scope says which units and cases a clip belongs to (required).
	Scope evhttp.ClipScoper
	// Units, Cases and Links answer the case pages; without Cases the
	// case pages answer 501.
	Units evidock.UnitService
	Cases evidock.CaseService
	Links evidock.LinkService
	// Objects is where playback reads footage from; nil: no playback.
	Objects evidock.ObjectReader
	// Log, if not nil, gives a clip's transparency-log receipt.
	Log evidock.LogService
	// Secrets keeps the key of playback tickets (see PlaybackTicketTTL),
	// shared by every instance on the database; nil means Audit, if it is
	// a SecretStore (both registry stores are). Without one, every range
	// request of a playback is audited as a view.
	Secrets SecretStore
	// PlaybackTTL is how long a playback ticket lasts; 0 means
	// PlaybackTicketTTL.
	PlaybackTTL time.Duration
	// CookieSecure must match the API's PeopleConfig.CookieSecure, so that
	// both use the same session cookie.
	CookieSecure bool
	// TrustedOrigins are origins whose pages may post across origins.
	TrustedOrigins []string
	// Now, if not nil, is the clock grants and events are dated by.
	Now    func() time.Time
	Logger *slog.Logger
}

// Handler serves the web UI.
type Handler struct {
	cfg     Config
	tickets *tickets // nil: no playback tickets
	cop     *http.CrossOriginProtection
	pages   map[string]*template.Template
	mux     *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// New returns the web UI answering from cfg. It returns an error if a
// required service is missing, a trusted origin is malformed or a template
// does not parse.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Auth == nil || cfg.Access == nil || cfg.Audit == nil || cfg.Clips == nil || cfg.Scope == nil:
		return nil, errors.New("web: Auth, Access, Audit, Clips and Scope are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, cop: http.NewCrossOriginProtection(), pages: map[string]*template.Template{}}
	if cfg.Secrets == nil {
		cfg.Secrets, _ = cfg.Audit.(SecretStore)
	}
	if cfg.PlaybackTTL <= 0 {
		cfg.PlaybackTTL = PlaybackTicketTTL
	}
	if cfg.Secrets != nil {
		h.tickets = &tickets{store: cfg.Secrets, ttl: cfg.PlaybackTTL}
	}
	h.cfg = cfg
	for _, o := range cfg.TrustedOrigins {
		if err := h.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: trusted origin %q: %w", o, err)
		}
	}
	h.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, evidock.Errorf(evidock.EFORBIDDEN, "cross-origin request refused"))
	}))
	for _, name := range []string{"login", "cases", "case", "clip", "approvals", "audit", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	static, _ := fs.Sub(staticFS, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", h.handleRoot)
	mux.HandleFunc("GET /login", h.handleLoginPage)
	mux.HandleFunc("POST /login", h.handleLogin)
	mux.HandleFunc("POST /logout", h.handleLogout)
	mux.HandleFunc("GET /cases", h.user(h.handleCases))
	mux.HandleFunc("GET /cases/{number}", h.user(h.handleCase))
	mux.HandleFunc("POST /cases/{number}/links", h.user(h.handleChangeLink))
	mux.HandleFunc("GET /clips/{blake3}", h.user(h.handleClip))
	mux.HandleFunc("GET /clips/{blake3}/video", h.user(h.handleVideo))
	mux.HandleFunc("POST /clips/{blake3}/access", h.user(h.handleRequestAccess))
	mux.HandleFunc("GET /approvals", h.user(h.handleApprovals))
	mux.HandleFunc("POST /approvals/{id}", h.user(h.handleDecide))
	mux.HandleFunc("GET /audit", h.user(h.handleAudit))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, nil, evidock.Errorf(evidock.ENOTFOUND, "no such page"))
	})
	h.mux = mux
	return h, nil
}

// ServeHTTP answers one request of the UI, refusing cross-origin
// state-changing requests before anything else.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", CSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	h.cop.Handler(h.mux).ServeHTTP(w, r)
}

func (h *Handler) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

// cookieName is the API's session cookie, so that one login serves both.
func (h *Handler) cookieName() string {
	if h.cfg.CookieSecure {
		return "__Host-" + evhttp.SessionCookie
	}
	return evhttp.SessionCookie
}

type userKey struct{}

func userFrom(ctx context.Context) *evidock.User {
	u, _ := ctx.Value(userKey{}).(*evidock.User)
	return u
}

// user requires a session; without one it sends the browser to the login
// page (and back here after).
func (h *Handler) user(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := h.authenticate(r)
		if err != nil {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/video") {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.fail(w, r, nil, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

func (h *Handler) authenticate(r *http.Request) (*evidock.User, error) {
	c, err := r.Cookie(h.cookieName())
	if err != nil || c.Value == "" {
		return nil, evidock.Errorf(evidock.EUNAUTHORIZED, "not logged in")
	}
	u, _, err := h.cfg.Auth.Authenticate(r.Context(), c.Value)
	return u, err
}

func clientOf(r *http.Request) auth.Client {
	return auth.Client{RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent()}
}

// event returns an audit event of the request's user doing action on
// object in unit, not yet appended.
func (h *Handler) event(r *http.Request, action, object, unit string) *evidock.AuditEvent {
	c := clientOf(r)
	e := &evidock.AuditEvent{Time: h.now(), Action: action, Object: object, Unit: unit, RemoteAddr: c.RemoteAddr, UserAgent: c.UserAgent}
	if u := userFrom(r.Context()); u != nil {
		e.Actor = "user:" + u.Login
	}
	return e
}

// authorize decides, as the API does, whether the request's user may do
// action on res, and appends the decision to the audit log. A refusal is a
// Decision; an error means the action must not be done.
func (h *Handler) authorize(r *http.Request, action evidock.Action, res evidock.Resource, object string) (evidock.Decision, error) {
	u := userFrom(r.Context())
	var grants []evidock.Grant
	if action.Grantable() && (!res.Clip.IsZero() || len(res.Cases) > 0) {
		var err error
		if grants, err = h.cfg.Access.FindGrants(r.Context(), u.ID, res.Clip, res.Cases); err != nil {
			return evidock.Decision{}, err
		}
	}
	d := evidock.Authorize(u, action, res, grants, h.now())
	e := h.event(r, string(action), object, evidock.CommonUnit(res.Units))
	if d.Allowed {
		e.Outcome, e.Reason = evidock.AuditAllowed, d.Via
	} else {
		e.Outcome, e.Reason = evidock.AuditDenied, d.Reason
	}
	return d, h.cfg.Audit.AppendAudit(r.Context(), e)
}

// allows reports, without auditing, whether u's roles allow action
// anywhere: to show or hide navigation, never to decide.
func allows(u *evidock.User, action evidock.Action) bool { return len(u.Scopes(action)) > 0 }

// page is what every template gets.
type page struct {
	T     map[string]string
	Lang  string
	User  *evidock.User
	Nav   nav
	Title string
	Flash string
	// LangURL is this page in the other language.
	LangURL string
	Data    any
}

type nav struct{ Cases, Approvals, Audit bool }

// render writes the named page with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, data any) {
	lang := langOf(w, r)
	p := page{T: texts[lang], Lang: lang, User: userFrom(r.Context()), Data: data, Flash: r.URL.Query().Get("flash")}
	p.Title = p.T[titleKey]
	q := r.URL.Query()
	q.Del("flash")
	q.Set("lang", p.T["switch_lang_code"])
	p.LangURL = r.URL.Path + "?" + q.Encode()
	if r.Method != http.MethodGet {
		p.LangURL = "?lang=" + p.T["switch_lang_code"]
	}
	if p.Flash != "" {
		p.Flash = p.T["flash_"+p.Flash]
	}
	if p.User != nil {
		p.Nav = nav{Cases: true, Approvals: allows(p.User, evidock.ActionApproveAccess), Audit: allows(p.User, evidock.ActionReadAudit)}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := h.pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		h.cfg.Logger.Warn("web: render", "page", name, "err", err)
	}
}

// errorData is the error page's data.
type errorData struct {
	Status  int
	Message string
}

// fail renders an error page for err with the status of its code; d, if
// not nil, is a refused decision whose reason is shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, d *evidock.Decision, err error) {
	var status int
	var msg string
	switch {
	case d != nil:
		status, msg = http.StatusForbidden, d.Reason
	case evhttp.StatusOf(evidock.ErrorCode(err)) == http.StatusInternalServerError:
		h.cfg.Logger.Error("web: request failed", "path", r.URL.Path, "err", err)
		status, msg = http.StatusInternalServerError, "internal error"
	default:
		status, msg = evhttp.StatusOf(evidock.ErrorCode(err)), evidock.ErrorMessage(err)
	}
	h.render(w, r, status, "error", "error", errorData{Status: status, Message: msg})
}
