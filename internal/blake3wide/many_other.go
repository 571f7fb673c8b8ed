//go:build !amd64

package blake3wide

// Accelerated reports whether the Hasher runs an assembly kernel: never on
// this architecture, where callers should use zeebo/blake3 instead.
func Accelerated() bool { return false }
