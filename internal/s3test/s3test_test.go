package s3test

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLaunchOnTakenPort stands for another test's server taking the port
// between freeLoopbackAddr and versitygw's bind: launch may take that
// server's answer for versitygw's, but versitygw exits, which Launch sees
// and then tries another port.
func TestLaunchOnTakenPort(t *testing.T) {
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip("SKIPPING: versitygw not found: run make tools")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	s, err := newServer(bin, t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.launch(taken.Addr().String()); err != nil {
		if !strings.Contains(err.Error(), "exited") {
			t.Fatalf("launch on a taken port: %v; want it to say versitygw exited", err)
		}
		t.Logf("launch: %v", err)
		return
	}
	defer s.Stop()
	if !s.exitedWithin(10 * time.Second) {
		t.Fatal("versitygw runs on a port another listener holds; want it to exit")
	}
	if tail := s.logTail(); !strings.Contains(tail, "address already in use") {
		t.Errorf("versitygw's log %q does not say why it exited", tail)
	}
}
