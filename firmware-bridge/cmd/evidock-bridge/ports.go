package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"evidock/firmware-bridge/serial"
)

// EnvUSBIDs lists the USB IDs of recorders, VID:PID comma-separated, when
// --usb-ids is not given.
const EnvUSBIDs = "EVIDOCK_RECORDER_USB_IDS"

// PortsCommand is `evidock-bridge ports`: the serial ports of this PC.
type PortsCommand struct {
	Stdout io.Writer
	// List lists the ports; serial.ListPorts unless a test says otherwise.
	List func([]serial.USBID) ([]serial.PortInfo, error)

	ids []serial.USBID // set by ParseFlags
}

func (c *PortsCommand) flagSet(ids *string) *flag.FlagSet {
	fs := flag.NewFlagSet("ports", flag.ContinueOnError)
	fs.StringVar(ids, "usb-ids", os.Getenv(EnvUSBIDs), "USB IDs of recorders, `VID:PID,...` in hex, e.g. 1a86:7523 (default: $"+EnvUSBIDs+")")
	return fs
}

// ParseFlags parses --usb-ids.
func (c *PortsCommand) ParseFlags(ctx context.Context, args []string) error {
	var ids string
	if err := parseFlags("ports", c.flagSet(&ids), args); err != nil {
		return err
	}
	var err error
	if c.ids, err = serial.ParseUSBIDs(ids); err != nil {
		return usageErrorf("ports", "--usb-ids: %v", err)
	}
	return nil
}

// Run prints one line per port. It returns the enumerator's error, wrapped.
func (c *PortsCommand) Run(ctx context.Context) error {
	list := c.List
	if list == nil {
		list = serial.ListPorts
	}
	ports, err := list(c.ids)
	if err != nil {
		return fmt.Errorf("ports: %w", err)
	}
	if len(ports) == 0 {
		_, err := fmt.Fprintln(c.Stdout, "no serial ports found: is the recorder plugged in and switched to serial mode?")
		return err
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tUSB ID\tSERIAL\tPRODUCT\tWHAT")
	for _, p := range ports {
		id, what := "-", "-"
		if p.USB {
			id = p.ID.String()
		}
		switch {
		case p.Recorder:
			what = "recorder"
		case p.Bridge != "":
			what = "USB-serial adapter (" + p.Bridge + "), maybe a recorder: add its ID to --usb-ids"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, id, dash(p.SerialNumber), dash(p.Product), what)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Usage writes the help of ports.
func (c *PortsCommand) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: evidock-bridge ports [--usb-ids VID:PID,...]

Lists the serial ports of this PC with their USB vendor and product ID,
serial number and product name, and marks the recorders: ports whose USB ID
is in --usb-ids. Ports of common USB-serial chips are marked as possible
recorders.

Flags:
`)
	var ids string
	printFlags(w, c.flagSet(&ids))
}
