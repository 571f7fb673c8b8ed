package usb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needRoot skips t, loudly, unless it runs as root with mount(8) working;
// under CI=true (CI runs as root) it fails instead.
func needRoot(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "it must run as root to mount file systems"
	} else if _, err := exec.LookPath("mount"); err != nil {
		why = "mount(8) is not installed"
	}
	if why == "" {
		return
	}
	skipOrFail(t, fmt.Sprintf("NEEDS ROOT: %s; detection through real mounts was not tested (run `sudo go test -run %s ./agent/usb/`)", why, t.Name()))
}

// skipOrFail skips t loudly, or fails it under CI=true: CI runs as root and
// must run every test.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, so this is a failure: %s", msg)
	}
	t.Skipf("SKIPPING: %s", msg)
}

// mustMount mounts with mount(8) and unmounts (lazily) at cleanup. If
// mounting is refused (a container without CAP_SYS_ADMIN), it skips t like
// needRoot does.
func mustMount(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("mount", args...).CombinedOutput()
	if err != nil {
		skipOrFail(t, fmt.Sprintf("MOUNTING DOES NOT WORK HERE: mount %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out))))
	}
	dir := args[len(args)-1]
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

func mustUmount(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
		t.Fatalf("umount %s: %v: %s", dir, err, out)
	}
}

func writeRecorder(t *testing.T, dir string) {
	t.Helper()
	media := filepath.Join(dir, "DCIM", "100MEDIA")
	if err := os.MkdirAll(media, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(media, recording), []byte("not really an MP4"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWatcherRealMounts docks and undocks a tmpfs "recorder" and a
// loop-mounted ext4 image under a mount root, with a mount outside the root
// that must never be reported.
func TestWatcherRealMounts(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	root := filepath.Join(base, "media")
	outside := filepath.Join(base, "elsewhere", "REC")
	rec1 := filepath.Join(root, "evidock", "REC 1") // a space: \040 in mountinfo
	rec2 := filepath.Join(root, "REC2")
	early := filepath.Join(root, "EARLY")
	for _, d := range []string{outside, rec1, rec2, early} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Mounted before the watcher starts: reported too.
	mustMount(t, "-t", "tmpfs", "-o", "size=1m", "evidock-early", early)

	w := &Watcher{Roots: []string{root}, Settle: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan Event, 16)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, events) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil on cancel", err)
		}
	})

	wait := func(t *testing.T, kind EventKind, mp string) Volume {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case ev := <-events:
				if strings.HasPrefix(ev.Volume.MountPoint, filepath.Dir(outside)) {
					t.Fatalf("mount outside the roots reported: %v %v", ev.Kind, ev.Volume)
				}
				if ev.Kind == kind && ev.Volume.MountPoint == mp {
					t.Logf("%v %v", ev.Kind, ev.Volume)
					return ev.Volume
				}
				t.Fatalf("got %v %v, want %v %s", ev.Kind, ev.Volume, kind, mp)
			case err := <-done:
				t.Fatalf("Run returned %v", err)
			case <-deadline:
				t.Fatalf("no %v event for %s within 10s", kind, mp)
			}
		}
	}

	v := wait(t, Mounted, early)
	if v.FSType != "tmpfs" || v.USB != nil || v.Device != "evidock-early" {
		t.Errorf("early volume = %+v, want tmpfs evidock-early, not USB", v)
	}

	mustMount(t, "-t", "tmpfs", "-o", "size=1m", "tmpfs", outside)
	mustMount(t, "-t", "tmpfs", "-o", "size=4m", "evidock-rec1", rec1)
	writeRecorder(t, rec1)
	v = wait(t, Mounted, rec1)
	if v.FSType != "tmpfs" || v.USB != nil {
		t.Errorf("volume = %+v, want tmpfs, not USB", v)
	}
	if ok, why := (Policy{AllowNonUSB: true}).Admit(v, os.DirFS(v.MountPoint)); !ok {
		t.Errorf("Admit(tmpfs recorder, AllowNonUSB) = false: %s", why)
	}
	if ok, why := (Policy{Allow: Allowlist{{0x2e3c, 0x5740}}}).Admit(v, os.DirFS(v.MountPoint)); ok {
		t.Errorf("Admit(tmpfs recorder, USB only) = true: %s", why)
	}

	mustUmount(t, rec1)
	wait(t, Unmounted, rec1)
	mustUmount(t, early)
	wait(t, Unmounted, early)

	// A loop-mounted ext4 image: a real block device, mapped through sysfs.
	t.Run("ext4 on loop", func(t *testing.T) {
		mkfs, err := exec.LookPath("mkfs.ext4")
		if err != nil {
			skipOrFail(t, "NO mkfs.ext4 (apt-get install e2fsprogs): detection of a loop-mounted ext4 image was not tested")
		}
		img := filepath.Join(base, "recorder.img")
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, 16<<20); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(mkfs, "-q", "-F", "-L", "REC2", img).CombinedOutput(); err != nil {
			t.Fatalf("mkfs.ext4: %v: %s", err, out)
		}
		mustMount(t, "-o", "loop", img, rec2)
		writeRecorder(t, rec2)
		v := wait(t, Mounted, rec2)
		if v.FSType != "ext4" || !strings.HasPrefix(v.Device, "/dev/loop") || v.USB != nil {
			t.Errorf("loop volume = %+v, want ext4 on /dev/loopN, not USB", v)
		}
		if ok, why := (Policy{AllowNonUSB: true}).Admit(v, os.DirFS(v.MountPoint)); !ok {
			t.Errorf("Admit(ext4 recorder, AllowNonUSB) = false: %s", why)
		}
		mustUmount(t, rec2)
		wait(t, Unmounted, rec2)
	})

	// Nothing else, in particular nothing about the mount outside the root.
	mustUmount(t, outside)
	select {
	case ev := <-events:
		t.Errorf("unexpected event %v %v", ev.Kind, ev.Volume)
	case <-time.After(2 * w.Settle):
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
