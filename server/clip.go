package server

import (
	"time"

	"evidock"
)

// MaxClockOffset bounds the clock offset a clip may state. A recorder whose
// clock battery ran flat restarts at its epoch, decades off; an offset
// beyond a century is not a clock but damaged data, and one beyond about
// 292 years would overflow the arithmetic that corrects the start time.
const MaxClockOffset = 100 * 365 * 24 * time.Hour

// ValidateClip is c.Validate (which fills in a zero CorrectedStartedAt) with
// the limits storage adds: it returns EINVALID if the clock offset is beyond
// MaxClockOffset either way or the corrected start falls outside the years
// 1 to 9999, which no store can keep in order.
//
// It belongs with evidock.Clip.Validate; it lives here until the domain has
// it.
func ValidateClip(c *evidock.Clip) error {
	if max := MaxClockOffset.Milliseconds(); c.ClockOffsetMS > max || c.ClockOffsetMS < -max {
		return evidock.Errorf(evidock.EINVALID, "clip: clock_offset_ms %d is more than a century: a recorder clock is never that far off", c.ClockOffsetMS)
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if y := c.CorrectedStartedAt.UTC().Year(); y < 1 || y > 9999 {
		return evidock.Errorf(evidock.EINVALID, "clip: corrected_started_at %s is outside the years 1 to 9999", c.CorrectedStartedAt.Format(time.RFC3339))
	}
	return nil
}
