package http

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"evidock/server/fixity"
)

var (
	statusUpDesc = prometheus.NewDesc("evidock_server_status_up",
		"1 if the figures could be read from the database for this scrape.", nil, nil)
	objectLockDesc = prometheus.NewDesc("evidock_server_object_lock_enabled",
		"1 if the object store bucket has Object Lock, as found when the server started.", nil, nil)
	retentionDesc = prometheus.NewDesc("evidock_server_object_lock_retention_days",
		"COMPLIANCE retention, in days, that the server gives the objects it writes.", nil, nil)
	fixityEnabledDesc = prometheus.NewDesc("evidock_server_fixity_enabled",
		"1 if this server runs the fixity checker.", nil, nil)
	fixityChecksDesc = prometheus.NewDesc("evidock_server_fixity_checks_total",
		"Fixity checks this server made since it started, by result (ok, missing, changed, unreachable).", []string{"result"}, nil)
	fixityClipsDesc = prometheus.NewDesc("evidock_server_fixity_clips",
		"Registered clips by the result of their latest fixity check (unchecked: none yet).", []string{"result"}, nil)
	allCheckedDesc = prometheus.NewDesc("evidock_server_fixity_all_checked_since_timestamp_seconds",
		"Unix time since which every registered clip has been checked; 0 while some clip never was.", nil, nil)
	storeUnreachableDesc = prometheus.NewDesc("evidock_server_fixity_store_unreachable",
		"1 while this server's fixity checker cannot reach the object store.", nil, nil)
	openAlarmsDesc = prometheus.NewDesc("evidock_server_open_alarms",
		"Alarms nobody has acknowledged.", nil, nil)
	clipsDesc = prometheus.NewDesc("evidock_server_clips_registered",
		"Clips in the registry.", nil, nil)
)

// collector is a prometheus.Collector that reads the figures of a
// StatusConfig from the database when Prometheus scrapes, so nothing runs
// between scrapes and every instance sharing a database reports the same
// figures (except the checks it made itself).
type collector struct {
	cfg    *StatusConfig
	logger *slog.Logger
}

// Describe sends the descriptors of every metric.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{statusUpDesc, objectLockDesc, retentionDesc, fixityEnabledDesc,
		fixityChecksDesc, storeUnreachableDesc, fixityClipsDesc, allCheckedDesc, openAlarmsDesc, clipsDesc} {
		ch <- d
	}
}

// Collect sends the metrics. If the database cannot be read it reports
// evidock_server_status_up 0 with the figures that need no database, and
// logs why, so that a scrape never fails outright.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(objectLockDesc, boolValue(c.cfg.ObjectLock))
	gauge(retentionDesc, float64(c.cfg.RetentionDays))
	gauge(fixityEnabledDesc, boolValue(c.cfg.FixityEnabled))
	if c.cfg.Checker != nil {
		checks := c.cfg.Checker.Checks()
		for _, r := range fixity.Results {
			ch <- prometheus.MustNewConstMetric(fixityChecksDesc, prometheus.CounterValue, float64(checks[r]), string(r))
		}
		gauge(storeUnreachableDesc, boolValue(c.cfg.Checker.StoreUnreachableSince() != nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sum, err := c.cfg.Fixity.FixitySummary(ctx)
	if err != nil {
		c.logger.Error("metrics: read fixity figures", "err", err)
		gauge(statusUpDesc, 0)
		return
	}
	gauge(statusUpDesc, 1)
	gauge(clipsDesc, float64(sum.Clips))
	gauge(openAlarmsDesc, float64(sum.OpenAlarms))
	unchecked := sum.Clips - sum.OK
	gauge(fixityClipsDesc, float64(sum.OK), string(fixity.OK))
	for _, r := range []fixity.Result{fixity.Missing, fixity.Changed, fixity.Unreachable} {
		gauge(fixityClipsDesc, float64(sum.Failures[r]), string(r))
		unchecked -= sum.Failures[r]
	}
	gauge(fixityClipsDesc, float64(unchecked), "unchecked")
	since := 0.0
	if sum.AllCheckedSince != nil {
		since = float64(sum.AllCheckedSince.Unix())
	}
	gauge(allCheckedDesc, since)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler returns an http.Handler serving cfg's metrics with the Go
// runtime's and the process's, in the Prometheus text format.
func metricsHandler(cfg *StatusConfig, logger *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&collector{cfg: cfg, logger: logger}, prometheus.NewGoCollector(),
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	// The server's gzip handler compresses every response; a second layer
	// here would compress twice.
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:           slog.NewLogLogger(logger.Handler(), slog.LevelError),
		DisableCompression: true,
	})
}
