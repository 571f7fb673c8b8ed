package sim

// syncDir does nothing: Windows cannot open a directory for fsync, and NTFS
// journals renames and creations itself.
func syncDir(name string) error { return nil }
