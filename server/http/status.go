package http

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"evidock"
	"evidock/server/fixity"
)

// StatusConfig is what the status, alarm and metrics routes report; see
// Server.SetStatus.
type StatusConfig struct {
	// Version is the server's version.
	Version string
	// DatabaseDriver is sqlite or postgres.
	DatabaseDriver string
	// Bucket is the object store bucket footage is kept in.
	Bucket string
	// ObjectLock says whether the bucket has Object Lock, as the server
	// found it at start, and RetentionDays the COMPLIANCE retention the
	// server gives the objects it writes.
	ObjectLock    bool
	RetentionDays int
	// FixityEnabled says whether this server runs the fixity checker,
	// which checks each clip every FixityInterval, reading at most
	// FixityBytesPerSecond.
	FixityEnabled        bool
	FixityInterval       time.Duration
	FixityBytesPerSecond int64
	// Fixity keeps the checks and alarms: the registry database.
	Fixity fixity.Store
	// Checker is this server's fixity checker, for the checks it made
	// and whether it can reach the object store; nil if it runs none.
	Checker *fixity.Checker
}

// Status is the JSON of GET /api/v1/status.
type Status struct {
	Version     string            `json:"version"`
	Database    DatabaseStatus    `json:"database"`
	ObjectStore ObjectStoreStatus `json:"object_store"`
	ObjectLock  ObjectLockStatus  `json:"object_lock"`
	Fixity      FixityStatus      `json:"fixity"`
}

// DatabaseStatus names the registry database's driver.
type DatabaseStatus struct {
	Driver string `json:"driver"`
}

// ObjectStoreStatus names the bucket footage is kept in.
type ObjectStoreStatus struct {
	Bucket string `json:"bucket"`
}

// ObjectLockStatus says whether the bucket keeps originals under Object Lock,
// and for how long the server retains the objects it writes.
type ObjectLockStatus struct {
	Enabled       bool `json:"enabled"`
	RetentionDays int  `json:"retention_days"`
}

// FixityStatus is the state of fixity over all clips (from the database, so
// the same on every server instance), with this server's own settings and
// count of checks.
type FixityStatus struct {
	// Enabled says whether this server runs the checker; another
	// instance sharing the database may run it instead.
	Enabled bool `json:"enabled"`
	// Interval is how often each clip is checked, as a Go duration
	// (720h0m0s); "" when this server does not check.
	Interval       string `json:"interval"`
	BytesPerSecond int64  `json:"bytes_per_second"`
	fixity.Summary
	// ChecksSinceStart counts the checks this server made since it
	// started, by result.
	ChecksSinceStart map[fixity.Result]int64 `json:"checks_since_start"`
	// StoreUnreachableSince is when this server's checker found the
	// object store unreachable, while it still is; absent otherwise.
	StoreUnreachableSince *time.Time `json:"store_unreachable_since,omitempty"`
}

// alarmList is the JSON form of an alarm listing.
type alarmList struct {
	Alarms []*fixity.Alarm `json:"alarms"`
}

// errNoStatus answers the status routes of a server given no StatusConfig.
var errNoStatus = evidock.Errorf(evidock.ENOTIMPLEMENTED, "this server reports no status")

// SetStatus makes the server answer GET /api/v1/status and GET
// /api/v1/alarms from cfg, and GET /metrics with the same figures for
// Prometheus. Without it those routes answer 501. Call it before serving.
func (s *Server) SetStatus(cfg StatusConfig) {
	s.status = &cfg
	s.metrics = metricsHandler(&cfg, s.logger)
}

// registerStatusRoutes adds the status, alarm and metrics routes to mux.
// The status and alarms need a station token for now (users come later);
// /metrics, like /healthz, needs none, as Prometheus scrapes it: it shows
// counts, never clips or names.
func (s *Server) registerStatusRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/status", s.station(s.handleStatus))
	mux.Handle("GET /api/v1/alarms", s.station(s.handleFindAlarms))
	mux.HandleFunc("GET /metrics", s.handleMetrics)
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if s.status == nil {
		s.writeError(w, r, errNoStatus)
		return
	}
	if len(r.URL.Query()) > 0 {
		s.writeError(w, r, evidock.Errorf(evidock.EINVALID, "GET /api/v1/status takes no query parameters"))
		return
	}
	st, err := s.status.read(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}

func (s *Server) handleFindAlarms(w http.ResponseWriter, r *http.Request) {
	if s.status == nil {
		s.writeError(w, r, errNoStatus)
		return
	}
	f, err := parseAlarmQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	alarms, err := s.status.Fixity.FindAlarms(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if alarms == nil {
		alarms = []*fixity.Alarm{} // [] rather than null for clients
	}
	s.writeJSON(w, r, http.StatusOK, alarmList{Alarms: alarms})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.writeError(w, r, errNoStatus)
		return
	}
	s.metrics.ServeHTTP(w, r)
}

// parseAlarmQuery reads the query of GET /api/v1/alarms: open (true or
// false; absent lists every alarm) and limit. It returns EINVALID naming the
// parameter for an unknown, repeated or malformed one.
func parseAlarmQuery(q url.Values) (fixity.AlarmFilter, error) {
	var f fixity.AlarmFilter
	for name, vs := range q {
		if name != "open" && name != "limit" {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter %q is unknown; use open or limit", name)
		}
		if len(vs) > 1 {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter %s is given %d times; give it once", name, len(vs))
		}
	}
	if v := q.Get("open"); v != "" {
		open, err := strconv.ParseBool(v)
		if err != nil {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter open: %q must be true or false", v)
		}
		f.Open = open
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > fixity.DefaultAlarmLimit {
			return f, evidock.Errorf(evidock.EINVALID, "query parameter limit: %q must be a number from 0 to %d", v, fixity.DefaultAlarmLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// read returns the status now: the settings, and the figures the database
// holds, or the database's error.
func (c *StatusConfig) read(ctx context.Context) (*Status, error) {
	sum, err := c.Fixity.FixitySummary(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{
		Version:     c.Version,
		Database:    DatabaseStatus{Driver: c.DatabaseDriver},
		ObjectStore: ObjectStoreStatus{Bucket: c.Bucket},
		ObjectLock:  ObjectLockStatus{Enabled: c.ObjectLock, RetentionDays: c.RetentionDays},
		Fixity: FixityStatus{
			Enabled:          c.FixityEnabled,
			BytesPerSecond:   c.FixityBytesPerSecond,
			Summary:          *sum,
			ChecksSinceStart: map[fixity.Result]int64{},
		},
	}
	if c.FixityEnabled {
		st.Fixity.Interval = c.FixityInterval.String()
	}
	for _, r := range fixity.Results {
		st.Fixity.ChecksSinceStart[r] = 0
	}
	if c.Checker != nil {
		for r, n := range c.Checker.Checks() {
			st.Fixity.ChecksSinceStart[r] = n
		}
		st.Fixity.StoreUnreachableSince = c.Checker.StoreUnreachableSince()
	}
	return st, nil
}

// Status returns the server's status (GET /api/v1/status); ENOTIMPLEMENTED
// if the server reports none, and the server's other errors with their
// codes.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var st Status
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/status", nil, &st); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return &st, nil
}

// FindAlarms returns the alarms f selects, newest first (GET
// /api/v1/alarms); EINVALID if the server refuses the filter.
func (c *Client) FindAlarms(ctx context.Context, f fixity.AlarmFilter) ([]*fixity.Alarm, error) {
	q := url.Values{}
	if f.Open {
		q.Set("open", "true")
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/api/v1/alarms"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var list alarmList
	if _, err := c.do(ctx, http.MethodGet, path, nil, &list); err != nil {
		return nil, fmt.Errorf("find alarms: %w", err)
	}
	if list.Alarms == nil {
		list.Alarms = []*fixity.Alarm{}
	}
	return list.Alarms, nil
}
