//go:build !windows

package main

import "os"

// syncDir fsyncs a directory, so that a rename in it survives a crash.
func syncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
