//go:build unix && !linux

package agent

import "errors"

// prefault reports that pages cannot be mapped ahead here: the reader
// faults on them itself.
func prefault([]byte) error { return errors.ErrUnsupported }
