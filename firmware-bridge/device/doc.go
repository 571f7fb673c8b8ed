// Package device simulates a body-worn recorder (GA/T 947) on the serial
// side: it answers the evidock recorder protocol (package protocol, and
// firmware-bridge/PROTOCOL.md) over any io.ReadWriter, with its storage in
// a folder written by sim.Volume.Create.
//
// It keeps a password for the commands that change the device (SET_INFO,
// SET_TIME, ENTER_MSC), a clock that starts off by an offset and drifts,
// and recordings the officer marked important. Faults make the link and
// firmware misbehave the ways real ones do: garbled and dropped bytes, a
// slow link, a device that stops answering after so many bytes, and three
// ways of treating a wrong password.
//
// OpenPTY gives a pseudo-terminal whose other end a client opens as it
// would a recorder's USB serial port (Linux only).
package device

import "errors"

// ErrNoPTY means pseudo-terminals are not available here.
var ErrNoPTY = errors.New("no pseudo-terminals")
