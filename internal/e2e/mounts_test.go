package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"evidock/agent"
	"evidock/agent/usb"
)

// TestAgentOnRealMounts runs the agent on the system's mount table: a
// recorder volume mounted under the watched root is admitted and ingested;
// a mount without a recorder's layout (a private USB stick, say) is ignored
// and never read. Needs root for mount.
func TestAgentOnRealMounts(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("TestAgentOnRealMounts needs root on Linux to mount, and CI runs as root")
		}
		t.Skip("SKIPPING: TestAgentOnRealMounts needs root on Linux to mount")
	}
	e := newEnv(t)
	root := t.TempDir()
	e.agent.Mounts = &usb.Watcher{Roots: []string{root}, Settle: 200 * time.Millisecond, Logger: e.agent.Logger}
	// Bind and tmpfs mounts are not on USB: admitted by layout alone here.
	e.agent.Admission = usb.Policy{AllowNonUSB: true}
	e.start()

	built := filepath.Join(t.TempDir(), "vol")
	files, err := shiftVolume("MNT0001").Create(context.Background(), built)
	must(t, err)
	rec := filepath.Join(root, "MNT0001")
	stick := filepath.Join(root, "STICK")
	for _, d := range []string{rec, stick} {
		must(t, os.MkdirAll(d, 0o755))
	}
	mount(t, "--bind", built, rec)
	mount(t, "-t", "tmpfs", "-o", "size=4m", "tmpfs", stick)
	must(t, os.WriteFile(filepath.Join(stick, "private.MP4"), []byte("not footage of ours"), 0o644))

	for _, r := range e.waitSettled(len(files)) {
		if r.State != agent.StateCleared || r.Volume != rec {
			t.Errorf("%s on %s: %s %q, want cleared from %s", r.FileName, r.Volume, r.State, r.Error, rec)
		}
	}
	e.waitLog("volume ignored, never read", 1)
	if recs, _ := e.state.FindRecordings(context.Background(), agent.RecordingFilter{Volume: stick}); len(recs) != 0 {
		t.Errorf("the stick was read: %d recordings from it", len(recs))
	}
}

// mount runs mount(8) with args and unmounts the target (the last argument)
// when the test ends.
func mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %v: %v %s", args, err, out)
	}
	target := args[len(args)-1]
	t.Cleanup(func() { exec.Command("umount", "-l", target).Run() })
}
