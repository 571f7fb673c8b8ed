package agent

// syncDir is a no-op on Windows: NTFS journals renames, and directories
// cannot be opened for FlushFileBuffers without backup privileges.
func syncDir(dir string) error { return nil }
