package agent

import (
	"errors"

	"evidock"
)

// NoteCode says in one stable word why a recording is in its state: why a
// step failed or waits, why it was rejected, or why it was kept on its
// recorder. Recording.Error says the same in English with the technical
// detail; the code is what a screen translates into the officer's language
// (evidock/agent/dockscreen), so every code here needs a text there. A
// screen that does not know a code (a newer agent) shows the English.
type NoteCode string

// Note codes. Each comment says what happened and what is done about it.
const (
	// Rejected when found on the recorder: never ingested.
	NoteBadName   NoteCode = "bad_name"   // not a file name a recorder writes
	NoteEmptyFile NoteCode = "empty_file" // 0 bytes: nothing to take in

	// Copying off the recorder (failed: retried at the recorder's next dock).
	NoteRecorderUnplugged NoteCode = "recorder_unplugged" // the file could not be opened: unplugged mid-copy
	NoteRecorderRead      NoteCode = "recorder_read"      // reading the recorder failed mid-copy
	NoteSizeChanged       NoteCode = "size_changed"       // the recorder gave more or fewer bytes than it listed
	NoteStagingWrite      NoteCode = "staging_write"      // the dock could not write or sync its staging copy
	NoteStagingFull       NoteCode = "staging_full"       // waits (not failed) for room on the staging disk

	// Uploading from the dock's staging copy.
	NoteStagedRead    NoteCode = "staged_read"    // the staging copy could not be read back
	NoteStagedDamaged NoteCode = "staged_damaged" // ALARM: the staging copy changed and the recorder is gone: dock it again
	NoteStagedRecopy  NoteCode = "staged_recopy"  // the staging copy changed; copying again from the docked recorder
	NoteStoreDown     NoteCode = "store_unavailable"
	NoteStoreDenied   NoteCode = "store_denied"   // the object store refused the dock's credentials (retried)
	NoteStoreMismatch NoteCode = "store_mismatch" // the object store holds other bytes under the recording's key

	// Registering with the case server.
	NoteServerDown     NoteCode = "server_unavailable"
	NoteServerDenied   NoteCode = "server_denied"   // the case server refused the station's token (retried)
	NoteServerRefused  NoteCode = "server_refused"  // the case server refused the registration itself
	NoteReceiptInvalid NoteCode = "receipt_invalid" // the receipt does not verify against the log key: not cleared

	// Clearing the recorder; the footage is safe in every case below.
	NoteNoReceipt      NoteCode = "no_receipt"      // registered without a receipt in hand: not cleared
	NoteClearUnplugged NoteCode = "clear_unplugged" // unplugged before it was cleared: cleared at the next dock
	NoteClearRead      NoteCode = "clear_read"      // the second read failed: tried again at the next dock
	NoteClearFailed    NoteCode = "clear_failed"    // the file could not be deleted from the recorder
	NoteRereadMismatch NoteCode = "reread_mismatch" // ALARM: kept: the second read gave other bytes
	NoteKeptByConfig   NoteCode = "kept_by_config"  // kept: clear_after is never
	NoteKeptSerial     NoteCode = "kept_serial"     // kept: pulled over serial, which cannot delete
	NoteAlreadyCleared NoteCode = "already_cleared" // cleared: the file was already gone from the recorder
	NoteInternal       NoteCode = "internal"        // anything else: the English note says what
)

// notedError is an error with the note code that says it to an officer.
type notedError struct {
	code NoteCode
	err  error
}

func (e *notedError) Error() string { return e.err.Error() }
func (e *notedError) Unwrap() error { return e.err }

// noted returns err marked with code; the text and the chain (errors.Is,
// evidock.ErrorCode) are err's. It returns nil for a nil err.
func noted(code NoteCode, err error) error {
	if err == nil {
		return nil
	}
	return &notedError{code, err}
}

// noteOf returns the note code of err, which the stage named stage
// returned: the code it was marked with where it happened, else one read
// from its evidock error code and the stage, else NoteInternal.
func noteOf(stage string, err error) NoteCode {
	var n *notedError
	switch {
	case errors.As(err, &n):
		return n.code
	case errors.Is(err, errStagingFull):
		return NoteStagingFull
	case errors.Is(err, errSizeChanged):
		return NoteSizeChanged
	}
	code := evidock.ErrorCode(err)
	switch stage {
	case "upload", "clear": // their remote is the object store
		switch code {
		case evidock.EUNAVAILABLE:
			return NoteStoreDown
		case evidock.EUNAUTHORIZED, evidock.EFORBIDDEN:
			return NoteStoreDenied
		case evidock.EUNVERIFIED:
			return NoteStoreMismatch
		}
	case "register":
		switch code {
		case evidock.EUNAVAILABLE:
			return NoteServerDown
		case evidock.EUNAUTHORIZED, evidock.EFORBIDDEN:
			return NoteServerDenied
		case evidock.EINVALID, evidock.ECONFLICT, evidock.ENOTFOUND, evidock.EUNVERIFIED:
			return NoteServerRefused
		}
	}
	return NoteInternal
}
