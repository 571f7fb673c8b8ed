package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"evidock/firmware-bridge/protocol"
	"evidock/firmware-bridge/serial"
	"evidock/internal/cli"
)

// EnvPassword holds the recorder password when --password-file is not given.
const EnvPassword = "EVIDOCK_RECORDER_PASSWORD"

// connFlags are the flags of every command that talks to a recorder.
type connFlags struct {
	port         string
	baud         int
	timeout      time.Duration
	retries      int
	passwordFile string
	password     string // loaded by check; never printed or logged
	chunk        int    // READ size; 0 is the default
}

// register adds the connection flags to fs, and --password-file if the
// command needs a password.
func (c *connFlags) register(fs *flag.FlagSet, password bool) {
	fs.StringVar(&c.port, "port", "", "serial `port` of the recorder, e.g. /dev/ttyACM0 or COM3 (required; see 'evidock-bridge ports')")
	fs.IntVar(&c.baud, "baud", serial.DefaultBaud, "line speed; 8 data bits, no parity, 1 stop bit")
	fs.DurationVar(&c.timeout, "timeout", protocol.DefaultTimeout, "how long to wait for each answer, beyond the time the bytes take at --baud")
	fs.IntVar(&c.retries, "retries", protocol.DefaultRetries, "how often to send a request again after no answer or a damaged one")
	if password {
		fs.StringVar(&c.passwordFile, "password-file", "", "`file` holding the recorder password (default: $"+EnvPassword+")")
	}
}

// check checks the flags and loads the password if the command needs one.
// It returns a *cli.UsageError naming the flag and the fix.
func (c *connFlags) check(password bool) error {
	if c.port == "" {
		return cli.Usagef("--port is required: the recorder's serial port, e.g. --port /dev/ttyACM0 (list them with 'evidock-bridge ports')")
	}
	if c.baud <= 0 {
		return cli.Usagef("--baud %d: must be positive, e.g. --baud 115200", c.baud)
	}
	if c.timeout <= 0 {
		return cli.Usagef("--timeout %s: must be positive, e.g. --timeout 1s", c.timeout)
	}
	if c.retries < 0 {
		return cli.Usagef("--retries %d: must not be negative", c.retries)
	}
	if password {
		pw, err := loadPassword(c.passwordFile, os.Getenv)
		if err != nil {
			return err
		}
		c.password = pw
	}
	return nil
}

// loadPassword returns the password from file, or from $EVIDOCK_RECORDER_PASSWORD
// if file is "". A trailing line end is not part of it. The error never
// holds the password.
func loadPassword(file string, getenv func(string) string) (string, error) {
	var pw, from string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", cli.Usagef("--password-file: %v", err)
		}
		pw, from = strings.TrimRight(string(b), "\r\n"), "--password-file "+file
	} else {
		pw, from = getenv(EnvPassword), "$"+EnvPassword
		if pw == "" {
			return "", cli.Usagef("no recorder password: give --password-file FILE or set %s", EnvPassword)
		}
	}
	if pw == "" || len(pw) > protocol.PasswordLen || strings.ContainsAny(pw, "\x00\r\n") {
		return "", cli.Usagef("%s: the password must be one line of 1 to %d bytes", from, protocol.PasswordLen)
	}
	return pw, nil
}

// dial opens the port and identifies the recorder.
func (c *connFlags) dial(ctx context.Context) (*protocol.Client, protocol.Identity, error) {
	port, err := serial.Open(c.port, c.baud)
	if err != nil {
		return nil, protocol.Identity{}, err
	}
	retries := c.retries
	if retries == 0 {
		retries = -1 // ClientOptions takes 0 for the default
	}
	client := protocol.NewClient(port, protocol.ClientOptions{
		Timeout:   c.timeout,
		Retries:   retries,
		LineRate:  c.baud / 10, // 8N1: ten bits a byte
		ChunkSize: c.chunk,
	})
	id, err := client.Identify(ctx)
	if err != nil {
		client.Close()
		return nil, id, fmt.Errorf("%s: %w", c.port, err)
	}
	return client, id, nil
}

// parseFlags parses args with fs for the named command: flags may follow
// arguments, and there must be no arguments.
func parseFlags(name string, fs *flag.FlagSet, args []string) error {
	rest, err := cli.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &UsageError{Command: name, Err: err}
	}
	if len(rest) > 0 {
		return usageErrorf(name, "unexpected argument %q: all settings are flags", rest[0])
	}
	return nil
}

// usageFor gives a usage error from check the command's name.
func usageFor(name string, err error) error {
	var u *cli.UsageError
	if errors.As(err, &u) {
		return &UsageError{Command: name, Err: u.Err}
	}
	return err
}

// printFlags writes the flags of fs to w.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
