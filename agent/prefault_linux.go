package agent

import "golang.org/x/sys/unix"

// prefault maps the pages of b, a range of a file mapping, reading them
// from disk if need be; a page that cannot be read is an error, not a
// SIGBUS (MADV_POPULATE_READ, Linux 5.14; older kernels answer EINVAL).
func prefault(b []byte) error { return unix.Madvise(b, unix.MADV_POPULATE_READ) }
