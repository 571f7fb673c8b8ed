//go:build !unix

package agent

import "os"

// readMapped reports that f was not mapped: off Unix, files are read (see
// the Unix readMapped).
func readMapped(*os.File, func([]byte)) (int64, bool, error) { return 0, false, nil }
