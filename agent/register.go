package agent

import (
	"context"
	"encoding/json"
	"fmt"

	"evidock"
	"evidock/server/translog"
)

// ReceiptRegistry is a registry that answers a registration with a signed
// receipt from its transparency log; evidock/server/http.Client is one.
type ReceiptRegistry interface {
	RegisterClipWithReceipt(ctx context.Context, clip *evidock.Clip) (created bool, receipt *evidock.Receipt, err error)
}

// register asks the case server to record r and keeps its answer. The
// server verifies the object itself before it answers; registering a digest
// it already holds returns the first registration, so a retry after a lost
// answer cannot register twice. With LogKey set, the answer must carry a
// receipt signed by that key, proving the clip (as this station sent it) is
// in the registry's log; no other answer lets the recorder be cleared.
func (a *Agent) register(ctx context.Context, r *Recording) error {
	clip := r.Clip()
	sent := *clip
	sent.StationID = a.StationID
	var created bool
	var receipt *evidock.Receipt
	var err error
	if rr, ok := a.Registry.(ReceiptRegistry); ok && a.LogKey != "" {
		created, receipt, err = rr.RegisterClipWithReceipt(ctx, clip)
	} else {
		created, err = a.Registry.RegisterClip(ctx, clip)
	}
	if err != nil {
		if evidock.ErrorCode(err) == evidock.EUNAUTHORIZED {
			a.RaiseAlarm(AlarmStationRefused, fmt.Sprintf("this dock's station token (station %s) was refused by the case server: %s; footage waits unregistered at the dock and recorders are not cleared: contact the administrator",
				a.StationID, evidock.ErrorMessage(err)))
		}
		return fmt.Errorf("register %s: %w", r.FileName, err)
	}
	a.ClearAlarm(AlarmStationRefused)
	if a.LogKey != "" {
		if _, err := translog.VerifyReceipt(a.LogKey, receipt, &sent); err != nil {
			a.Logger.Error("ALARM: the case server's receipt does not verify; the recorder is not cleared", "file", r.FileName, "err", err)
			return noted(NoteReceiptInvalid, fmt.Errorf("register %s: receipt: %w", r.FileName, err))
		}
	}
	answer, err := json.Marshal(struct {
		Clip    *evidock.Clip    `json:"clip"`
		Receipt *evidock.Receipt `json:"receipt,omitempty"`
	}{clip, receipt})
	if err != nil {
		return fmt.Errorf("register %s: %w", r.FileName, err)
	}
	r.ClipID, r.RegisteredAt, r.Receipt = clip.ID, clip.RegisteredAt, string(answer)
	a.Logger.Info("registered", "file", r.FileName, "clip", clip.ID, "new", created, "log_index", logIndex(receipt))
	return a.transition(ctx, r, StateRegistered)
}

func logIndex(r *evidock.Receipt) int64 {
	if r == nil {
		return -1
	}
	return r.Index
}
