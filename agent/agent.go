package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"evidock"
	"evidock/agent/usb"
)

// Agent runs the docking pipeline of one station. Set the fields, then call
// Run; the zero values of the tuning fields take the defaults below.
type Agent struct {
	StationID  string
	MountRoot  string // without Mounts: docked recorders' volumes appear as directories here
	StagingDir string // the dock's local copy of every recording

	// Mounts, if set, detects recorders from the system's mounts instead of
	// MountRoot's directories, and Admission says which volumes may be read.
	Mounts    *usb.Watcher
	Admission usb.Policy

	State    StateStore
	Objects  evidock.ObjectStore
	Registry evidock.ClipService
	// LogKey is the registry log's public verifier key. When set, a
	// recording counts as registered only with a receipt signed by it that
	// proves the clip is in the log (Registry must be a ReceiptRegistry).
	LogKey string

	// StagingReserve is how much of the staging disk is kept free; ingest
	// waits rather than fill it.
	StagingReserve int64
	// Staged copies of safe recordings are kept KeepStaged after
	// registration, and removed oldest first earlier while the staging disk
	// has less than StagingLowWater free.
	KeepStaged      time.Duration
	StagingLowWater int64

	// Settle is how long a volume must be quiet before it is scanned, so
	// that a mount still being populated is not read half-way.
	Settle time.Duration
	// Recordings larger than MultipartThreshold are uploaded in parts of
	// PartSize bytes, each one resumable on its own.
	MultipartThreshold int64
	PartSize           int64

	// MaxCopies bounds the recorders read at once (the staging disk's write
	// bandwidth is shared); MaxUploads bounds uploads at once on the link.
	MaxCopies  int
	MaxUploads int

	// UploadLimiter, if set, paces the object store's uploads; Bandwidth
	// says what its rate is at each time of day.
	UploadLimiter *rate.Limiter
	Bandwidth     BandwidthSchedule

	// ClearAfter says when recordings are deleted from recorders;
	// SkipSourceReverify drops the second read before deleting.
	ClearAfter         ClearPolicy
	SkipSourceReverify bool

	// OpenVolume returns the file system of a docked volume; os.DirFS when
	// nil. Tests use it to make a recorder fail mid-read.
	OpenVolume func(dir string) fs.FS

	Logger *slog.Logger

	once                                            sync.Once
	ingestWake, uploadWake, registerWake, clearWake chan struct{}
	live                                            liveTransfers
	alarms                                          alarmSet
	counters                                        counters
	busy                                            resources // recorders being read
	dockedMu                                        sync.Mutex
	docked                                          map[string]bool // volumes on the dock now
	waitingMu                                       sync.Mutex
	waitingRoom                                     map[int64]bool // recordings waiting for staging space
}

// Defaults for the tuning fields of Agent.
const (
	DefaultSettle             = 2 * time.Second
	DefaultMultipartThreshold = 64 << 20
	DefaultPartSize           = 16 << 20
	DefaultStagingReserve     = 512 << 20
	DefaultMaxCopies          = 4
	DefaultMaxUploads         = 4
	DefaultKeepStaged         = 7 * 24 * time.Hour
	DefaultStagingLowWater    = 4 << 30
	maxParts                  = 10000 // the S3 limit
	maxBackoff                = time.Minute
)

func (a *Agent) init() { a.once.Do(a.setDefaults) }

func (a *Agent) setDefaults() {
	if a.Settle == 0 {
		a.Settle = DefaultSettle
	}
	if a.MultipartThreshold == 0 {
		a.MultipartThreshold = DefaultMultipartThreshold
	}
	if a.PartSize == 0 {
		a.PartSize = DefaultPartSize
	}
	if a.StagingReserve == 0 {
		a.StagingReserve = DefaultStagingReserve
	}
	if a.MaxCopies == 0 {
		a.MaxCopies = DefaultMaxCopies
	}
	if a.MaxUploads == 0 {
		a.MaxUploads = DefaultMaxUploads
	}
	if a.KeepStaged == 0 {
		a.KeepStaged = DefaultKeepStaged
	}
	if a.StagingLowWater == 0 {
		a.StagingLowWater = DefaultStagingLowWater
	}
	if a.OpenVolume == nil {
		a.OpenVolume = os.DirFS
	}
	if a.Logger == nil {
		a.Logger = slog.Default()
	}
	a.ingestWake = make(chan struct{}, 1)
	a.uploadWake = make(chan struct{}, 1)
	a.registerWake = make(chan struct{}, 1)
	a.clearWake = make(chan struct{}, 1)
	if a.UploadLimiter == nil {
		a.UploadLimiter = rate.NewLimiter(rate.Inf, 1<<20)
	}
	if a.ClearAfter == "" {
		a.ClearAfter = ClearAfterRegistered
	}
}

// Run watches MountRoot for docked recorders and drives their recordings
// through the pipeline until ctx is done. It returns nil on cancellation and
// an error only when the agent cannot go on (its state store fails, the
// mount root cannot be watched); failures of single recordings are recorded
// in their state instead.
func (a *Agent) Run(ctx context.Context) error {
	a.init()
	if a.Mounts == nil && a.MountRoot == "" {
		return errors.New("agent: set MountRoot or Mounts")
	}
	if err := os.MkdirAll(a.StagingDir, 0o750); err != nil {
		return fmt.Errorf("agent: staging dir: %w", err)
	}
	a.reportObjectLock()
	a.Logger.Info("hashing recordings with BLAKE3", "implementation", evidock.HashImplementation())
	if a.LogKey == "" {
		a.Logger.Warn("no registry log key configured: the case server's receipts are not verified before recorders are cleared")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	services := []struct {
		name string
		run  func(context.Context) error
	}{
		{"watch", a.watch},
		{"janitor", a.janitor},
		{"throttle", a.throttle},
		// A recorder problem is not retried in place: the recording fails and
		// starts over when the recorder is docked again. A full staging disk
		// is waited out.
		{"ingest", a.stage(a.ingestStage())},
		{"upload", a.stage(stage{name: "upload", wake: a.uploadWake, states: []State{StateUploading, StateStaged}, step: a.upload,
			retry: retryable, workers: a.MaxUploads})},
		{"register", a.stage(stage{name: "register", wake: a.registerWake, states: []State{StateStored}, step: a.register,
			retry: retryable, workers: 4})},
		// Clearing waits out only an unreachable store; a recorder problem
		// fails it, and the next dock resumes it from registered.
		{"clear", a.stage(stage{name: "clear", wake: a.clearWake, states: []State{StateVerified, StateRegistered}, step: a.clear,
			retry: storeUnavailable, workers: a.MaxCopies, exclusive: func(r *Recording) string { return r.Volume }})},
	}
	done := make(chan error, len(services))
	for _, s := range services {
		go func() {
			err := s.run(ctx)
			if err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("agent %s: %w", s.name, err))
			}
			done <- err
		}()
	}
	for range services {
		<-done
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// reportObjectLock says at start whether the store protects originals with
// Object Lock, so that an unlocked bucket is noticed on day one.
func (a *Agent) reportObjectLock() {
	lockable, ok := a.Objects.(interface {
		Locked() bool
		Retention() time.Duration
	})
	switch {
	case !ok:
	case lockable.Locked():
		a.Logger.Info("object store bucket has Object Lock: every recording gets COMPLIANCE retention",
			"retention_days", int(lockable.Retention().Hours()/24))
	default:
		a.Logger.Warn("object store bucket has NO Object Lock: stored originals are protected only by the store's access policy; ask the storage administrator for a bucket with Object Lock")
	}
}

// retryable reports whether err may pass by itself: a store or server that
// is down, or a token an administrator is about to fix.
func retryable(err error) bool {
	switch evidock.ErrorCode(err) {
	case evidock.EUNAVAILABLE, evidock.EUNAUTHORIZED, evidock.EFORBIDDEN, evidock.EINTERNAL:
		return true
	}
	return false
}

func storeUnavailable(err error) bool { return evidock.ErrorCode(err) == evidock.EUNAVAILABLE }

func isStagingFull(err error) bool { return errors.Is(err, errStagingFull) }

// wakeAll wakes every stage.
func (a *Agent) wakeAll() {
	for _, c := range []chan struct{}{a.ingestWake, a.uploadWake, a.registerWake, a.clearWake} {
		notify(c)
	}
}

// transition durably moves r to state and wakes the stage that takes it next.
func (a *Agent) transition(ctx context.Context, r *Recording, state State) error {
	return a.transitionWhy(ctx, r, state, "", "")
}

// transitionWhy is transition with a note on why r is in its new state:
// its code, and the English text with the detail.
func (a *Agent) transitionWhy(ctx context.Context, r *Recording, state State, code NoteCode, why string) error {
	r.State, r.ErrorCode, r.Error = state, code, why
	if err := a.State.UpdateRecording(ctx, r); err != nil {
		return err
	}
	switch state {
	case StateDiscovered:
		notify(a.ingestWake)
	case StateStaged:
		notify(a.uploadWake)
	case StateStored:
		notify(a.registerWake)
	case StateRegistered:
		notify(a.clearWake)
	}
	return nil
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
