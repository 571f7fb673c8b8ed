package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"evidock/s3"
	"evidock/server/fixity"
	evhttp "evidock/server/http"
)

// FixityConfig says how the server re-reads stored footage to check it
// against the registry; see package server/fixity.
type FixityConfig struct {
	// Enabled runs the checker in this server. With several servers on
	// one PostgreSQL, any number may run it: they share the clips.
	Enabled bool `yaml:"enabled"`
	// Interval is how long after its last check a clip is checked again.
	Interval time.Duration `yaml:"interval"`
	// BytesPerSecond bounds how fast this server reads footage back, so
	// that checks leave the store and the network to uploads.
	BytesPerSecond int64 `yaml:"bytes_per_second"`
	// Batch is how many clips the checker claims at a time.
	Batch int `yaml:"batch"`
}

// Bounds of the fixity settings.
const (
	MinFixityInterval       = time.Minute
	MinFixityBytesPerSecond = 1_000_000
	MaxFixityBatch          = 10_000
)

// DefaultFixityConfig returns the fixity settings the config file leaves
// out: on, every 30 days, at 50 MB/s, 100 clips a claim.
func DefaultFixityConfig() FixityConfig {
	return FixityConfig{Enabled: true, Interval: fixity.DefaultInterval, BytesPerSecond: fixity.DefaultBytesPerSecond, Batch: fixity.DefaultBatch}
}

// Validate returns an error naming the first bad fixity setting and its
// fix. The settings are checked even when the checker is off, so that a
// mistake shows when the config is written, not when it is turned on.
func (f *FixityConfig) Validate() error {
	switch {
	case f.Interval < MinFixityInterval:
		return fmt.Errorf("fixity.interval %v is too short: set at least %v, in hours for real use (default %v, 30 days); every clip is read back once per interval",
			f.Interval, MinFixityInterval, fixity.DefaultInterval)
	case f.BytesPerSecond < MinFixityBytesPerSecond:
		return fmt.Errorf("fixity.bytes_per_second %d is too low: set at least %d (1 MB/s; default %d), or the checker cannot get through the footage in one interval",
			f.BytesPerSecond, MinFixityBytesPerSecond, fixity.DefaultBytesPerSecond)
	case f.Batch < 1 || f.Batch > MaxFixityBatch:
		return fmt.Errorf("fixity.batch %d: set 1 to %d clips claimed at a time (default %d)", f.Batch, MaxFixityBatch, fixity.DefaultBatch)
	}
	return nil
}

// reportObjectLock says at start whether the bucket keeps originals under
// Object Lock, so that an unlocked bucket is noticed on day one.
func reportObjectLock(logger *slog.Logger, store *s3.Store) {
	if store.Locked() {
		logger.Info("object store bucket has Object Lock: objects the server writes get COMPLIANCE retention",
			"bucket", store.Bucket(), "retention_days", retentionDays(store))
		return
	}
	logger.Warn("object store bucket has NO Object Lock: stored originals are protected only by the store's access policy; ask the storage administrator for a bucket with Object Lock",
		"bucket", store.Bucket())
}

func retentionDays(store *s3.Store) int { return int(store.Retention() / (24 * time.Hour)) }

// newChecker returns the fixity checker cfg asks for, or nil if it is off.
func newChecker(cfg FixityConfig, db store, objects *s3.Store, logger *slog.Logger) *fixity.Checker {
	if !cfg.Enabled {
		logger.Warn("fixity checks are off in this server (fixity.enabled: false): stored footage is not re-read unless another server checks it")
		return nil
	}
	return &fixity.Checker{
		Store:    db,
		Objects:  objects,
		Interval: cfg.Interval,
		Limiter:  fixity.NewLimiter(cfg.BytesPerSecond),
		Batch:    cfg.Batch,
		Logger:   logger,
	}
}

// statusConfig returns what the status, alarm and metrics routes report.
func statusConfig(cfg Config, db store, objects *s3.Store, checker *fixity.Checker) evhttp.StatusConfig {
	sc := evhttp.StatusConfig{
		Version:        version(),
		DatabaseDriver: cfg.Database.Driver,
		Bucket:         objects.Bucket(),
		ObjectLock:     objects.Locked(),
		RetentionDays:  retentionDays(objects),
		Fixity:         db,
	}
	if checker != nil {
		sc.FixityEnabled, sc.FixityInterval, sc.FixityBytesPerSecond = true, cfg.Fixity.Interval, cfg.Fixity.BytesPerSecond
		sc.Checker = checker
	}
	return sc
}

// runFixity runs checker (if not nil) until the returned stop is called;
// stop waits for it to give back the clips it claimed, so call it before
// the database is closed.
func runFixity(ctx context.Context, checker *fixity.Checker, logger *slog.Logger) (stop func()) {
	if checker == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := checker.Run(ctx); err != nil {
			logger.Error("fixity checker stopped: stored footage is no longer checked", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
