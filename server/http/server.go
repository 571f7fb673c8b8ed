package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"evidock"
)

var _ http.Handler = (*Server)(nil)

// Server is the case server's HTTP API.
type Server struct {
	clips     evidock.ClipService
	stations  evidock.StationService
	recorders evidock.RecorderService
	log       evidock.LogService // nil: no transparency log (see SetLog)
	status    *StatusConfig      // nil: no status, alarms or metrics (see SetStatus)
	cases     *CaseServices      // nil: no cases (see SetCases)
	people    *PeopleConfig      // nil: no user logins (see SetPeople)
	cop       *http.CrossOriginProtection
	metrics   http.Handler
	ping      func(context.Context) error
	logger    *slog.Logger
	handler   http.Handler
	web       http.Handler // nil: no web UI (see SetWeb)

	ln  net.Listener
	srv *http.Server
}

// NewServer returns a Server answering from clips (normally a
// *server.Registry, so that uploads are verified) and recorders, and
// authenticating stations with stations. recorders nil makes the recorder
// routes answer 501. ping, if not nil, is called by /healthz to check the
// database; logger nil means slog.Default().
func NewServer(clips evidock.ClipService, stations evidock.StationService, recorders evidock.RecorderService,
	ping func(context.Context) error, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	if recorders == nil {
		recorders = noRecorders{}
	}
	s := &Server{clips: clips, stations: stations, recorders: recorders, ping: ping, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("POST /api/v1/clips", s.station(s.handleRegisterClip))
	mux.Handle("GET /api/v1/clips", s.stationOrUser(s.handleFindClips, s.handleUserFindClips))
	mux.Handle("GET /api/v1/clips/{blake3}", s.stationOrUser(s.handleGetClip, s.handleUserGetClip))
	mux.Handle("PUT /api/v1/recorders/{serial}", s.station(s.handleReportDock))
	mux.Handle("GET /api/v1/recorders/{serial}", s.station(s.handleGetRecorder))
	mux.Handle("GET /api/v1/recorders", s.station(s.handleFindRecorders))
	s.registerLogRoutes(mux)
	s.registerStatusRoutes(mux)
	s.registerCaseRoutes(mux)
	s.registerPeopleRoutes(mux)
	s.registerExportRoutes(mux)
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.web != nil && !isAPIPath(r.URL.Path) {
			s.web.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	s.handler = s.logRequests(compressLarge(root))
	return s
}

// compressMinSize is the smallest answer worth compressing: a registration
// and its receipt (about 2 KB) cost more CPU to compress, on both ends, than
// they take to send over a station's network.
const compressMinSize = 8 << 10

// compressLarge gzips answers of compressMinSize bytes or more for clients
// that accept it.
func compressLarge(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMinSize))
	if err != nil {
		panic(err) // the options are constants
	}
	return wrap(h)
}

// SetWeb mounts the web UI (package server/web) at /: every path but the
// API's (/api/, /healthz, /metrics), which keep their own answers,
// including 404 and 405. Call it before serving.
func (s *Server) SetWeb(h http.Handler) { s.web = h }

// isAPIPath reports whether path belongs to the API rather than the web UI.
func isAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/metrics"
}

// ServeHTTP answers one request; the Server can be mounted in tests with
// httptest or behind another mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Listen opens the listening socket on addr (host:port; port 0 picks a free
// one) so that Addr is known before Serve. It returns an error naming addr if
// the address is taken or invalid.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		// No WriteTimeout: registering a clip may read gigabytes back from
		// the object store before the response is written.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr returns the address Listen bound, or "" before Listen.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL returns the base URL of the listening server, e.g.
// http://127.0.0.1:8440, or "" before Listen.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.Addr()
}

// Serve answers requests on the socket from Listen until Shutdown, and then
// returns nil; it returns any other error that stops it.
func (s *Server) Serve() error {
	if s.srv == nil {
		return errors.New("http: serve: Listen was not called")
	}
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: serve: %w", err)
	}
	return nil
}

// Shutdown stops accepting requests and waits for those in progress until
// ctx ends, so that a registration under way is answered rather than cut off.
// It returns ctx's error if requests were still running when it ended.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("http: shutdown: %w", err)
	}
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if s.ping != nil {
		if err := s.ping(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

// requestInfo collects what the request log line reports about a request
// beyond what the ResponseWriter sees.
type requestInfo struct {
	station string
	user    string
}

type requestInfoKey struct{}

// stationKey holds the authenticated *evidock.Station in a request context.
type stationKey struct{}

// stationFrom returns the station that authenticated the request.
func stationFrom(ctx context.Context) *evidock.Station {
	st, _ := ctx.Value(stationKey{}).(*evidock.Station)
	return st
}

// station requires a valid station token in "Authorization: Bearer <token>"
// before calling next. It answers 401 otherwise; the token is never logged
// or echoed.
func (s *Server) station(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			s.writeError(w, r, evidock.Errorf(evidock.EUNAUTHORIZED,
				"missing station token: send the header \"Authorization: Bearer <token>\" with the token from 'evidock-server station add'"))
			return
		}
		st, err := s.stations.AuthenticateStation(r.Context(), token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
			info.station = st.ID
		}
		next(w, r.WithContext(context.WithValue(r.Context(), stationKey{}, st)))
	})
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request with its method, path (never the
// query or headers, so that nothing secret reaches the log), status,
// duration and, when known, the station.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
		}
		if info.station != "" {
			attrs = append(attrs, slog.String("station", info.station))
		}
		if info.user != "" {
			attrs = append(attrs, slog.String("user", info.user))
		}
		s.logger.LogAttrs(r.Context(), logLevelFor(r.URL.Path, rec.status), "request", attrs...)
	})
}
