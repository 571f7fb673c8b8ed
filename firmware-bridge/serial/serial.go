// Package serial opens recorders' USB serial ports with go.bug.st/serial
// and finds them among the system's ports by USB vendor and product ID.
//
// A port is an io.ReadWriteCloser, so that the protocol client runs the same
// over a real port, a pseudo-terminal or a pipe.
package serial

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// DefaultBaud is the line speed recorders use unless configured otherwise.
const DefaultBaud = 115200

// Port is an open serial port, 8 data bits, no parity, one stop bit.
type Port struct {
	name string
	p    serial.Port
}

var _ io.ReadWriteCloser = (*Port)(nil)

// Open opens the named port (COM3, /dev/ttyACM0, or a pseudo-terminal) at
// baud (0 means DefaultBaud), 8N1, raw, without flow control; reads block
// until bytes arrive or the port is closed. It returns an error naming the
// port and saying what to check.
func Open(name string, baud int) (*Port, error) {
	if baud == 0 {
		baud = DefaultBaud
	}
	if baud < 0 {
		return nil, fmt.Errorf("open %s: baud rate %d is negative", name, baud)
	}
	p, err := serial.Open(name, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		var pe *serial.PortError
		hint := "check the name with 'evidock-bridge ports'"
		if errors.As(err, &pe) {
			switch pe.Code() {
			case serial.PortBusy:
				hint = "another program has it open"
			case serial.PermissionDenied:
				hint = "this user may not open it (on Linux, join the dialout group)"
			}
		}
		return nil, fmt.Errorf("open %s: %w (%s)", name, err, hint)
	}
	return &Port{name: name, p: p}, nil
}

// Name returns the name the port was opened by.
func (p *Port) Name() string { return p.name }

// Read reads what has arrived, blocking until at least one byte has or the
// port is closed.
func (p *Port) Read(b []byte) (int, error) { return p.p.Read(b) }

// Write writes b to the port.
func (p *Port) Write(b []byte) (int, error) { return p.p.Write(b) }

// Close closes the port; a blocked Read returns an error.
func (p *Port) Close() error { return p.p.Close() }

// USBID is a USB vendor and product ID.
type USBID struct {
	VID, PID uint16
}

// String returns the ID as lsusb prints it: 1a86:7523.
func (u USBID) String() string { return fmt.Sprintf("%04x:%04x", u.VID, u.PID) }

// ParseUSBID parses VID:PID in hex, e.g. 1a86:7523 (either case, with or
// without 0x).
func ParseUSBID(s string) (USBID, error) {
	v, p, ok := strings.Cut(strings.TrimSpace(s), ":")
	vid, err1 := parseHex16(v)
	pid, err2 := parseHex16(p)
	if !ok || err1 != nil || err2 != nil {
		return USBID{}, fmt.Errorf("USB ID %q: want VID:PID in hex, e.g. 1a86:7523", s)
	}
	return USBID{vid, pid}, nil
}

func parseHex16(s string) (uint16, error) {
	s = strings.TrimPrefix(strings.ToLower(s), "0x")
	if s == "" || len(s) > 4 {
		return 0, strconv.ErrSyntax
	}
	v, err := strconv.ParseUint(s, 16, 16)
	return uint16(v), err
}

// ParseUSBIDs parses a comma-separated list of VID:PID; empty gives none.
func ParseUSBIDs(list string) ([]USBID, error) {
	var ids []USBID
	for item := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		id, err := ParseUSBID(item)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Bridges are USB-serial converter chips that recorders and their docking
// cables commonly carry. A port with one of these is worth trying, but it
// is not known to be a recorder: only configured IDs are.
var Bridges = map[USBID]string{
	{0x1a86, 0x7523}: "WCH CH340",
	{0x1a86, 0x55d4}: "WCH CH9102",
	{0x10c4, 0xea60}: "Silicon Labs CP210x",
	{0x067b, 0x2303}: "Prolific PL2303",
	{0x0403, 0x6001}: "FTDI FT232R",
	{0x0403, 0x6015}: "FTDI FT231X",
}

// PortInfo describes a serial port on this machine.
type PortInfo struct {
	Name         string // COM3, /dev/ttyACM0
	USB          bool
	ID           USBID  // when USB
	SerialNumber string // USB serial number, when known
	Product      string // USB product string, when known
	Recorder     bool   // ID is one of the configured recorder IDs
	Bridge       string // the USB-serial chip, if ID is in Bridges
}

// ListPorts returns the system's serial ports, sorted by name, marking
// those whose USB ID is in recorders. It returns the enumerator's error,
// wrapped, if the ports cannot be listed.
func ListPorts(recorders []USBID) ([]PortInfo, error) {
	details, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("list serial ports: %w", err)
	}
	ports := make([]PortInfo, 0, len(details))
	for _, d := range details {
		pi := PortInfo{Name: d.Name, USB: d.IsUSB, SerialNumber: d.SerialNumber, Product: d.Product}
		if d.IsUSB {
			if id, err := ParseUSBID(d.VID + ":" + d.PID); err == nil {
				pi.ID = id
				pi.Recorder = slices.Contains(recorders, id)
				pi.Bridge = Bridges[id]
			}
		}
		ports = append(ports, pi)
	}
	slices.SortFunc(ports, func(a, b PortInfo) int { return cmp.Compare(a.Name, b.Name) })
	return ports, nil
}
