package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// idleGoal is the most CPU an idle agent may use: anything more is polling.
const idleGoal = 0.01 // of one core

// idle builds and runs the real evidock-agent binary with nothing to do
// (an empty mount root, a real case server and versitygw) and reads its CPU
// time and memory from /proc.
func (b *Bench) idle(ctx context.Context) error {
	figCPU := fmt.Sprintf("idle agent: CPU over %v, nothing docked", b.cfg.Idle)
	figRSS := "idle agent: resident memory"
	skipped := func(why string) error {
		b.rows = append(b.rows,
			row{Figure: figCPU, Evidock: "skipped", Peer: "—", Ratio: "—", Goal: fmt.Sprintf("≤ %.0f %% of a core", idleGoal*100), Met: "skipped: " + why},
			row{Figure: figRSS, Evidock: "skipped", Peer: "—", Ratio: "—", Goal: "reported", Met: "skipped: " + why})
		return nil
	}
	if why := b.skip("versitygw"); why != "" {
		return skipped(why)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.logf("go not found: the idle figure builds the evidock-agent binary with it")
		return skipped("go not found")
	}
	root, err := repoRoot()
	if err != nil {
		return skipped(err.Error())
	}
	dir := filepath.Join(b.work, "idle")
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o755); err != nil {
		return err
	}
	bin := filepath.Join(dir, "evidock-agent")
	b.logf("  building evidock-agent")
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./agent/cmd/evidock-agent")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build evidock-agent: %w: %s", err, out)
	}

	gw, err := b.gateway()
	if err != nil {
		return err
	}
	store, err := gw.createBucket(ctx, "idle-agent")
	if err != nil {
		return err
	}
	reg, err := startRegistry(ctx, filepath.Join(dir, "server.db"), store)
	if err != nil {
		return err
	}
	defer reg.close()
	cfg := fmt.Sprintf(`station_id: %s
mount_root: %s
staging_dir: %s
state_path: %s
clear_after: never
server: {url: %q}
s3: {endpoint: %q, region: us-east-1, bucket: idle-agent, access_key_id: %q}
log_level: info
`, registryStation, filepath.Join(dir, "media"), filepath.Join(dir, "staging"), filepath.Join(dir, "agent.db"),
		reg.srv.URL(), gw.Endpoint, gw.AccessKey)
	cfgPath := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "agent.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "EVIDOCK_S3_SECRET_ACCESS_KEY="+gw.SecretKey, "EVIDOCK_STATION_TOKEN="+reg.token)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start evidock-agent: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	// Measure from a second after it says it is watching, so that start-up
	// (migrations, the bucket check) is not counted as idling.
	deadline := time.Now().Add(30 * time.Second)
	for {
		log, _ := os.ReadFile(logPath)
		if strings.Contains(string(log), "watching for recorders") {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("evidock-agent exited at start (%v): %s", err, tail(string(log), 2000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("evidock-agent did not start watching within 30 s: " + tail(string(log), 2000))
		}
	}
	time.Sleep(time.Second)
	s0, err := sampleProc(cmd.Process.Pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	select {
	case <-time.After(b.cfg.Idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	s1, err := sampleProc(cmd.Process.Pid)
	if err != nil {
		return err
	}
	window := time.Since(t0)

	ticks := time.Duration(s1.TicksCPU-s0.TicksCPU) * time.Second / clockTicks
	cpu, how := ticks, "utime+stime, 10 ms ticks"
	if s0.Schedstat && s1.Schedstat && s1.RunNanos > 0 && s1.RunNanos >= s0.RunNanos {
		cpu, how = time.Duration(s1.RunNanos-s0.RunNanos), fmt.Sprintf("schedstat of its %d threads; utime+stime says %v", s1.Threads, ticks)
	}
	share := cpu.Seconds() / window.Seconds()
	wakeups := float64(s1.Switches-s0.Switches) / window.Seconds()
	met := "yes"
	if share > idleGoal {
		met = "**no**"
	}
	b.rows = append(b.rows,
		row{Figure: figCPU, Evidock: fmt.Sprintf("%.2f ms CPU (%.3f %% of a core), %.1f wakeups/s", float64(cpu)/1e6, share*100, wakeups),
			Peer: "—", Ratio: "—", Goal: fmt.Sprintf("≤ %.0f %% of a core", idleGoal*100), Met: met},
		row{Figure: figRSS, Evidock: fmt.Sprintf("VmRSS %.1f MiB (peak %.1f MiB)", float64(s1.RSSKiB)/1024, float64(s1.HWMKiB)/1024),
			Peer: "—", Ratio: "—", Goal: "reported", Met: "—"})
	b.notef("Idle: the real evidock-agent binary (go build ./agent/cmd/evidock-agent), run with a config like configs/agent.yaml against the same versitygw and a real case server, nothing docked; after it logged \"watching for recorders\" and one more second, CPU time was read from /proc/PID (%s) over %v, wakeups are context switches of its threads. Its CPU time from start to the end of the window (utime+stime): %v.", how, window.Round(time.Millisecond), time.Duration(s1.TicksCPU)*time.Second/clockTicks)
	return nil
}

// repoRoot returns the directory holding go.mod at or above the working
// directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the evidock repository")
		}
		dir = parent
	}
}
