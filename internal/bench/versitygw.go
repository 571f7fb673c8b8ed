package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"evidock/s3"
)

// gateway is a versitygw on a loopback port, started the way
// internal/s3test starts it for the tests, but without a testing.TB. Every
// upload run gets a bucket of its own, removed from disk afterwards.
type gateway struct {
	Endpoint, AccessKey, SecretKey string
	dir, data, versions            string
	bin                            string
	cmd                            *exec.Cmd
}

// startGateway starts versitygw with its data under dir.
func startGateway(bin, dir string) (*gateway, error) {
	g := &gateway{AccessKey: "evidockbench", SecretKey: "evidockbenchsecret", bin: bin, dir: dir,
		data: filepath.Join(dir, "data"), versions: filepath.Join(dir, "versions")}
	for _, d := range []string{g.data, g.versions} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 5 {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		if lastErr = g.launch(addr); lastErr == nil {
			return g, nil
		}
	}
	return nil, fmt.Errorf("versitygw did not start: %w (log in %s)", lastErr, dir)
}

func (g *gateway) launch(addr string) error {
	// --keep-alive as the README tells deployments: without it versitygw
	// closes every connection after one answer.
	cmd := exec.Command(g.bin, "--port", addr, "--keep-alive", "posix", "--versioning-dir", g.versions, g.data)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+g.AccessKey, "ROOT_SECRET_ACCESS_KEY="+g.SecretKey)
	logf, err := os.OpenFile(filepath.Join(g.dir, "versitygw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return fmt.Errorf("nothing listening on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.cmd, g.Endpoint = cmd, "http://"+addr
	return nil
}

func (g *gateway) stop() {
	if g.cmd != nil {
		_ = g.cmd.Process.Kill()
		_ = g.cmd.Wait()
		g.cmd = nil
	}
}

// PID returns versitygw's process ID.
func (g *gateway) PID() int { return g.cmd.Process.Pid }

// config returns the agent's S3 config for bucket.
func (g *gateway) config(bucket string) s3.Config {
	cfg := s3.DefaultConfig()
	cfg.Endpoint, cfg.Bucket = g.Endpoint, bucket
	cfg.AccessKeyID, cfg.SecretAccessKey = g.AccessKey, g.SecretKey
	return cfg
}

// createBucket makes bucket as the demo does (with Object Lock) and returns
// the agent's store on it.
func (g *gateway) createBucket(ctx context.Context, bucket string) (*s3.Store, error) {
	cfg := g.config(bucket)
	cfg.CreateBucket = true
	return s3.Open(ctx, cfg)
}

// removeBucket deletes bucket and its objects from versitygw's disk
// directly: Object Lock forbids it through the API, and the benchmark's
// disk must not fill up.
func (g *gateway) removeBucket(bucket string) error {
	for _, d := range []string{g.data, g.versions} {
		if err := os.RemoveAll(filepath.Join(d, bucket)); err != nil {
			return err
		}
	}
	return nil
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// gateway returns the shared versitygw, starting it on first use.
func (b *Bench) gateway() (*gateway, error) {
	if b.gw != nil {
		return b.gw, nil
	}
	gw, err := startGateway(b.peers["versitygw"].Path, filepath.Join(b.work, "s3"))
	if err != nil {
		return nil, err
	}
	b.gw = gw
	return gw, nil
}
