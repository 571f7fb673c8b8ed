package durable

// SyncDir does nothing on Windows: NTFS journals renames, and directories
// cannot be opened for FlushFileBuffers without backup privileges.
func SyncDir(dir string) error { return nil }
