//go:build !windows

package durable

import "os"

// SyncDir flushes directory dir, so that a file created, renamed or linked
// in it survives a crash under its new name.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
