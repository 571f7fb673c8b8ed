package protocol

import "fmt"

// Version is the protocol major version this package speaks: the VER byte of
// every frame it sends. MinorVersion counts compatible additions within it
// (PROTOCOL.md §9).
const (
	Version      = 1
	MinorVersion = 0
)

// Command is the CMD byte of a frame: what a request asks for, and what a
// response answers.
type Command uint8

// Commands of protocol version 1.0; PROTOCOL.md §5 gives their payloads.
const (
	CmdIdentify         Command = 0x01 // who the device is, and what it can do
	CmdGetInfo          Command = 0x02 // read the GA/T 947 recorder info
	CmdSetInfo          Command = 0x03 // write the recorder info (password)
	CmdGetTime          Command = 0x04 // read the device clock
	CmdSetTime          Command = 0x05 // set the device clock (password)
	CmdEnterMassStorage Command = 0x06 // switch to USB mass storage (password)
	CmdGetStatus        Command = 0x07 // battery, resolution, storage, recording
	CmdList             Command = 0x08 // one page of the recording list
	CmdRead             Command = 0x09 // one chunk of a recording
)

var commandNames = map[Command]string{
	CmdIdentify:         "IDENTIFY",
	CmdGetInfo:          "GET_INFO",
	CmdSetInfo:          "SET_INFO",
	CmdGetTime:          "GET_TIME",
	CmdSetTime:          "SET_TIME",
	CmdEnterMassStorage: "ENTER_MSC",
	CmdGetStatus:        "GET_STATUS",
	CmdList:             "LIST",
	CmdRead:             "READ",
}

// String returns the command's name in PROTOCOL.md, or its number in hex.
func (c Command) String() string {
	if s, ok := commandNames[c]; ok {
		return s
	}
	return fmt.Sprintf("CMD_0x%02X", uint8(c))
}

// Known reports whether c is a command of this protocol version.
func (c Command) Known() bool {
	_, ok := commandNames[c]
	return ok
}
