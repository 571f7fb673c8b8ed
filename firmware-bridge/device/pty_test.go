package device_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"evidock/firmware-bridge/device"
	"evidock/firmware-bridge/protocol"
	"evidock/firmware-bridge/serial"
)

// openers open the terminal end of a pty as clients do.
var openers = map[string]func(path string) (io.ReadWriteCloser, error){
	"serial": func(p string) (io.ReadWriteCloser, error) { return serial.Open(p, serial.DefaultBaud) },
	"file":   func(p string) (io.ReadWriteCloser, error) { return os.OpenFile(p, os.O_RDWR, 0) },
}

// MustPTY opens a pseudo-terminal, or skips the test loudly; under CI=true
// it fails instead, as CI must run every test.
func MustPTY(tb testing.TB) *device.PTY {
	tb.Helper()
	p, err := device.OpenPTY()
	if errors.Is(err, device.ErrNoPTY) {
		msg := fmt.Sprintf("NO PSEUDO-TERMINAL: %v: the serial tests over a pty did not run", err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// startPTY serves cfg on a new pty and connects a client to its terminal
// end with open.
func startPTY(tb testing.TB, cfg device.Config, opts protocol.ClientOptions, open func(string) (io.ReadWriteCloser, error)) *harness {
	tb.Helper()
	p := MustPTY(tb)
	port, err := open(p.Path)
	if err != nil {
		tb.Fatal(err)
	}
	return start2(tb, cfg, opts, port, p.Master)
}

func TestPTY(t *testing.T) {
	dir, files := MustVolume(t, 8_000_000, 1_000_000)
	src := filepath.Join(dir, filepath.FromSlash(files[0].Path))
	for name, open := range openers {
		t.Run(name, func(t *testing.T) {
			opts := protocol.ClientOptions{Timeout: time.Second, ChunkSize: 60 << 10, LineRate: pipeRate}
			h := startPTY(t, MustConfig(t, dir), opts, open)
			ctx := context.Background()
			if id, err := h.client.Identify(ctx); err != nil || id.DeviceSerial != "DSJ0001" {
				t.Fatalf("Identify = %+v, %v", id, err)
			}
			// Bytes a cooked terminal would eat or change: GBK text is
			// full of them, and so are CRCs.
			want := protocol.Info{DeviceSerial: "DSJ0001", OfficerNo: "100234", OfficerName: "张三", UnitName: "劳动保障监察\x7e支队"}
			if got, err := h.client.SetInfo(ctx, password, want); err != nil || got != want {
				t.Fatalf("SetInfo = %+v, %v", got, err)
			}
			if got, err := h.client.Info(ctx); err != nil || got != want {
				t.Fatalf("Info = %+v, %v", got, err)
			}
			if err := h.client.SetTime(ctx, "wrong", time.Now()); !errors.Is(err, protocol.ErrBadPassword) {
				t.Errorf("wrong password: %v", err)
			}
			before, after, err := h.client.SyncTime(ctx, password)
			if err != nil || after.Abs() > 100*time.Millisecond {
				t.Errorf("SyncTime: %s -> %s, %v", before, after, err)
			}

			out, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(src)))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			began := time.Now()
			n, err := h.client.Download(ctx, filepath.Base(src), out, 0, nil)
			took := time.Since(began)
			if err != nil || n != 8_000_000 {
				t.Fatalf("Download = %d, %v", n, err)
			}
			if got, want := digestOf(t, out.Name()), digestOf(t, src); got != want {
				t.Errorf("BLAKE3 %s, want %s", got, want)
			}
			t.Logf("8 MB over a pty (%s): %s, %.1f MB/s; stats %+v", name, took.Round(time.Millisecond), 8/took.Seconds(), h.client.Stats())
		})
	}
}

// BenchmarkDownloadPTY measures download throughput over a pty by chunk
// size.
func BenchmarkDownloadPTY(b *testing.B) {
	dir, files := MustVolume(b, 8_000_000)
	name := filepath.Base(files[0].Path)
	for _, chunk := range []int{4 << 10, 16 << 10, 60 << 10} {
		b.Run(fmt.Sprintf("chunk=%dKiB", chunk>>10), func(b *testing.B) {
			h := startPTY(b, MustConfig(b, dir), protocol.ClientOptions{ChunkSize: chunk}, openers["serial"])
			var w writerAt
			b.SetBytes(8_000_000)
			for b.Loop() {
				if _, err := h.client.Download(context.Background(), name, &w, 0, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
