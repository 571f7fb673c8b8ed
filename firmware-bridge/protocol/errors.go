package protocol

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode is the numeric code of an error response (PROTOCOL.md §6).
type ErrorCode uint16

// Error codes of protocol version 1.
const (
	ECRC         ErrorCode = 0x0001 // the request's CRC-32 failed; send it again, same SEQ
	EMalformed   ErrorCode = 0x0002 // the payload does not fit the command
	EUnknownCmd  ErrorCode = 0x0003 // the device does not know CMD
	EVersion     ErrorCode = 0x0004 // the device does not speak VER
	EBadPassword ErrorCode = 0x0005 // wrong password; nothing was changed
	ELocked      ErrorCode = 0x0006 // too many wrong passwords; wait, then try again
	ENotFound    ErrorCode = 0x0007 // no recording of that name
	EBadArg      ErrorCode = 0x0008 // a field is out of range or malformed
	EBusy        ErrorCode = 0x0009 // the device cannot do it now (recording, say)
	EStorage     ErrorCode = 0x000A // the device could not read or write its storage
	EInternal    ErrorCode = 0x00FF // anything else
)

// Sentinel errors, one per error code that a caller may want to tell apart,
// and the host-side failures. A *DeviceError matches the sentinel of its
// code with errors.Is.
var (
	ErrBadPassword  = errors.New("wrong recorder password")
	ErrLocked       = errors.New("recorder locked after too many wrong passwords")
	ErrNotFound     = errors.New("no such recording on the recorder")
	ErrBusy         = errors.New("recorder busy")
	ErrUnknownCmd   = errors.New("recorder does not know the command")
	ErrVersion      = errors.New("recorder does not speak this protocol version")
	ErrBadArg       = errors.New("recorder rejected an argument")
	ErrStorage      = errors.New("recorder storage error")
	ErrMalformed    = errors.New("malformed payload")
	ErrTimeout      = errors.New("recorder did not answer")
	ErrLinkCRC      = errors.New("every answer arrived damaged")
	ErrChunkCRC     = errors.New("chunk data failed its CRC-32")
	ErrChanged      = errors.New("recording changed during download")
	ErrResumeBroken = errors.New("the partial download does not match the recording")
	ErrClosed       = errors.New("connection closed")
	ErrField        = errors.New("bad text field")
	ErrPassword     = errors.New("password must be 1 to 32 bytes without NUL")
)

var codeInfo = map[ErrorCode]struct {
	name string
	err  error
}{
	ECRC:         {"ECRC", ErrLinkCRC},
	EMalformed:   {"EMALFORMED", ErrMalformed},
	EUnknownCmd:  {"EUNKNOWNCMD", ErrUnknownCmd},
	EVersion:     {"EVERSION", ErrVersion},
	EBadPassword: {"EBADPASSWORD", ErrBadPassword},
	ELocked:      {"ELOCKED", ErrLocked},
	ENotFound:    {"ENOTFOUND", ErrNotFound},
	EBadArg:      {"EBADARG", ErrBadArg},
	EBusy:        {"EBUSY", ErrBusy},
	EStorage:     {"ESTORAGE", ErrStorage},
	EInternal:    {"EINTERNAL", nil},
}

// String returns the code's name in PROTOCOL.md, or its number.
func (c ErrorCode) String() string {
	if i, ok := codeInfo[c]; ok {
		return i.name
	}
	return fmt.Sprintf("E0x%04X", uint16(c))
}

// DeviceError is an error response from the device.
type DeviceError struct {
	Cmd    Command   // the request that failed
	Code   ErrorCode // what the device said
	Detail string    // the device's free text, for logs; may be empty
}

// Error returns the command, the code and the detail.
func (e *DeviceError) Error() string {
	msg := fmt.Sprintf("recorder refused %s: %s", e.Cmd, e.Code)
	if i, ok := codeInfo[e.Code]; ok && i.err != nil {
		msg += " (" + i.err.Error() + ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Is makes errors.Is(err, ErrBadPassword) and the like true for the
// matching code.
func (e *DeviceError) Is(target error) bool {
	i, ok := codeInfo[e.Code]
	return ok && i.err != nil && target == i.err
}

// TimeoutError means the device gave no usable answer to a request within
// the timeout, on every attempt.
type TimeoutError struct {
	Cmd      Command
	Seq      uint16
	Attempts int           // how many times the request was sent
	Wait     time.Duration // how long each attempt waited
	Damaged  int           // answers that arrived with a bad CRC
}

// Error names the request, the attempts and the likely causes.
func (e *TimeoutError) Error() string {
	if e.Damaged > 0 {
		return fmt.Sprintf("%s seq %d: %d attempts, %d answers damaged on the line, none intact: check the cable and the baud rate",
			e.Cmd, e.Seq, e.Attempts, e.Damaged)
	}
	return fmt.Sprintf("%s seq %d: no answer in %d attempts of %s each: check that the recorder is on, in serial mode, and on this port",
		e.Cmd, e.Seq, e.Attempts, e.Wait.Round(time.Millisecond))
}

// Unwrap returns ErrTimeout, or ErrLinkCRC if answers came but all damaged.
func (e *TimeoutError) Unwrap() error {
	if e.Damaged > 0 {
		return ErrLinkCRC
	}
	return ErrTimeout
}

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }
