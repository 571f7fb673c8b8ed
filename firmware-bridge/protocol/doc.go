// Package protocol is the evidock recorder protocol: the serial protocol
// between a docking PC and a body-worn recorder (GA/T 947) for the
// recorder's SDK functions (identify, recorder info, clock, mass storage,
// status) and for listing and downloading recordings from recorders without
// a USB disk mode. firmware-bridge/PROTOCOL.md is the specification; this
// package implements the host side of it and the encoding both sides share.
//
// Frames (Frame, AppendFrame, DecodeFrame, Decoder) carry a start word,
// version, flags, command, sequence number and length, guarded by a CRC-16
// over the header and a CRC-32 over the whole frame. The decoder finds
// frames again after noise, dropped bytes and damage.
//
// Messages (Identity, Info, Status, ListPage, Chunk, ...) are the typed
// payloads; text fields are GBK, fixed width and NUL-padded, checked on the
// way out and on the way in (FieldError).
//
// Client sends one request at a time over any io.ReadWriteCloser (a serial
// port, a pseudo-terminal, a pipe), waits with a timeout, and sends a
// request again with the same sequence number after a timeout or a damaged
// answer; the device answers a repeat without doing the work twice.
// Download copies a recording chunk by chunk, checks each chunk's CRC-32,
// and resumes from any offset.
//
// Errors: a *DeviceError carries the device's error code and matches the
// sentinel of its code (errors.Is(err, ErrBadPassword)); a *TimeoutError
// matches ErrTimeout, or ErrLinkCRC when answers came but all damaged.
// Nothing here panics on bytes from outside.
package protocol
