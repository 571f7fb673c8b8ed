package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock/agent/dockscreen"
	"evidock/internal/s3test"
)

// runConfig returns a valid config with its directories under a temporary
// directory and the dock screen at listen.
func runConfig(t *testing.T, listen string) Config {
	t.Helper()
	dir := t.TempDir()
	c := DefaultConfig()
	c.StationID = "dock-01"
	c.MountRoot = filepath.Join(dir, "media")
	c.StagingDir = filepath.Join(dir, "staging")
	c.StatePath = filepath.Join(dir, "agent.db")
	c.Server.URL, c.Server.Token = "http://127.0.0.1:1", "token"
	c.S3.Endpoint, c.S3.Bucket, c.S3.AccessKeyID, c.S3.SecretAccessKey = "http://127.0.0.1:1", "footage", "a", "s"
	c.DockScreen.Listen = listen
	c.LogLevel = "error"
	if err := os.MkdirAll(c.MountRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRunDockScreenPortTaken: a dock screen that cannot listen stops the
// agent at start, before it touches the object store, and says how to fix it.
func TestRunDockScreenPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := &Main{Config: runConfig(t, ln.Addr().String())}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = m.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "dock screen") || !strings.Contains(err.Error(), "dock_screen.listen") {
		t.Fatalf("Run with the dock screen's port taken: %v", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Run took until the test's deadline to fail")
	}
}

// TestRunServesDockScreen runs the agent on a real S3-compatible server and
// checks that the dock screen answers beside the pipeline and that both stop
// when the context is cancelled.
func TestRunServesDockScreen(t *testing.T) {
	s3srv := s3test.Start(t)
	addr := closedAddr(t)
	c := runConfig(t, addr)
	c.S3 = s3srv.Config()
	m := &Main{Config: c}
	defer m.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	client := dockscreen.NewClient(c.DockScreen.URL())
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := client.Status(ctx)
		if err == nil {
			if st.StationID != "dock-01" || len(st.Recorders) != 0 {
				t.Errorf("dock status %+v", st)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dock screen did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for path, want := range map[string]string{"/": "请插入执法记录仪", "/?lang=en": "Dock a recorder", "/metrics": "evidock_agent_stats_up 1"} {
		res, err := http.Get(c.DockScreen.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d, want %q in\n%s", path, res.StatusCode, want, b)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Errorf("the dock screen still listens on %s after Run returned", addr)
	}
}

// TestRunBoth: whichever of the pipeline and the dock screen fails first
// stops the other, and its error is returned.
func TestRunBoth(t *testing.T) {
	waitCtx := func(ctx context.Context) error { <-ctx.Done(); return nil }

	// The dock screen fails: the pipeline is stopped.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = runBoth(context.Background(), waitCtx, &http.Server{Handler: http.NotFoundHandler()}, ln)
	if err == nil || !strings.Contains(err.Error(), "dock screen") {
		t.Errorf("runBoth with a broken listener: %v", err)
	}

	// The pipeline fails: the dock screen is shut down.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("state store: disk I/O error")
	err = runBoth(context.Background(), func(context.Context) error { return boom }, &http.Server{Handler: http.NotFoundHandler()}, ln)
	if !errors.Is(err, boom) {
		t.Errorf("runBoth with a failing pipeline: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		conn.Close()
		t.Errorf("the dock screen still listens after the pipeline failed")
	}

	// Cancelled: both stop, no error.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if err := runBoth(ctx, waitCtx, &http.Server{Handler: http.NotFoundHandler()}, ln); err != nil {
		t.Errorf("runBoth cancelled: %v, want nil", err)
	}
}
