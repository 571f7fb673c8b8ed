package agent

import (
	"context"
	"encoding/json"
	"fmt"
)

// register asks the case server to record r and keeps its receipt. The
// server verifies the object itself before it answers; registering a digest
// it already holds returns the first registration, so a retry after a lost
// answer cannot register twice.
func (a *Agent) register(ctx context.Context, r *Recording) error {
	clip := r.Clip()
	created, err := a.Registry.RegisterClip(ctx, clip)
	if err != nil {
		return fmt.Errorf("register %s: %w", r.FileName, err)
	}
	receipt, err := json.Marshal(clip)
	if err != nil {
		return fmt.Errorf("register %s: %w", r.FileName, err)
	}
	r.ClipID, r.RegisteredAt, r.Receipt = clip.ID, clip.RegisteredAt, string(receipt)
	a.Logger.Info("registered", "file", r.FileName, "clip", clip.ID, "new", created)
	return a.transition(ctx, r, StateRegistered)
}
