// Package s3test starts a real S3-compatible server (versitygw) on a free
// loopback port for tests, so that every test that touches object storage
// runs against real S3 semantics rather than a mock.
package s3test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"evidock/s3"
)

// Server is a running versitygw with one bucket.
type Server struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	DataDir   string
	// CAFile is the certificate (its own CA, for 127.0.0.1) of a server
	// started with StartTLS, and KeyFile its key; empty over plain HTTP.
	// Other test servers on loopback may serve with them too.
	CAFile   string
	KeyFile  string
	addr     string
	bin, dir string
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
}

// Config returns a Config for the server's bucket.
func (s *Server) Config() s3.Config {
	cfg := s3.DefaultConfig()
	cfg.Endpoint, cfg.Bucket, cfg.CAFile = s.Endpoint, s.Bucket, s.CAFile
	cfg.AccessKeyID, cfg.SecretAccessKey = s.AccessKey, s.SecretKey
	return cfg
}

// MustOpen returns a Store on the server's bucket or fails the test.
func (s *Server) MustOpen(tb testing.TB) *s3.Store {
	tb.Helper()
	st, err := s3.Open(context.Background(), s.Config())
	if err != nil {
		tb.Fatalf("open s3 store: %v", err)
	}
	return st
}

// Binary returns the path of the versitygw binary: $EVIDOCK_VERSITYGW, the
// project's .tools/bin/versitygw (installed by scripts/tools.sh), or $PATH.
func Binary() (string, error) {
	if p := os.Getenv("EVIDOCK_VERSITYGW"); p != "" {
		return p, nil
	}
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("versitygw")
}

// Start runs versitygw with its data under tb.TempDir, creates a bucket and
// stops the server when the test ends. Without versitygw the test is skipped
// with a loud message, or fails under CI=true.
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, false)
}

// StartTLS is Start over https, with a certificate for 127.0.0.1 that is
// its own CA (Server.CAFile): a store whose CA the machine does not trust.
func StartTLS(tb testing.TB) *Server {
	tb.Helper()
	return start(tb, true)
}

func start(tb testing.TB, withTLS bool) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		msg := "versitygw not found: run scripts/tools.sh (or make tools) to install it into .tools/bin"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPING: " + msg)
	}
	s, err := Launch(bin, tb.TempDir(), withTLS)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Launch runs versitygw from bin with its data under dir, on a free
// loopback port (over https with a certificate of its own, if withTLS),
// and creates the bucket; the caller stops it. It returns an error naming
// the log in dir if versitygw does not start.
func Launch(bin, dir string, withTLS bool) (*Server, error) {
	s, err := newServer(bin, dir, withTLS)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		if lastErr = s.launch(addr); lastErr != nil {
			continue
		}
		cfg := s.Config()
		cfg.CreateBucket = true
		if _, err = s3.Open(context.Background(), cfg); err == nil {
			return s, nil
		}
		// What answered on addr may have been another server that took
		// the port first, versitygw then failing to bind it: try another
		// port.
		if !s.exitedWithin(time.Second) {
			s.Stop()
			return nil, fmt.Errorf("create bucket: %w", err)
		}
		lastErr = fmt.Errorf("versitygw on %s exited (%s): %w", addr, s.logTail(), err)
		s.cmd = nil
	}
	return nil, fmt.Errorf("versitygw did not start: %w (log in %s)", lastErr, dir)
}

// newServer prepares, but does not start, a versitygw with its data under
// dir.
func newServer(bin, dir string, withTLS bool) (*Server, error) {
	s := &Server{AccessKey: "evidocktest", SecretKey: "evidocktestsecret", Bucket: "footage",
		DataDir: filepath.Join(dir, "data"), bin: bin, dir: dir}
	for _, d := range []string{s.DataDir, s.VersionsDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if withTLS {
		s.CAFile, s.KeyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := writeCertificate(s.CAFile, s.KeyFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// VersionsDir is where versitygw keeps old object versions.
func (s *Server) VersionsDir() string { return filepath.Join(s.dir, "versions") }

// PID returns the process ID of the running versitygw.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// launch starts versitygw on addr and waits until it listens.
func (s *Server) launch(addr string) error {
	// --keep-alive as the README tells deployments: without it versitygw
	// closes every connection after one answer.
	args := []string{"--port", addr, "--keep-alive"}
	scheme := "http://"
	if s.CAFile != "" {
		args, scheme = append(args, "--cert", s.CAFile, "--key", s.KeyFile), "https://"
	}
	cmd := exec.Command(s.bin, append(args, "posix", "--versioning-dir", s.VersionsDir(), s.DataDir)...)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.AccessKey, "ROOT_SECRET_ACCESS_KEY="+s.SecretKey)
	logf, err := os.OpenFile(filepath.Join(s.dir, "versitygw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := waitListening(addr, 10*time.Second, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%w (%s)", err, s.logTail())
	}
	s.cmd, s.exited, s.addr, s.Endpoint = cmd, exited, addr, scheme+addr
	return nil
}

// exitedWithin reports whether the server's process exits within d.
func (s *Server) exitedWithin(d time.Duration) bool {
	select {
	case <-s.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// logTail returns the end of versitygw's log, for error messages.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "versitygw.log"))
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		b = b[len(b)-300:]
	}
	return "log: " + string(b)
}

// Stop kills the server, as an outage would; its data stays.
func (s *Server) Stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.cmd = nil
	}
}

// Restart starts the server again on the same address and data after Stop.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.launch(s.addr); err != nil {
		tb.Fatalf("restart versitygw: %v", err)
	}
}

// freeLoopbackAddr returns a loopback address with a port that was free a
// moment ago; versitygw cannot report a port it picked itself.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitListening waits until something listens on addr, or the server
// exits, or timeout passes.
func waitListening(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited before it listened on %s", addr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listening on %s after %v: %w", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// repoRoot returns the directory holding go.mod above the working directory.
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
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// writeCertificate writes a self-signed certificate for 127.0.0.1, valid
// for a day, and its key, as PEM.
func writeCertificate(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "evidock test object store"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}
