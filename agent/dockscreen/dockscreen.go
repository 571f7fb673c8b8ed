package dockscreen

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"evidock/agent"
)

// StatusSource gives the dock's current status; *agent.Agent is one, and so
// is *Client.
type StatusSource interface {
	Status(ctx context.Context) (*agent.DockStatus, error)
}

var _ StatusSource = (*agent.Agent)(nil)

//go:embed templates/*.html static/*
var assets embed.FS

var pageTemplate = template.Must(template.New("").ParseFS(assets, "templates/*.html"))

// StatusTimeout bounds how long one request waits for the status source.
const StatusTimeout = 5 * time.Second

// Handler serves the dock screen:
//
//	GET /              the page, in the language of ?lang= or Accept-Language
//	GET /panel         the page's live part, which the page's script fetches every second
//	GET /api/status    the agent.DockStatus as JSON
//	GET /static/...    the embedded stylesheet, script and icon
//	GET /metrics       the metrics handler, if one was given with WithMetrics
//
// It answers only GET and HEAD (405 otherwise), sets headers that keep the
// page from loading anything from elsewhere or being framed, and, unless
// WithRemote is given, answers only requests addressed to a loopback host,
// so that a web page elsewhere cannot read it by DNS rebinding.
type Handler struct {
	src     StatusSource
	metrics http.Handler
	logger  *slog.Logger
	remote  bool
	mux     *http.ServeMux
}

// Option configures a Handler.
type Option func(*Handler)

// WithMetrics serves h at /metrics, e.g. a Prometheus handler.
func WithMetrics(h http.Handler) Option { return func(d *Handler) { d.metrics = h } }

// WithLogger sets where failures to read the status are logged; the default
// is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(d *Handler) { d.logger = l } }

// WithRemote lets the handler answer requests addressed to any host, for a
// dock screen deliberately served beyond loopback (allow_remote in the
// agent's config).
func WithRemote() Option { return func(d *Handler) { d.remote = true } }

// New returns a Handler showing the status of src.
func New(src StatusSource, opts ...Option) *Handler {
	h := &Handler{src: src, logger: slog.Default(), mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("GET /panel", h.panel)
	h.mux.HandleFunc("GET /api/status", h.apiStatus)
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	if h.metrics != nil {
		h.mux.Handle("GET /metrics", h.metrics)
	}
	return h
}

// Content-Security-Policy of every response: nothing from elsewhere, no
// inline script or style, no framing, no forms.
const csp = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	if !h.remote && !IsLoopbackHost(r.Host) {
		http.Error(w, "dock screen: answers only on loopback (127.0.0.1, ::1, localhost); set dock_screen.allow_remote to serve other hosts", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// The mux would answer 405 only for known paths; say it for all.
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "dock screen: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// IsLoopbackHost reports whether hostport (a Host header or a listen
// address, with or without a port) names this machine only: "localhost" or
// a loopback IP address.
func IsLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pageData is what the templates render.
type pageData struct {
	*View
	Other Lang   // the language the switch link offers
	Error string // why the status is unavailable; empty when it is not
}

// status reads the source's status and returns it with its view in r's
// language; on failure the status is nil, the view has no recorders and
// says why, and the error is returned.
func (h *Handler) status(r *http.Request) (*agent.DockStatus, pageData, error) {
	lang := RequestLang(r)
	ctx, cancel := context.WithTimeout(r.Context(), StatusTimeout)
	defer cancel()
	st, err := h.src.Status(ctx)
	if err != nil {
		h.logger.Error("dock screen: status", "err", err)
		st = nil
	}
	d := pageData{View: NewView(st, lang), Other: English}
	if d.Lang == English {
		d.Other = Chinese
	}
	if err != nil {
		d.Error = err.Error()
	}
	return st, d, err
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	_, d, err := h.status(r)
	h.render(w, "page", d, err)
}

func (h *Handler) panel(w http.ResponseWriter, r *http.Request) {
	_, d, err := h.status(r)
	h.render(w, "panel", d, err)
}

// render executes the named template into a buffer first, so that a
// failure is a clean 500 and not half a page. A page whose status failed is
// still a page (it says so) but answers 503, so that its script marks the
// screen stale.
func (h *Handler) render(w http.ResponseWriter, name string, d pageData, statusErr error) {
	var buf bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&buf, name, d); err != nil {
		h.logger.Error("dock screen: render", "template", name, "err", err)
		http.Error(w, "dock screen: render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", string(d.Lang))
	if statusErr != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write(buf.Bytes())
}

// apiError is the body of a failed /api/status.
type apiError struct {
	Error string `json:"error"`
}

func (h *Handler) apiStatus(w http.ResponseWriter, r *http.Request) {
	st, _, err := h.status(r)
	var body any = withEmptyLists(st)
	code := http.StatusOK
	if err != nil {
		body, code = apiError{err.Error()}, http.StatusServiceUnavailable
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "dock screen: encode status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// withEmptyLists returns a copy of st whose nil lists are empty, so that
// the JSON says [] rather than null and clients need not tell them apart.
func withEmptyLists(st *agent.DockStatus) *agent.DockStatus {
	if st == nil {
		return nil
	}
	c := *st
	if c.Alarms == nil {
		c.Alarms = []agent.Alarm{}
	}
	c.Recorders = append([]agent.RecorderStatus{}, c.Recorders...)
	for i := range c.Recorders {
		if c.Recorders[i].Recordings == nil {
			c.Recorders[i].Recordings = []agent.RecordingStatus{}
		}
	}
	return &c
}
