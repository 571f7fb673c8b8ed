// Package metrics exposes the agent's figures to Prometheus: queue depth per
// state, bytes copied and uploaded, problems by reason, the age of the
// oldest recording not yet registered, free staging space and alarms.
//
// The figures are read from the agent when Prometheus scrapes, so nothing
// runs between scrapes.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"evidock/agent"
)

// Source gives the agent's current figures; *agent.Agent is one.
type Source interface {
	Stats(ctx context.Context) (agent.Stats, error)
}

var (
	queueDesc = prometheus.NewDesc("evidock_agent_recordings",
		"Recordings in each pending or failed pipeline state.", []string{"state"}, nil)
	copiedDesc = prometheus.NewDesc("evidock_agent_copied_bytes_total",
		"Bytes copied off recorders since the agent started.", nil, nil)
	uploadedDesc = prometheus.NewDesc("evidock_agent_uploaded_bytes_total",
		"Bytes uploaded to the object store since the agent started.", nil, nil)
	problemsDesc = prometheus.NewDesc("evidock_agent_problems_total",
		"Step errors since the agent started, by stage, outcome (retry or failed) and reason.",
		[]string{"stage", "outcome", "reason"}, nil)
	oldestDesc = prometheus.NewDesc("evidock_agent_oldest_unregistered_age_seconds",
		"Age, by its recording time, of the oldest recording not yet registered (0 if none).", nil, nil)
	freeDesc = prometheus.NewDesc("evidock_agent_staging_free_bytes",
		"Free bytes on the staging disk.", nil, nil)
	alarmDesc = prometheus.NewDesc("evidock_agent_alarm",
		"1 while an alarm of this kind is raised.", []string{"kind"}, nil)
	upDesc = prometheus.NewDesc("evidock_agent_stats_up",
		"1 if the agent's state could be read for this scrape.", nil, nil)
)

// Collector is a prometheus.Collector over a Source.
type Collector struct {
	src    Source
	logger *slog.Logger
	now    func() time.Time
}

// NewCollector returns a Collector reading src; logger nil means slog.Default().
func NewCollector(src Source, logger *slog.Logger) *Collector {
	if logger == nil {
		logger = slog.Default()
	}
	return &Collector{src: src, logger: logger, now: time.Now}
}

// Describe sends the descriptors of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueDesc, copiedDesc, uploadedDesc, problemsDesc, oldestDesc, freeDesc, alarmDesc, upDesc} {
		ch <- d
	}
}

// Collect reads the agent's figures. If they cannot be read it reports
// evidock_agent_stats_up 0 and logs why, so a scrape never fails outright.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.src.Stats(ctx)
	if err != nil {
		c.logger.Error("metrics: read agent stats", "err", err)
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for _, state := range []agent.State{agent.StateDiscovered, agent.StateCopying, agent.StateStaged, agent.StateUploading,
		agent.StateStored, agent.StateRegistered, agent.StateVerified, agent.StateFailed} {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(st.ByState[state]), string(state))
	}
	ch <- prometheus.MustNewConstMetric(copiedDesc, prometheus.CounterValue, float64(st.BytesCopied))
	ch <- prometheus.MustNewConstMetric(uploadedDesc, prometheus.CounterValue, float64(st.BytesUploaded))
	for p, n := range st.Problems {
		ch <- prometheus.MustNewConstMetric(problemsDesc, prometheus.CounterValue, float64(n), p.Stage, p.Outcome, p.Reason)
	}
	age := 0.0
	if !st.OldestUnregistered.IsZero() {
		age = c.now().Sub(st.OldestUnregistered).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(freeDesc, prometheus.GaugeValue, float64(st.StagingFreeBytes))
	raised := map[string]bool{}
	for _, a := range st.Alarms {
		raised[a.Kind] = true
	}
	for _, kind := range []string{agent.AlarmStagingFull} {
		v := 0.0
		if raised[kind] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(alarmDesc, prometheus.GaugeValue, v, kind)
	}
}

// Handler returns an http.Handler serving the agent's metrics with the Go
// runtime's and the process's, in the Prometheus text format.
func Handler(src Source, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(src, logger), prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)})
}
