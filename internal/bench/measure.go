package main

import (
	"fmt"
	"slices"
	"time"
)

// side is one contender of a comparison. Prep and After run untimed around
// every run; Run returns how long the measured work took.
type side struct {
	Name  string
	How   string // the command or call, as the report shows it
	Bytes int64
	Items string // what Bytes counts when it is not bytes, e.g. "5000 clips"
	Prep  func() error
	Run   func() (time.Duration, error)
	After func() error

	Skip    string // why it did not run; set before alternate
	Err     error
	Samples []time.Duration
}

// Best returns the fastest run.
func (s *side) Best() time.Duration { return slices.Min(s.Samples) }

// MBps returns the best throughput in MB/s (10^6 bytes per second).
func (s *side) MBps() float64 { return float64(s.Bytes) / 1e6 / s.Best().Seconds() }

// ok reports whether s has a figure to report.
func (s *side) ok() bool { return s.Skip == "" && s.Err == nil && len(s.Samples) > 0 }

// alternate runs the sides b.cfg.Reps times each, in turn (see
// alternateN), so that a slow spell on the shared machine hits both. Before every run the
// file system is synced (and, with -drop-caches, the page cache dropped),
// so that no run pays for the previous one's writeback. A side that fails
// stops running; its error is reported in its row.
func (b *Bench) alternate(section string, sides ...*side) {
	b.alternateN(section, b.cfg.Reps, sides...)
}

// alternateN is alternate with reps runs of each side. Every other round
// runs the sides in reverse (A B, B A, A B, ...), so that no side always
// follows the same one: on this VM's disk (ext4 with online discard), a
// 2 GiB copy after one whose files were just deleted was fast and slow by
// turns, which in plain A B order favoured one side for a whole session.
func (b *Bench) alternateN(section string, reps int, sides ...*side) {
	for rep := 1; rep <= reps; rep++ {
		order := slices.Clone(sides)
		if rep%2 == 0 {
			slices.Reverse(order)
		}
		for _, s := range order {
			if s.Skip != "" || s.Err != nil {
				continue
			}
			d, err := b.runOnce(s)
			if err != nil {
				s.Err = err
				b.logf("  %s / %s run %d: FAILED: %v", section, s.Name, rep, err)
				continue
			}
			s.Samples = append(s.Samples, d)
			b.logf("  %s / %s run %d: %v, %.0f MB/s", section, s.Name, rep, d.Round(time.Millisecond), float64(s.Bytes)/1e6/d.Seconds())
		}
	}
}

func (b *Bench) runOnce(s *side) (d time.Duration, err error) {
	if s.Prep != nil {
		if err := s.Prep(); err != nil {
			return 0, fmt.Errorf("prepare: %w", err)
		}
	}
	if s.After != nil {
		defer func() {
			if aerr := s.After(); err == nil && aerr != nil {
				err = fmt.Errorf("after run: %w", aerr)
			}
		}()
	}
	if err := b.settle(); err != nil {
		return 0, err
	}
	return s.Run()
}

// settle writes back dirty pages before a timed run, and drops the page
// cache when asked to.
func (b *Bench) settle() error {
	if err := syncFS(b.work); err != nil {
		return fmt.Errorf("sync file system: %w", err)
	}
	if b.cfg.DropCaches {
		if err := dropCaches(); err != nil {
			return fmt.Errorf("drop caches: %w", err)
		}
	}
	return nil
}

// timed returns how long f took.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}
