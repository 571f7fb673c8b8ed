// Package browsertest starts headless Chromium for the tests of evidock's
// pages (the dock screen, the case server's web UI), the same way for both:
// a fresh profile, no network beyond the page under test, and every script
// error collected.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Environment variables: EnvChromium names the browser binary (default
// /usr/bin/chromium or $PATH); EnvScreenshots is where tests write their
// screenshots (default the test's artifact directory).
const (
	EnvChromium    = "EVIDOCK_CHROMIUM"
	EnvScreenshots = "EVIDOCK_SCREENSHOTS"
)

// Chromium returns the browser binary, or skips the test with a loud
// message, or fails it under CI=true.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not found: install it with `apt-get install -y chromium fonts-noto-cjk` (Debian), or set " + EnvChromium
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip("SKIPPING: " + msg)
	return ""
}

// ScreenshotDir returns (creating it) the directory for screenshots.
func ScreenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		dir = t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// Browser is a running headless Chromium.
type Browser struct {
	Ctx context.Context // for chromedp.Run

	mu       sync.Mutex
	problems []string
}

// Problems returns the script exceptions and console errors seen so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

func (b *Browser) add(p string) {
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// Start runs the browser at exe with a window of width×height and any extra
// options, and stops it when the test ends. Chromium's own background
// traffic is turned off: the tests reach only their loopback servers.
func Start(t *testing.T, exe string, width, height int, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.WindowSize(width, height),
	}, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			b.add(fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, desc))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				b.add("console.error")
			}
		}
	}))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b.Ctx = ctx
	return b
}
