// Package durable makes what a program wrote survive a power cut: the
// bytes of a file, and the names in a directory.
package durable

import "os"

// SyncFile flushes the file at path to the disk. It opens the file for
// writing, as Windows requires.
func SyncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
