package e2e_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"

	"evidock"
	"evidock/agent"
	"evidock/agent/bridge"
	"evidock/firmware-bridge/device"
	"evidock/firmware-bridge/protocol"
	"evidock/firmware-bridge/serial"
	"evidock/firmware-bridge/sim"
)

// serveOnPTY runs dev on a new pseudo-terminal and returns the real serial
// port the agent opens on its other end.
func serveOnPTY(t *testing.T, dev *device.Device) io.ReadWriteCloser {
	t.Helper()
	p, err := device.OpenPTY()
	if errors.Is(err, device.ErrNoPTY) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminals: %v", err)
		}
		t.Skipf("SKIPPING: no pseudo-terminals here: %v", err)
	}
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { dev.Serve(ctx, p.Master); close(done) }()
	t.Cleanup(func() { cancel(); p.Close(); <-done })
	port, err := serial.Open(p.Path, 0)
	must(t, err)
	return port
}

// serialRecorder is a recorder without mass storage, its footage in dir.
func serialRecorder(t *testing.T, dir string, faults device.Faults, password string) *device.Device {
	t.Helper()
	dev, err := device.New(device.Config{
		Dir:           dir,
		Info:          protocol.Info{DeviceSerial: "SER0001", OfficerNo: "100234"},
		Password:      password,
		NoMassStorage: true,
		Faults:        faults,
	})
	must(t, err)
	return dev
}

// TestSerialPullThroughAgent docks a recorder without mass storage over a
// real pseudo-terminal whose link garbles and drops bytes: the agent pulls
// every recording over serial (retrying damaged frames), ingests the pulled
// volume, and every stored object holds the original bytes. A link that
// then stalls mid-transfer gives a clear error, keeps only verified bytes,
// and the next dock resumes from there.
func TestSerialPullThroughAgent(t *testing.T) {
	e := newEnv(t)
	built := filepath.Join(t.TempDir(), "SER0001")
	simRecs, _ := sim.Consecutive(time.Date(2026, 11, 25, 9, 0, 0, 0, evidock.ChinaTime), time.Minute, 1,
		[]int64{3 << 20, 700 << 10, 90 << 10, 5000}, []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute})
	files, err := sim.Volume{DeviceSerial: "SER0001", OfficerNo: "100234", Recordings: simRecs}.Create(context.Background(), built)
	must(t, err)
	want := map[string]string{}
	for _, f := range files {
		d, _ := fileBLAKE3(t, filepath.Join(built, f.Path))
		want[filepath.Base(f.Path)] = d
	}
	spool := t.TempDir()
	dock := &bridge.Dock{Password: "pw", State: e.state, Recorders: e.client, Logger: e.agent.Logger, SpoolDir: spool,
		Options: protocol.ClientOptions{Timeout: 300 * time.Millisecond, LineRate: 10 << 20}} // a pty is fast

	// First dock: the link stalls after 2 MB; the large recording is cut.
	stalled := serveOnPTY(t, serialRecorder(t, built, device.Faults{StallAfter: 2 << 20}, "pw"))
	res, err := dock.Handle(context.Background(), stalled)
	if err == nil || !strings.Contains(err.Error(), "resumes at byte") {
		t.Fatalf("stalled dock: %v, want an error saying where it resumes", err)
	}
	partials, _ := filepath.Glob(filepath.Join(spool, "SER0001", "DCIM", "*.partial"))
	if len(partials) == 0 {
		t.Fatal("no verified partial download kept for the next dock")
	}
	if res == nil || res.Spool == "" {
		t.Fatalf("stalled dock result %+v", res)
	}

	// Second dock over a link that garbles and drops bytes: it resumes and
	// finishes, retrying what arrives damaged.
	flaky := serveOnPTY(t, serialRecorder(t, built, device.Faults{Seed: 7, GarbleRate: 5e-6, DropRate: 5e-7}, "pw"))
	res, err = dock.Handle(context.Background(), flaky)
	must(t, err)
	if res.MassStorage || res.Spool == "" {
		t.Fatalf("dock result %+v, want a pulled spool volume", res)
	}
	must(t, e.agent.ScanVolume(context.Background(), res.Spool))
	e.start()
	recs := e.waitSettled(len(files))
	for _, r := range recs {
		if r.State != agent.StateKept || !strings.Contains(r.Error, "pulled over serial") {
			t.Errorf("%s: %s %q, want kept (the recorder keeps its copy)", r.FileName, r.State, r.Error)
		}
		rc, err := e.store.OpenObject(context.Background(), r.ObjectKey())
		must(t, err)
		h := blake3.New()
		io.Copy(h, rc)
		rc.Close()
		if string(h.Sum(nil)) != want[r.FileName] {
			t.Errorf("%s: stored bytes differ from the recorder's", r.FileName)
		}
	}
	if len(recs) != len(files) {
		t.Errorf("%d recordings ingested, %d on the recorder", len(recs), len(files))
	}
}

// TestBridgeWrongPassword gives the dock the wrong recorder password: the
// clock is not set, the recorder is not switched, and the error says why.
func TestBridgeWrongPassword(t *testing.T) {
	e := newEnv(t)
	built := filepath.Join(t.TempDir(), "PWD0001")
	_, err := shiftVolume("PWD0001").Create(context.Background(), built)
	must(t, err)
	dev, err := device.New(device.Config{Dir: built, Info: protocol.Info{DeviceSerial: "PWD0001", OfficerNo: "100234"}, Password: "right"})
	must(t, err)
	dock := &bridge.Dock{Password: "wrong", State: e.state, Recorders: e.client, Logger: e.agent.Logger}
	res, err := dock.Handle(context.Background(), serveOnPTY(t, dev))
	if !errors.Is(err, protocol.ErrBadPassword) || res == nil || res.Synced || res.MassStorage {
		t.Fatalf("wrong password: result %+v, error %v; want ErrBadPassword and nothing switched", res, err)
	}
}
