package device

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock is a recorder's real-time clock: it starts off the host clock by an
// offset and runs fast or slow by a drift, as cheap crystals do.
type Clock struct {
	now func() time.Time // the host clock
	ppm float64          // drift: how many microseconds it gains per second

	mu       sync.Mutex
	base     time.Time // device time at hostBase
	hostBase time.Time
}

// NewClock returns a clock offset from now() by offset that gains ppm parts
// per million (negative: loses). now nil means time.Now.
func NewClock(offset time.Duration, ppm float64, now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	h := now()
	return &Clock{now: now, ppm: ppm, base: h.Add(offset), hostBase: h}
}

// Time returns the device time.
func (c *Clock) Time() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.now().Sub(c.hostBase)
	return c.base.Add(el + time.Duration(float64(el)*c.ppm/1e6))
}

// Set sets the device time to t; the drift goes on from there.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.hostBase = t, c.now()
}

// ParseDrift parses a clock drift: "5s/day", "-2s/day", "300ms/hour",
// "30ppm" or "0". It returns parts per million, positive for a clock that
// gains, or an error saying what form it wants.
func ParseDrift(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if v, ok := strings.CutSuffix(s, "ppm"); ok {
		ppm, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || ppm <= -1e6 || ppm > 1e6 {
			return 0, fmt.Errorf("drift %q: want a number of ppm like 30ppm", s)
		}
		return ppm, nil
	}
	amount, per, ok := strings.Cut(s, "/")
	periods := map[string]time.Duration{"day": 24 * time.Hour, "d": 24 * time.Hour, "hour": time.Hour, "h": time.Hour}
	p, known := periods[per]
	d, err := time.ParseDuration(amount)
	if !ok || !known || err != nil || d.Abs() >= p {
		return 0, fmt.Errorf("drift %q: want a gain per day or hour like 5s/day or -300ms/hour, or 30ppm", s)
	}
	return float64(d) / float64(p) * 1e6, nil
}
