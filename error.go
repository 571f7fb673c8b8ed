package evidock

import (
	"errors"
	"fmt"
)

// Error codes shared by every program. The HTTP server maps each to one status
// code in one table; the CLI maps them to exit codes.
const (
	EINVALID        = "invalid"      // the request or input is malformed
	ENOTFOUND       = "not_found"    // the thing asked for does not exist
	ECONFLICT       = "conflict"     // the request contradicts what is stored
	EUNAUTHORIZED   = "unauthorized" // no valid credentials were given
	EFORBIDDEN      = "forbidden"    // credentials are valid but not for this
	ERATELIMITED    = "rate_limited" // too many attempts: wait and try again
	EUNVERIFIED     = "unverified"   // stored bytes do not match what is claimed
	EUNAVAILABLE    = "unavailable"  // a dependency (S3, database) cannot be reached
	EINTERNAL       = "internal"     // a bug or an unexpected failure
	ENOTIMPLEMENTED = "not_implemented"
)

// Error is a domain error: a machine-readable code and a message for people.
// Messages must name what was wrong and, where there is one, the fix.
type Error struct {
	Code    string
	Message string
	Err     error // the underlying cause, if any; not shown to clients
}

// Error returns the message prefixed with its code.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// WrapError returns an *Error with the given code and message that keeps err
// as its cause.
func WrapError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic text for other errors so that internals do not leak to clients.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
