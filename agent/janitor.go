package agent

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sort"
	"time"
)

// janitorEvery is how often staged copies are checked for removal.
const janitorEvery = time.Minute

// janitor removes staged copies that are no longer needed, every
// janitorEvery until ctx is done. It returns only the state store's errors.
func (a *Agent) janitor(ctx context.Context) error {
	for {
		if err := a.pruneStaging(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(janitorEvery):
		}
	}
}

// pruneStaging removes the staged copies of recordings that are safe in the
// store and registered and older than KeepStaged; and, while the staging
// disk is below StagingLowWater, the oldest safe ones even if younger. A
// staged copy is the dock's 1:1 backup: one that is not yet safe is never
// removed.
func (a *Agent) pruneStaging(ctx context.Context) error {
	recs, err := a.State.FindRecordings(ctx, RecordingFilter{States: []State{StateRegistered, StateVerified, StateCleared, StateKept}})
	if err != nil {
		return err
	}
	var safe []*Recording
	for _, r := range recs {
		if r.StagedPath != "" {
			safe = append(safe, r)
		}
	}
	sort.Slice(safe, func(i, j int) bool { return safe[i].RegisteredAt.Before(safe[j].RegisteredAt) })
	for _, r := range safe {
		old := time.Since(r.RegisteredAt) > a.KeepStaged
		if !old {
			free, err := freeSpace(a.StagingDir)
			if err != nil || free >= a.StagingLowWater {
				return nil // oldest first: the rest are younger still
			}
		}
		if err := os.Remove(r.StagedPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.Logger.Error("remove staged copy", "file", r.FileName, "err", err)
			continue
		}
		a.Logger.Info("removed staged copy", "file", r.FileName, "registered_at", r.RegisteredAt, "past_retention", old)
		r.StagedPath = ""
		if err := a.State.UpdateRecording(ctx, r); err != nil {
			return err
		}
	}
	return nil
}
