package agent

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"evidock"
)

// BandwidthSchedule caps upload bandwidth by time of day, so that a shift
// change's uploads do not flood the bureau's link in office hours and run
// at full speed at night.
type BandwidthSchedule struct {
	// DefaultMBps applies outside every window; 0 means unlimited.
	DefaultMBps float64           `yaml:"default_mbps"`
	Windows     []BandwidthWindow `yaml:"windows"`
}

// BandwidthWindow caps uploads to MBps (megabytes per second; 0 means
// unlimited) from From until To, "HH:MM" in China time. A window may cross
// midnight (22:00 to 06:00).
type BandwidthWindow struct {
	From string  `yaml:"from"`
	To   string  `yaml:"to"`
	MBps float64 `yaml:"mbps"`
}

// Validate returns an error naming the first bad window.
func (s BandwidthSchedule) Validate() error {
	if s.DefaultMBps < 0 {
		return fmt.Errorf("default_mbps %v is negative: use 0 for unlimited", s.DefaultMBps)
	}
	for i, w := range s.Windows {
		if _, err := clockMinutes(w.From); err != nil {
			return fmt.Errorf("windows[%d].from: %w", i, err)
		}
		if _, err := clockMinutes(w.To); err != nil {
			return fmt.Errorf("windows[%d].to: %w", i, err)
		}
		if w.MBps < 0 {
			return fmt.Errorf("windows[%d].mbps %v is negative: use 0 for unlimited", i, w.MBps)
		}
	}
	return nil
}

// LimitAt returns the cap in bytes per second at t, or rate.Inf. The first
// window holding t wins.
func (s BandwidthSchedule) LimitAt(t time.Time) rate.Limit {
	t = t.In(evidock.ChinaTime)
	now := t.Hour()*60 + t.Minute()
	mbps := s.DefaultMBps
	for _, w := range s.Windows {
		from, _ := clockMinutes(w.From)
		to, _ := clockMinutes(w.To)
		if from <= to && now >= from && now < to || from > to && (now >= from || now < to) {
			mbps = w.MBps
			break
		}
	}
	if mbps <= 0 {
		return rate.Inf
	}
	return rate.Limit(mbps * 1e6)
}

// clockMinutes parses "HH:MM" into minutes after midnight.
func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day: write HH:MM, e.g. 08:30", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// throttle keeps UploadLimiter's rate at what Bandwidth says for now,
// checking every half minute, until ctx is done.
func (a *Agent) throttle(ctx context.Context) error {
	last := rate.Limit(-1)
	for {
		if l := a.Bandwidth.LimitAt(time.Now()); l != last {
			a.UploadLimiter.SetLimit(l)
			if l == rate.Inf {
				a.Logger.Info("upload bandwidth unlimited")
			} else {
				a.Logger.Info("upload bandwidth capped", "mbps", float64(l)/1e6)
			}
			last = l
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(30 * time.Second):
		}
	}
}
