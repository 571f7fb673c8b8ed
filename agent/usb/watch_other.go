//go:build !linux && !windows

package usb

import (
	"context"
	"fmt"
	"runtime"
)

func (w *Watcher) run(ctx context.Context, events chan<- Event) error {
	return fmt.Errorf("usb watcher: watching mounts is not implemented on %s", runtime.GOOS)
}
