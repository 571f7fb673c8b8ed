//go:build !linux

package agent

import "os"

// startWriteback is a no-op where the kernel has no sync_file_range: the
// final fsync does all the work.
func startWriteback(f *os.File, off, n int64) {}
