package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/server/fixity"
	evhttp "evidock/server/http"
	"evidock/server/postgres"
	"evidock/server/postgres/pgtest"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// fixitySample is the fixity section proposed for configs/server.yaml.
const fixitySample = `
# Fixity: the server reads stored footage back on a schedule and checks it
# against the registry's BLAKE3; a missing or changed object opens an alarm
# (evidock alarms). With several servers on one PostgreSQL, each that has it
# enabled takes a share of the clips; none checks a clip another is checking.
fixity:
  enabled: true
  # How long after its last check a clip is checked again (Go duration:
  # hours, not days; 720h is 30 days).
  interval: 720h
  # Bytes per second this server may read back (at least 1000000), so that
  # checks leave the store and the network to uploads. 50 MB/s checks about
  # 4 TB a day.
  bytes_per_second: 50000000
  # Clips claimed at a time.
  batch: 100
`

func TestFixityConfig(t *testing.T) {
	cfg, err := ReadConfig(writeFile(t, "server.yaml", fixitySample))
	if err != nil {
		t.Fatal(err)
	}
	if want := (FixityConfig{Enabled: true, Interval: 720 * time.Hour, BytesPerSecond: 50_000_000, Batch: 100}); cfg.Fixity != want || cfg.Fixity != DefaultConfig().Fixity {
		t.Fatalf("fixity = %+v; want %+v, the defaults", cfg.Fixity, want)
	}
	if err := cfg.Fixity.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg, err = ReadConfig(writeFile(t, "server.yaml", "fixity:\n  enabled: false\n  interval: 24h\n"))
	if err != nil || cfg.Fixity.Enabled || cfg.Fixity.Interval != 24*time.Hour || cfg.Fixity.Batch != 100 {
		t.Fatalf("partial fixity section = %+v, %v; want it off, 24h and the other defaults", cfg.Fixity, err)
	}
	if _, err := ReadConfig(writeFile(t, "server.yaml", "fixity:\n  interval: 30d\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("interval 30d: err = %v; want the line named", err)
	}
	for _, tt := range []struct {
		name   string
		modify func(f *FixityConfig)
		want   string
	}{
		{"short interval", func(f *FixityConfig) { f.Interval = 30 * time.Second }, "fixity.interval 30s is too short: set at least 1m0s"},
		{"no interval", func(f *FixityConfig) { f.Interval = 0 }, "fixity.interval 0s is too short"},
		{"slow", func(f *FixityConfig) { f.BytesPerSecond = 1000 }, "fixity.bytes_per_second 1000 is too low: set at least 1000000"},
		{"no batch", func(f *FixityConfig) { f.Batch = 0 }, "fixity.batch 0: set 1 to 10000"},
		{"huge batch", func(f *FixityConfig) { f.Batch = 100_000 }, "fixity.batch 100000"},
		{"off but wrong", func(f *FixityConfig) { f.Enabled, f.Batch = false, -1 }, "fixity.batch -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.S3.AccessKeyID, c.S3.SecretAccessKey = "AKID", "secret"
			tt.modify(&c.Fixity)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v; want %q", err, tt.want)
			}
		})
	}
}

// registry is what the tests fill before the server starts.
type registry interface {
	evidock.ClipService
	evidock.StationService
	Close() error
}

// TestServeFixity starts the server on SQLite over a store holding two
// registered clips, one of them lost on the store's disk: the server says
// the bucket has Object Lock, its checker finds the loss, and the status
// and the metrics show it.
func TestServeFixity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "evidock.db")
	testServeFixity(t, fmt.Sprintf("database:\n  driver: sqlite\n  path: %s\n", path), func() registry {
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestServeFixityPostgres is TestServeFixity on PostgreSQL.
func TestServeFixityPostgres(t *testing.T) {
	dsn := pgtest.NewSchema(t)
	testServeFixity(t, fmt.Sprintf("database:\n  driver: postgres\n  dsn_file: %s\n", writeFile(t, "database.dsn", dsn)), func() registry {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func testServeFixity(t *testing.T, database string, open func() registry) {
	ctx := context.Background()
	s3srv := s3test.Start(t)
	store := s3srv.MustOpen(t)
	db := open()
	token, err := db.CreateStation(ctx, &evidock.Station{ID: "dock-01"})
	if err != nil {
		t.Fatal(err)
	}
	var clips []*evidock.Clip
	for i, body := range []string{"kept", "lost"} {
		c := storetest.NewClip([]byte(body), "A123456", "100001", time.Date(2024, 5, 1, 9+i, 0, 0, 0, evidock.ChinaTime), i+1)
		if err := store.PutObject(ctx, c.ObjectKey, bytes.NewReader([]byte(body)), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		clips = append(clips, c)
	}
	db.Close()
	if err := os.Remove(filepath.Join(s3srv.DataDir, s3srv.Bucket, filepath.FromSlash(clips[1].ObjectKey))); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	t.Setenv("EVIDOCK_S3_ACCESS_KEY_ID", "")
	t.Setenv("EVIDOCK_S3_SECRET_ACCESS_KEY", "")
	cfg := writeFile(t, "server.yaml", fmt.Sprintf(`
listen: 127.0.0.1:0
%s
s3:
  endpoint: %s
  bucket: %s
  access_key_id: %s
  secret_access_key_file: %s
log:
  signing_key_file: %s
  create_key: true
%s`, database, s3srv.Endpoint, s3srv.Bucket, s3srv.AccessKey, writeFile(t, "s3-secret", s3srv.SecretKey),
		filepath.Join(dir, "log.key"), fixitySample))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errOut syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, &errOut
	done := make(chan int, 1)
	go func() { done <- run(runCtx, []string{"serve", "--config", cfg}, m) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", errOut.String())
		}
	})
	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(errOut.String()); m != nil {
			url = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d", code)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not log its address")
		}
	}

	client := evhttp.NewClient(url, token)
	var st *evhttp.Status
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st, err = client.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if st.Fixity.Checked == 2 || time.Now().After(deadline) {
			break
		}
	}
	f := st.Fixity
	if !st.ObjectLock.Enabled || st.ObjectLock.RetentionDays != 3650 || !f.Enabled || f.Interval != "720h0m0s" ||
		f.Checked != 2 || f.OK != 1 || f.Failures[fixity.Missing] != 1 || f.OpenAlarms != 1 || f.ChecksSinceStart[fixity.Missing] != 1 {
		t.Fatalf("status = %+v, fixity %+v; want Object Lock, and 1 ok and 1 missing clip with an open alarm", st, f)
	}
	alarms, err := client.FindAlarms(ctx, fixity.AlarmFilter{Open: true})
	if err != nil || len(alarms) != 1 || alarms[0].Subject != clips[1].Digest.String() {
		t.Fatalf("alarms = %+v, %v", alarms, err)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"\nevidock_server_object_lock_enabled 1", "\nevidock_server_open_alarms 1",
		"\nevidock_server_clips_registered 2", "\nevidock_server_fixity_checks_total{result=\"missing\"} 1"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d after the signal", code)
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("serve did not stop after the signal")
	}
	log := errOut.String()
	for _, want := range []string{"level=INFO msg=\"object store bucket has Object Lock", "retention_days=3650",
		"level=ERROR msg=\"ALARM: fixity check failed", "fixity: checking stored footage"} {
		if !strings.Contains(log, want) {
			t.Errorf("server log lacks %q", want)
		}
	}
}
