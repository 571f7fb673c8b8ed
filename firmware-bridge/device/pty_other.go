//go:build !linux

package device

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// PTY is a pseudo-terminal standing in for a recorder's USB serial port.
// This build has none: OpenPTY always fails.
type PTY struct {
	Master *os.File
	Path   string
}

// OpenPTY returns an error wrapping ErrNoPTY: simulating a recorder on a
// pseudo-terminal needs Linux. On Windows, a virtual null-modem pair
// (com0com) can carry the simulated device instead.
func OpenPTY() (*PTY, error) {
	return nil, fmt.Errorf("open pty: %w on %s", ErrNoPTY, runtime.GOOS)
}

// Drain does nothing.
func (p *PTY) Drain(timeout time.Duration) {}

// Close does nothing.
func (p *PTY) Close() error { return nil }
