package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"evidock/agent"
	"evidock/agent/metrics"
)

type fixed struct {
	st  agent.Stats
	err error
}

func (f fixed) Stats(context.Context) (agent.Stats, error) { return f.st, f.err }

func scrape(t *testing.T, src metrics.Source) string {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler(src, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	out := scrape(t, fixed{st: agent.Stats{
		ByState:            map[agent.State]int{agent.StateStaged: 3, agent.StateFailed: 1},
		BytesCopied:        1000,
		BytesUploaded:      600,
		Problems:           map[agent.Problem]int64{{Stage: "upload", Outcome: "retry", Reason: "unavailable"}: 2},
		OldestUnregistered: time.Now().Add(-time.Hour),
		StagingFreeBytes:   5 << 30,
		Alarms:             []agent.Alarm{{Kind: agent.AlarmStagingFull, Message: "full"}},
	}})
	for _, want := range []string{
		`evidock_agent_recordings{state="staged"} 3`,
		`evidock_agent_recordings{state="failed"} 1`,
		`evidock_agent_recordings{state="copying"} 0`,
		`evidock_agent_copied_bytes_total 1000`,
		`evidock_agent_uploaded_bytes_total 600`,
		`evidock_agent_problems_total{outcome="retry",reason="unavailable",stage="upload"} 2`,
		`evidock_agent_staging_free_bytes 5.36870912e+09`,
		`evidock_agent_alarm{kind="staging_full"} 1`,
		`evidock_agent_stats_up 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !strings.Contains(out, "evidock_agent_oldest_unregistered_age_seconds 36") {
		t.Errorf("oldest age not about an hour:\n%s", out)
	}
}

func TestMetricsWhenStateUnreadable(t *testing.T) {
	out := scrape(t, fixed{err: errors.New("database is locked")})
	if !strings.Contains(out, "evidock_agent_stats_up 0") {
		t.Errorf("want stats_up 0, got:\n%s", out)
	}
}
