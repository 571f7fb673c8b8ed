package fixity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"evidock"
)

// Defaults of a Checker's settings.
const (
	DefaultInterval       = 30 * 24 * time.Hour
	DefaultBytesPerSecond = 50_000_000
	DefaultBatch          = 100
	DefaultLease          = 5 * time.Minute
	DefaultRetryAfter     = 5 * time.Minute
	DefaultIdle           = time.Minute
)

// maxBurst bounds the limiter's burst, and so the bytes read in one go.
const maxBurst = 1 << 20

// NewLimiter returns a limiter of bytesPerSecond for Checker.Limiter, with a
// burst of a second's bytes up to 1 MiB, or nil (no limit) if bytesPerSecond
// is not positive.
func NewLimiter(bytesPerSecond int64) *rate.Limiter {
	if bytesPerSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(bytesPerSecond), int(min(bytesPerSecond, maxBurst)))
}

// errStoreDown stops a round of checks when the object store cannot be
// reached: every other clip would fail alike.
var errStoreDown = errors.New("object store unreachable")

// errLeaseLost abandons a check whose lease another holder has taken.
var errLeaseLost = errors.New("lease lost")

// Checker re-reads registered clips from the object store and checks them
// against the registry; see the package comment. Set Store and Objects;
// the other fields have defaults. Do not change the fields once Run or
// CheckDue has started.
type Checker struct {
	// Store keeps the schedule, the checks and the alarms.
	Store Store
	// Objects reads the footage back.
	Objects evidock.ObjectReader
	// Interval is how long after its last verdict a clip is checked again
	// (DefaultInterval if 0).
	Interval time.Duration
	// Limiter paces the bytes read; nil reads as fast as the store gives
	// them. See NewLimiter.
	Limiter *rate.Limiter
	// Batch is how many clips one claim leases (DefaultBatch if 0).
	Batch int
	// Lease is how long a claim holds a clip; while a clip is read, its
	// lease is renewed every third of it (DefaultLease if 0).
	Lease time.Duration
	// RetryAfter is how long the Checker waits after the object store or
	// the database could not be reached, and how long an unreadable clip
	// waits before it is tried again (DefaultRetryAfter if 0).
	RetryAfter time.Duration
	// Idle is how long Run waits before looking again when no clip is due
	// (DefaultIdle if 0).
	Idle time.Duration
	// Holder names this Checker in leases and in the history; NewHolder()
	// if empty.
	Holder string
	// Logger gets one line per failed check ("ALARM" at ERROR for a
	// missing or changed object) and per round; slog.Default() if nil.
	Logger *slog.Logger

	initOnce       sync.Once
	initErr        error
	checks         [4]atomic.Int64 // by index in Results
	storeDownSince atomic.Pointer[time.Time]
}

// MaxUnreadable is how many objects in a row a Checker may fail to read,
// each for a reason of its own (refused, a server error), before it takes
// the store to be failing and waits RetryAfter rather than mark every clip
// unreadable.
const MaxUnreadable = 3

// StoreUnreachableSince returns when this Checker found the object store
// unreachable, if it has not read an object since; nil while the store
// answers.
func (c *Checker) StoreUnreachableSince() *time.Time { return c.storeDownSince.Load() }

// NewHolder returns a name for a Checker that no other running Checker has:
// the host name, the process ID and random digits.
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 4)
	rand.Read(b) // never fails
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// init fills in the defaults once, or returns an error if Store or Objects
// is missing or a setting is out of range.
func (c *Checker) init() error {
	c.initOnce.Do(func() { c.initErr = c.setDefaults() })
	return c.initErr
}

func (c *Checker) setDefaults() error {
	if c.Store == nil || c.Objects == nil {
		return errors.New("fixity: the checker needs a Store and an object store")
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if c.Idle == 0 {
		c.Idle = DefaultIdle
	}
	if c.Holder == "" {
		c.Holder = NewHolder()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RetryAfter < 0 || c.Idle < 0 {
		return fmt.Errorf("fixity: retry after %v and idle %v must not be negative", c.RetryAfter, c.Idle)
	}
	return ValidateClaim(c.Holder, c.Batch, c.Interval, c.Lease)
}

// Checks returns how many checks this Checker has recorded since it was
// made, by result; every result is present.
func (c *Checker) Checks() map[Result]int64 {
	m := make(map[Result]int64, len(Results))
	for i, r := range Results {
		m[r] = c.checks[i].Load()
	}
	return m
}

func (c *Checker) count(r Result) {
	for i, v := range Results {
		if v == r {
			c.checks[i].Add(1)
		}
	}
}

// Run checks due clips until ctx ends, then returns nil. It waits Idle when
// no clip is due and RetryAfter when the database or the object store
// cannot be reached, so that an outage is waited out rather than ended; it
// returns an error only if the Checker is not set up.
func (c *Checker) Run(ctx context.Context) error {
	if err := c.init(); err != nil {
		return err
	}
	c.Logger.Info("fixity: checking stored footage against the registry",
		"interval", c.Interval, "bytes_per_second", c.limit(), "batch", c.Batch, "holder", c.Holder)
	for {
		n, err := c.CheckDue(ctx)
		wait := c.Idle
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errStoreDown):
			wait = c.RetryAfter
			c.Logger.Warn("fixity: object store unreachable: checks resume later", "retry_in", wait, "err", err)
		case err != nil:
			wait = c.RetryAfter
			c.Logger.Warn("fixity: cannot check clips: retrying later", "retry_in", wait, "err", err)
		case n > 0:
			c.Logger.Info("fixity: no more clips due", "checked", n)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// limit returns the byte rate for logs: 0 when unlimited.
func (c *Checker) limit() int64 {
	if c.Limiter == nil || c.Limiter.Limit() == rate.Inf {
		return 0
	}
	return int64(c.Limiter.Limit())
}

// CheckDue checks clips batch after batch until none is due, and returns how
// many it checked; a clip is checked at most once per call. It stops early
// with an error wrapping EUNAVAILABLE if the object store cannot be reached
// or MaxUnreadable objects in a row cannot be read (those clips are retried
// later), with the database's error if the schedule cannot be read or a
// check recorded, and with ctx's error when ctx ends; clips it claimed but
// did not check are given back.
func (c *Checker) CheckDue(ctx context.Context) (int, error) {
	if err := c.init(); err != nil {
		return 0, err
	}
	total, unreadable, start := 0, 0, time.Now()
	for {
		// A clip checked in this round is not due again in it, however
		// short the interval: the round ends.
		interval := max(c.Interval, time.Since(start))
		targets, err := c.Store.ClaimClips(ctx, c.Holder, c.Batch, interval, c.Lease)
		if err != nil {
			return total, fmt.Errorf("fixity: claim clips: %w", err)
		}
		if len(targets) == 0 {
			return total, nil
		}
		for i, t := range targets {
			r, err := c.checkOne(ctx, t)
			switch r {
			case "":
			case Unreachable:
				total++
				if unreadable++; unreadable >= MaxUnreadable && err == nil {
					err = evidock.WrapError(evidock.EUNAVAILABLE, errStoreDown, "fixity: %d objects in a row could not be read", unreadable)
				}
			default:
				total++
				unreadable = 0
				c.storeDownSince.Store(nil)
			}
			if err != nil {
				if errors.Is(err, errStoreDown) {
					now := time.Now()
					c.storeDownSince.CompareAndSwap(nil, &now)
				}
				c.release(ctx, targets[i:])
				return total, err
			}
		}
	}
}

// release gives back the leases of clips not checked, even while shutting
// down, so that another instance takes them at once rather than after the
// lease runs out.
func (c *Checker) release(ctx context.Context, targets []Target) {
	ids := make([]int64, len(targets))
	for i, t := range targets {
		ids[i] = t.ClipID
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := c.Store.ReleaseClips(rctx, c.Holder, ids); err != nil {
		c.Logger.Warn("fixity: cannot give back claimed clips; their leases run out by themselves", "clips", len(ids), "err", err)
	}
}

// checkOne checks one claimed clip and records the result, which it
// returns ("" if it recorded none). It returns an error wrapping
// errStoreDown after recording that the store could not be reached, and
// the error of anything else that stops the round.
func (c *Checker) checkOne(ctx context.Context, t Target) (Result, error) {
	if err := c.Store.ExtendLease(ctx, c.Holder, t.ClipID, c.Lease); err != nil {
		if evidock.ErrorCode(err) == evidock.ECONFLICT {
			c.Logger.Debug("fixity: clip taken over by another checker", "clip", t.Digest, "err", err)
			return "", nil
		}
		return "", fmt.Errorf("fixity: renew lease of clip %s: %w", t.Digest, err)
	}
	chk, readErr := c.read(ctx, t)
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case errors.Is(readErr, errLeaseLost):
		c.Logger.Warn("fixity: clip taken over by another checker while being read: its check is theirs", "clip", t.Digest)
		return "", nil
	}
	chk.RetryAfter = c.RetryAfter
	alarm, err := c.Store.RecordCheck(ctx, chk)
	if err != nil {
		return "", fmt.Errorf("fixity: record check of clip %s: %w", t.Digest, err)
	}
	c.count(chk.Result)
	c.logCheck(t, chk, alarm)
	if chk.Result == Unreachable && evidock.ErrorCode(readErr) == evidock.EUNAVAILABLE {
		return chk.Result, fmt.Errorf("fixity: %w: %w", errStoreDown, readErr)
	}
	return chk.Result, nil
}

// logCheck logs a recorded check: an alarm at ERROR, an unreadable object
// at WARN, a good one at DEBUG.
func (c *Checker) logCheck(t Target, chk *Check, alarm *Alarm) {
	attrs := []any{"clip", t.Digest.String(), "file", t.FileName, "object_key", t.ObjectKey, "detail", chk.Detail}
	switch chk.Result {
	case Missing, Changed:
		if alarm != nil {
			attrs = append(attrs, "alarm", alarm.ID, "alarm_kind", alarm.Kind)
		} else {
			attrs = append(attrs, "alarm", "already open")
		}
		c.Logger.Error("ALARM: fixity check failed: stored footage is "+string(chk.Result), attrs...)
	case Unreachable:
		c.Logger.Warn("fixity: object could not be read: no verdict, retried later", append(attrs, "retry_in", chk.RetryAfter)...)
	default:
		c.Logger.Debug("fixity: clip intact", "clip", t.Digest.String(), "bytes", chk.BytesRead)
	}
}

// read reads t's object back and returns the check (not yet recorded), and
// the error that made it Unreachable, or errLeaseLost, or ctx's error.
func (c *Checker) read(ctx context.Context, t Target) (*Check, error) {
	chk := &Check{ClipID: t.ClipID, Digest: t.Digest, CheckedBy: c.Holder}
	body, err := c.Objects.OpenObject(ctx, t.ObjectKey)
	switch {
	case evidock.ErrorCode(err) == evidock.ENOTFOUND:
		chk.Result, chk.Detail = Missing, fmt.Sprintf("object %s is not in the store", t.ObjectKey)
		return chk, nil
	case err != nil:
		chk.Result, chk.Detail = Unreachable, fmt.Sprintf("open object %s: %s", t.ObjectKey, evidock.ErrorMessage(err))
		if evidock.ErrorCode(err) == evidock.EINTERNAL {
			chk.Detail = fmt.Sprintf("open object %s: %v", t.ObjectKey, err)
		}
		return chk, err
	}
	defer body.Close()
	r := &pacedReader{ctx: ctx, r: body, limiter: c.Limiter, renewEvery: c.Lease / 3, lastRenew: time.Now(),
		renew: func() error { return c.Store.ExtendLease(ctx, c.Holder, t.ClipID, c.Lease) }}
	got, n, err := evidock.DigestOf(r)
	chk.BytesRead = n
	switch {
	case err != nil && r.leaseErr != nil:
		if evidock.ErrorCode(r.leaseErr) == evidock.ECONFLICT {
			return chk, errLeaseLost
		}
		// The database, not the store, failed: still no verdict.
		chk.Result, chk.Detail = Unreachable, fmt.Sprintf("renew lease after %d bytes: %v", n, r.leaseErr)
		return chk, r.leaseErr
	case err != nil:
		if ctx.Err() != nil {
			return chk, ctx.Err()
		}
		// A read cut off part way is the store or the network failing,
		// not the footage: the object was there.
		chk.Result, chk.Detail = Unreachable, fmt.Sprintf("read object %s: failed after %d bytes: %v", t.ObjectKey, n, err)
		return chk, evidock.WrapError(evidock.EUNAVAILABLE, err, "read object %s: %v", t.ObjectKey, err)
	case n != t.Size:
		chk.Result, chk.Detail = Changed, fmt.Sprintf("object %s holds %d bytes, but the registry says %d", t.ObjectKey, n, t.Size)
	case got != t.Digest:
		chk.Result, chk.Detail = Changed, fmt.Sprintf("object %s has blake3 %s, but the registry says %s", t.ObjectKey, got, t.Digest)
	default:
		chk.Result, chk.Detail = OK, fmt.Sprintf("%d bytes, blake3 as registered", n)
	}
	return chk, nil
}

// pacedReader reads through a limiter, checks ctx per chunk, and renews the
// clip's lease as the read goes on, so that a slow read of a large clip
// never outlives its lease.
type pacedReader struct {
	ctx        context.Context
	r          io.Reader
	limiter    *rate.Limiter
	renew      func() error
	renewEvery time.Duration
	lastRenew  time.Time
	leaseErr   error // why renew failed
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	if p.renew != nil && time.Since(p.lastRenew) >= p.renewEvery {
		if err := p.renew(); err != nil {
			p.leaseErr = err
			return 0, err
		}
		p.lastRenew = time.Now()
	}
	limited := p.limiter != nil && p.limiter.Limit() != rate.Inf
	if limited && len(b) > p.limiter.Burst() {
		// WaitN refuses more than a burst at once.
		b = b[:p.limiter.Burst()]
	}
	n, err := p.r.Read(b)
	if n > 0 && limited {
		if werr := p.limiter.WaitN(p.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
