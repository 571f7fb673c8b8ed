package bridge

import (
	"context"
	"io"
	"log/slog"
	"time"

	"evidock/firmware-bridge/serial"
)

// PortWatcher finds recorders on serial ports by USB ID and docks each new
// one once, until its port goes away (a recorder switched to mass storage
// leaves the serial bus, and comes back only when plugged in again).
type PortWatcher struct {
	IDs    []serial.USBID // recorders' USB IDs; other ports are never opened
	Baud   int
	Every  time.Duration // how often ports are listed; 2 s when zero
	Dock   *Dock
	Logger *slog.Logger
	// OnResult, if set, is told of each dock.
	OnResult func(*Result, error)

	// List and Open default to the serial package's; tests replace them.
	List func(ids []serial.USBID) ([]serial.PortInfo, error)
	Open func(name string, baud int) (io.ReadWriteCloser, error)
}

// Run watches ports until ctx is done. It returns nil then; listing errors
// are logged once per kind and retried, since a port list can fail while
// devices come and go.
func (w *PortWatcher) Run(ctx context.Context) error {
	every := w.Every
	if every == 0 {
		every = 2 * time.Second
	}
	list, open, logger := w.List, w.Open, w.Logger
	if list == nil {
		list = serial.ListPorts
	}
	if open == nil {
		open = func(name string, baud int) (io.ReadWriteCloser, error) { return serial.Open(name, baud) }
	}
	if logger == nil {
		logger = slog.Default()
	}
	seen := map[string]bool{}
	lastErr := ""
	for {
		ports, err := list(w.IDs)
		if err != nil && err.Error() != lastErr {
			logger.Warn("list serial ports", "err", err)
			lastErr = err.Error()
		}
		present := map[string]bool{}
		for _, p := range ports {
			if !p.Recorder {
				continue // never opened: a dock must not talk to unknown devices
			}
			present[p.Name] = true
			if seen[p.Name] {
				continue
			}
			seen[p.Name] = true
			go w.dock(ctx, open, p, logger)
		}
		for name := range seen {
			if !present[name] {
				delete(seen, name)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

func (w *PortWatcher) dock(ctx context.Context, open func(string, int) (io.ReadWriteCloser, error), p serial.PortInfo, logger *slog.Logger) {
	port, err := open(p.Name, w.Baud)
	if err != nil {
		logger.Error("open recorder port", "port", p.Name, "err", err)
		if w.OnResult != nil {
			w.OnResult(nil, err)
		}
		return
	}
	res, err := w.Dock.Handle(ctx, port)
	if err != nil {
		logger.Error("recorder dock over the bridge failed", "port", p.Name, "err", err)
	}
	if w.OnResult != nil {
		w.OnResult(res, err)
	}
}
