package device

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// PasswordMode is how the device treats a wrong password.
type PasswordMode int

// Password modes; recorders in the field show all three.
const (
	// PasswordReject answers EBADPASSWORD every time.
	PasswordReject PasswordMode = iota
	// PasswordLockout answers EBADPASSWORD, and ELOCKED to every password
	// command, right or wrong, for LockoutFor after LockoutAfter wrong ones
	// in a row.
	PasswordLockout
	// PasswordSilent does not answer a wrong password at all.
	PasswordSilent
)

// ParsePasswordMode parses "reject", "lockout" or "silent".
func ParsePasswordMode(s string) (PasswordMode, error) {
	switch strings.ToLower(s) {
	case "reject", "":
		return PasswordReject, nil
	case "lockout":
		return PasswordLockout, nil
	case "silent":
		return PasswordSilent, nil
	}
	return 0, fmt.Errorf("password mode %q: want reject, lockout or silent", s)
}

// String returns the mode's name for ParsePasswordMode.
func (m PasswordMode) String() string {
	switch m {
	case PasswordLockout:
		return "lockout"
	case PasswordSilent:
		return "silent"
	}
	return "reject"
}

// Faults make the simulated link and device misbehave, as cables, USB-serial
// chips and firmware do. The zero value is a perfect link.
type Faults struct {
	// Seed makes the random faults repeatable.
	Seed uint64
	// GarbleRate is the chance that a byte crossing the link, either way,
	// has one bit flipped.
	GarbleRate float64
	// DropRate is the chance that a byte crossing the link, either way, is
	// lost.
	DropRate float64
	// BytesPerSecond limits how fast the device sends; 0 is unlimited.
	BytesPerSecond int
	// StallAfter makes the device stop answering, for good, once it has
	// sent this many bytes: in the middle of a frame if that is where the
	// count runs out. 0 is never.
	StallAfter int64
}

// Validate returns an error naming the first fault setting out of range.
func (f Faults) Validate() error {
	switch {
	case f.GarbleRate < 0 || f.GarbleRate >= 1:
		return fmt.Errorf("garble rate %g: want 0 <= rate < 1", f.GarbleRate)
	case f.DropRate < 0 || f.DropRate >= 1:
		return fmt.Errorf("drop rate %g: want 0 <= rate < 1", f.DropRate)
	case f.BytesPerSecond < 0:
		return fmt.Errorf("bytes per second %d: must not be negative", f.BytesPerSecond)
	case f.StallAfter < 0:
		return fmt.Errorf("stall after %d bytes: must not be negative", f.StallAfter)
	}
	return nil
}

// link wraps the device's side of a serial line and applies the faults.
type link struct {
	ctx    context.Context
	rw     io.ReadWriter
	f      Faults
	lim    *rate.Limiter
	mu     sync.Mutex // guards rng, sent and stalled
	rng    *rand.Rand
	sent   int64
	stall  bool
	noisy  bool
	outBuf []byte
}

func newLink(ctx context.Context, rw io.ReadWriter, f Faults) *link {
	l := &link{ctx: ctx, rw: rw, f: f, rng: rand.New(rand.NewPCG(f.Seed, 0x65766964)), noisy: f.GarbleRate > 0 || f.DropRate > 0}
	if f.BytesPerSecond > 0 {
		l.lim = rate.NewLimiter(rate.Limit(f.BytesPerSecond), l.piece())
	}
	return l
}

// piece is how many bytes go out at a time on a slow link: about 20 ms.
func (l *link) piece() int { return max(1, l.f.BytesPerSecond/50) }

// stalled reports whether the device has stopped answering.
func (l *link) stalled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stall
}

// noise garbles and drops bytes of p in place and returns what is left.
func (l *link) noise(p []byte) []byte {
	if !l.noisy {
		return p
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := p[:0]
	for _, c := range p {
		if l.f.DropRate > 0 && l.rng.Float64() < l.f.DropRate {
			continue
		}
		if l.f.GarbleRate > 0 && l.rng.Float64() < l.f.GarbleRate {
			c ^= 1 << l.rng.IntN(8)
		}
		out = append(out, c)
	}
	return out
}

// Read reads from the line, minus dropped bytes and with garbled ones.
func (l *link) Read(p []byte) (int, error) {
	for {
		n, err := l.rw.Read(p)
		kept := len(l.noise(p[:n]))
		if kept > 0 || err != nil {
			return kept, err
		}
	}
}

// Write sends p, paced, garbled and cut off as the faults say. Once the
// device has stalled, it swallows everything.
func (l *link) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.stall {
		l.mu.Unlock()
		return len(p), nil
	}
	out := p
	if l.f.StallAfter > 0 && l.sent+int64(len(p)) >= l.f.StallAfter {
		out = p[:l.f.StallAfter-l.sent]
		l.stall = true
	}
	l.sent += int64(len(out))
	l.mu.Unlock()

	l.outBuf = append(l.outBuf[:0], out...)
	out = l.noise(l.outBuf)
	for len(out) > 0 {
		n := len(out)
		if l.lim != nil {
			n = min(n, l.piece())
			if err := l.lim.WaitN(l.ctx, n); err != nil {
				return 0, err
			}
		}
		if _, err := l.rw.Write(out[:n]); err != nil {
			return 0, err
		}
		out = out[n:]
	}
	return len(p), nil
}
