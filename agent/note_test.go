package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"evidock"
)

// TestNoteOf checks the code each kind of step error is recorded with, and
// that marking an error with a code changes neither its text nor what
// errors.Is and evidock.ErrorCode see in it (the stages' retry rules).
func TestNoteOf(t *testing.T) {
	eio := &fs.PathError{Op: "read", Path: "recorder", Err: errors.New("input/output error")}
	for _, tt := range []struct {
		stage string
		err   error
		want  NoteCode
	}{
		{"ingest", fmt.Errorf("copy x: %w", noted(NoteRecorderRead, eio)), NoteRecorderRead},
		{"ingest", fmt.Errorf("%w (300 MiB free): waiting", errStagingFull), NoteStagingFull},
		{"ingest", fmt.Errorf("copy x: %w: listed 3, read 2", errSizeChanged), NoteSizeChanged},
		{"ingest", errors.New("database is locked"), NoteInternal},
		{"upload", evidock.Errorf(evidock.EUNAVAILABLE, "s3: put: store unreachable"), NoteStoreDown},
		{"upload", evidock.Errorf(evidock.EFORBIDDEN, "s3: put: access denied"), NoteStoreDenied},
		{"upload", evidock.Errorf(evidock.EUNAUTHORIZED, "s3: put: bad key"), NoteStoreDenied},
		{"clear", fmt.Errorf("clear x: %w", evidock.Errorf(evidock.EUNVERIFIED, "object holds other bytes")), NoteStoreMismatch},
		{"clear", fmt.Errorf("clear x: %w", evidock.Errorf(evidock.EUNAVAILABLE, "s3: head")), NoteStoreDown},
		{"upload", noted(NoteStagedDamaged, evidock.Errorf(evidock.EUNVERIFIED, "ALARM: staged copy damaged")), NoteStagedDamaged},
		{"register", fmt.Errorf("register x: %w", evidock.Errorf(evidock.EUNAVAILABLE, "server unreachable")), NoteServerDown},
		{"register", fmt.Errorf("register x: %w", evidock.Errorf(evidock.EUNAUTHORIZED, "bad token")), NoteServerDenied},
		{"register", fmt.Errorf("register x: %w", evidock.Errorf(evidock.EINVALID, "started_at in the future")), NoteServerRefused},
		{"register", fmt.Errorf("register x: %w", evidock.Errorf(evidock.ECONFLICT, "other size")), NoteServerRefused},
		{"register", noted(NoteReceiptInvalid, errors.New("register x: receipt: bad signature")), NoteReceiptInvalid},
		{"register", errors.New("server said 500"), NoteInternal},
	} {
		if got := noteOf(tt.stage, tt.err); got != tt.want {
			t.Errorf("noteOf(%s, %v) = %q, want %q", tt.stage, tt.err, got, tt.want)
		}
	}

	inner := evidock.Errorf(evidock.EUNVERIFIED, "ALARM: staged copy of x is damaged")
	err := fmt.Errorf("upload: %w", noted(NoteStagedDamaged, inner))
	if err.Error() != "upload: "+inner.Error() || evidock.ErrorCode(err) != evidock.EUNVERIFIED || !errors.Is(err, inner) {
		t.Errorf("noted changed the error: %q, code %s", err, evidock.ErrorCode(err))
	}
	if !isStagingFull(noted(NoteStagingFull, errStagingFull)) || retryable(noted(NoteStoreMismatch, inner)) {
		t.Error("noted changed what the stages retry")
	}
	if noted(NoteInternal, nil) != nil {
		t.Error("noted(nil) is not nil")
	}
}
