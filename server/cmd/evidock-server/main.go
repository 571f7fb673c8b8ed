// Command evidock-server is the case server: it keeps the registry of
// footage that docking stations upload and serves the HTTP API.
//
// Run 'evidock-server help' for the commands and exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"evidock/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], NewMain())
	stop()
	os.Exit(code)
}

// run parses args into m, runs it, closes it and returns the exit code.
func run(ctx context.Context, args []string, m *Main) int {
	err := m.ParseFlags(args)
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return cli.Exit(m.Stderr, "evidock-server", err)
}

// Main is one run of the program.
type Main struct {
	Stdout, Stderr io.Writer
	// Stdin is where 'user add' reads the password from without
	// --password-file.
	Stdin io.Reader

	// Command is "serve", "station add", "station revoke", "unit add",
	// "user add", "audit verify", "audit checkpoint", "log keygen",
	// "backup", "version" or "help".
	Command    string
	ConfigPath string
	Config     Config
	Station    StationFlags
	LogKey     LogKeyFlags
	Unit       UnitFlags
	User       UserFlags
	Audit      AuditFlags
	Backup     BackupFlags

	db store // the registry database, once Run has opened it
}

// StationFlags are the flags of 'station add' and (ID alone) 'station
// revoke'.
type StationFlags struct {
	ID, Name, TokenFile string
}

// NewMain returns a Main writing to the process's standard output and error.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Config: DefaultConfig()}
}

// ParseFlags reads the command line and the config file it names. It returns
// a *cli.UsageError for a bad command line or config, and flag.ErrHelp after
// printing the usage when asked for it.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		return cli.Usagef("no command given: use serve, station add, station revoke, unit add, user add, audit verify, audit checkpoint, log keygen, backup or version")
	}
	fs := flag.NewFlagSet("evidock-server", flag.ContinueOnError)
	fs.StringVar(&m.ConfigPath, "config", "", "")
	name := args[0]
	args = args[1:]
	switch name {
	case "serve", "version":
	case "station":
		if len(args) == 0 || (args[0] != "add" && args[0] != "revoke") {
			return cli.Usagef("station: use 'station add' or 'station revoke'")
		}
		name, args = "station "+args[0], args[1:]
		fs.StringVar(&m.Station.ID, "id", "", "")
		if name == "station add" {
			fs.StringVar(&m.Station.Name, "name", "", "")
			fs.StringVar(&m.Station.TokenFile, "token-file", "", "")
		}
	case "unit":
		if len(args) == 0 || args[0] != "add" {
			return cli.Usagef("unit: use 'unit add'")
		}
		name, args = "unit add", args[1:]
		fs.StringVar(&m.Unit.Code, "code", "", "")
		fs.StringVar(&m.Unit.Name, "name", "", "")
		fs.StringVar(&m.Unit.Level, "level", "", "")
		fs.StringVar(&m.Unit.Parent, "parent", "", "")
	case "user":
		if len(args) == 0 || args[0] != "add" {
			return cli.Usagef("user: use 'user add'")
		}
		name, args = "user add", args[1:]
		fs.StringVar(&m.User.Login, "login", "", "")
		fs.StringVar(&m.User.Name, "name", "", "")
		fs.StringVar(&m.User.OfficerNo, "officer-no", "", "")
		fs.Var(&m.User.Roles, "role", "")
		fs.Var(&m.User.Units, "unit", "")
		fs.StringVar(&m.User.PasswordFile, "password-file", "", "")
	case "audit":
		if len(args) == 0 || (args[0] != "verify" && args[0] != "checkpoint") {
			return cli.Usagef("audit: use 'audit verify' or 'audit checkpoint'")
		}
		name, args = "audit "+args[0], args[1:]
		fs.StringVar(&m.Audit.Checkpoint, "checkpoint", "", "")
		if name == "audit verify" {
			fs.StringVar(&m.Audit.KeyFile, "key", "", "")
		}
	case "log":
		if len(args) == 0 || args[0] != "keygen" {
			return cli.Usagef("log: use 'log keygen'")
		}
		name, args = "log keygen", args[1:]
		fs.StringVar(&m.LogKey.Origin, "origin", "", "")
		fs.StringVar(&m.LogKey.PrivateKeyFile, "private-key-file", "", "")
		fs.StringVar(&m.LogKey.PublicKeyFile, "public-key-file", "", "")
	case "backup":
		fs.StringVar(&m.Backup.To, "to", "", "")
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return flag.ErrHelp
	default:
		return cli.Usagef("unknown command %q: use serve, station add, station revoke, unit add, user add, audit verify, audit checkpoint, log keygen, backup or version", name)
	}
	m.Command = name
	rest, err := cli.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(m.Stdout, usage)
	}
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return cli.Usagef("%s: unexpected argument %q", name, rest[0])
	}
	if name == "version" || name == "log keygen" {
		return nil // they read no config
	}
	if m.Config, err = ReadConfig(m.ConfigPath); err != nil {
		return cli.Usage(err)
	}
	return nil
}

// Run runs the parsed command until it is done or, for serve, until ctx ends.
func (m *Main) Run(ctx context.Context) error {
	switch m.Command {
	case "serve":
		return m.serve(ctx)
	case "station add":
		return m.addStation(ctx)
	case "station revoke":
		return m.revokeStation(ctx)
	case "unit add":
		return m.addUnit(ctx)
	case "user add":
		return m.addUser(ctx)
	case "audit verify":
		return m.auditVerify(ctx)
	case "audit checkpoint":
		return m.auditCheckpoint(ctx)
	case "log keygen":
		return m.logKeygen()
	case "backup":
		return m.backup(ctx)
	case "version":
		fmt.Fprintln(m.Stdout, "evidock-server", version())
		return nil
	}
	return cli.Usagef("no command given")
}

// Close releases what Run opened; it returns the database's close error.
func (m *Main) Close() error {
	if m.db != nil {
		err := m.db.Close()
		m.db = nil
		return err
	}
	return nil
}
