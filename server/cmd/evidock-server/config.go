package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"evidock"
	"evidock/internal/cli"
	"evidock/s3"
	"evidock/server/translog"
)

// Config is the server's configuration, read from YAML (see
// configs/server.yaml). Relative paths are relative to the working
// directory.
type Config struct {
	// Listen is the host:port the API is served on.
	Listen string `yaml:"listen"`
	// Database says where clips and stations are stored.
	Database DatabaseConfig `yaml:"database"`
	// S3 is the object store the docking stations upload footage to.
	S3 s3.Config `yaml:"s3"`
	// VerifyDigest makes the server read every newly registered clip back
	// from the store and check its BLAKE3; see server.Registry.
	VerifyDigest bool `yaml:"verify_digest"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Log is the registry's transparency log (not the server's own log,
	// which LogLevel sets): the key that signs its checkpoints.
	Log LogConfig `yaml:"log"`
	// Fixity is the schedule on which stored footage is read back and
	// checked against the registry; see FixityConfig.
	Fixity FixityConfig `yaml:"fixity"`
	// Auth says how people log in; see AuthConfig.
	Auth AuthConfig `yaml:"auth"`
}

// LogConfig says how the registry's transparency log signs its
// checkpoints; see package server/translog.
type LogConfig struct {
	// Origin names the log: the first line of every checkpoint and the
	// name of its key, e.g. "evidock.bureau.example/registry". Empty means
	// the signing key's name; if set, it must be that name.
	Origin string `yaml:"origin"`
	// SigningKeyFile holds the note signing key (mode 0600), made by
	// 'evidock-server log keygen'. It defaults to DefaultLogKeyPath.
	SigningKeyFile string `yaml:"signing_key_file"`
	// CreateKey makes serve create the key, and its public key beside it
	// in SigningKeyFile+".pub", if the file does not exist: right for a
	// first run on embedded defaults, wrong in production, where a lost
	// key file must stop the server rather than start a log signed by a
	// key nobody knows.
	CreateKey bool `yaml:"create_key"`
}

// DatabaseConfig says which database holds the registry.
type DatabaseConfig struct {
	// Driver is "sqlite" (embedded, one server) or "postgres" (one or more
	// servers sharing the database).
	Driver string `yaml:"driver"`
	// Path is the SQLite database file; for sqlite only. It defaults to
	// DefaultDBPath.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string; for postgres only. As it
	// may hold a password, it can instead come from DSNFile or from
	// EVIDOCK_DATABASE_DSN, which take precedence; see ResolveSecrets.
	DSN string `yaml:"dsn"`
	// DSNFile names a file holding the PostgreSQL connection string.
	DSNFile string `yaml:"dsn_file"`

	// dsnFrom names where DSN came from, for messages: the environment
	// variable, database.dsn_file or database.dsn.
	dsnFrom string
}

// EnvDatabaseDSN is the environment variable that, when set, gives the
// PostgreSQL connection string, so that a password need not be written into
// a config file.
const EnvDatabaseDSN = "EVIDOCK_DATABASE_DSN"

// ResolveSecrets fills DSN from EVIDOCK_DATABASE_DSN or, failing that, from
// DSNFile. It returns an error naming the setting at fault if the file cannot
// be read or is empty, or if both dsn and dsn_file are set.
func (d *DatabaseConfig) ResolveSecrets() error {
	if d.DSN != "" && d.DSNFile != "" {
		return errors.New("database.dsn and database.dsn_file are both set: keep one (dsn_file, if the connection string holds a password)")
	}
	if v := os.Getenv(EnvDatabaseDSN); v != "" {
		d.DSN, d.dsnFrom = v, EnvDatabaseDSN
		return nil
	}
	if d.DSNFile != "" {
		b, err := os.ReadFile(d.DSNFile)
		if err != nil {
			return fmt.Errorf("database.dsn_file: %w", err)
		}
		d.DSN, d.dsnFrom = strings.TrimSpace(string(b)), "database.dsn_file"
		if d.DSN == "" {
			return fmt.Errorf("database.dsn_file %s is empty: write the PostgreSQL connection string into it, e.g. %s", d.DSNFile, exampleDSN)
		}
		return nil
	}
	if d.DSN != "" {
		d.dsnFrom = "database.dsn"
	}
	return nil
}

// exampleDSN shows the form of a PostgreSQL connection string in messages.
const exampleDSN = "postgres://evidock@db.internal:5432/evidock?sslmode=verify-full"

// Defaults of a server running on one machine beside a local S3-compatible
// store, as the README sets it up.
const (
	DefaultListen     = "127.0.0.1:8440"
	DefaultDBPath     = "var/server/evidock.db"
	DefaultS3Endpoint = "http://127.0.0.1:7070"
	DefaultS3Bucket   = "footage"
	// DefaultLogKeyPath is where the log's signing key is kept by default,
	// beside the SQLite database.
	DefaultLogKeyPath = "var/server/log.key"
)

// DefaultConfig returns the configuration used for every setting the config
// file leaves out. The S3 credentials have no default: they come from the
// file or the environment.
func DefaultConfig() Config {
	s3cfg := s3.DefaultConfig()
	s3cfg.Endpoint, s3cfg.Bucket = DefaultS3Endpoint, DefaultS3Bucket
	return Config{
		Listen:       DefaultListen,
		Database:     DatabaseConfig{Driver: "sqlite", Path: DefaultDBPath},
		S3:           s3cfg,
		VerifyDigest: true,
		LogLevel:     "info",
		Log:          LogConfig{SigningKeyFile: DefaultLogKeyPath, CreateKey: true},
		Fixity:       DefaultFixityConfig(),
		Auth:         DefaultAuthConfig(),
	}
}

// ReadConfig returns DefaultConfig overlaid with the YAML file at path (none
// if path is ""). Unknown keys are errors, so that a misspelt setting is not
// silently left at its default. Errors start with "config PATH:" and name
// the key at fault. It neither resolves secrets nor validates: each command
// checks what it needs.
func ReadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	// The SQLite path defaults only for sqlite: a file that sets driver
	// postgres must not find a path it never wrote (see ValidateDatabase).
	cfg.Database.Path = ""
	if err := cli.LoadYAML(path, &cfg); err != nil {
		return cfg, err
	}
	if cfg.Database.Driver == "sqlite" && cfg.Database.Path == "" {
		cfg.Database.Path = DefaultDBPath
	}
	return cfg, nil
}

// ResolveSecrets fills the secrets that come from the environment or from
// files: the S3 credentials and the PostgreSQL connection string. It returns
// an error naming the setting at fault.
func (c *Config) ResolveSecrets() error {
	if err := c.S3.ResolveSecrets(); err != nil {
		return err
	}
	return c.Database.ResolveSecrets()
}

// Validate returns an error naming the first bad setting and how to fix it.
// It checks the S3 and database settings too, so call ResolveSecrets first.
func (c *Config) Validate() error {
	if err := c.validateListen(); err != nil {
		return err
	}
	if err := c.ValidateDatabase(); err != nil {
		return err
	}
	if err := c.S3.Validate(); err != nil {
		return err
	}
	if _, err := c.Level(); err != nil {
		return err
	}
	if err := c.Fixity.Validate(); err != nil {
		return err
	}
	if err := c.Auth.Validate(); err != nil {
		return err
	}
	return c.Log.Validate()
}

// Validate returns an error naming the first bad log setting and its fix.
func (l *LogConfig) Validate() error {
	if l.SigningKeyFile == "" {
		return fmt.Errorf("log.signing_key_file is empty: set it to the file 'evidock-server log keygen' wrote, e.g. %s", DefaultLogKeyPath)
	}
	if l.Origin != "" {
		if err := translog.ValidateOrigin(l.Origin); err != nil {
			return fmt.Errorf("log.origin: %s", evidock.ErrorMessage(err))
		}
	}
	return nil
}

func (c *Config) validateListen() error {
	if c.Listen == "" {
		return fmt.Errorf("listen is empty: set it to host:port, e.g. %s", DefaultListen)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q is not host:port: write it like %s", c.Listen, DefaultListen)
	}
	return nil
}

// ValidateDatabase returns an error naming the first bad database setting and
// how to fix it; commands that touch only the database need no more. Call
// DatabaseConfig.ResolveSecrets first.
func (c *Config) ValidateDatabase() error {
	d := &c.Database
	dsnFrom := d.dsnFrom
	if dsnFrom == "" {
		dsnFrom = "database.dsn"
	}
	switch d.Driver {
	case "sqlite":
		switch {
		case d.Path == "":
			return fmt.Errorf("database.path is empty: set it to the SQLite file, e.g. %s", DefaultDBPath)
		case d.DSNFile != "":
			return errors.New("database.dsn_file is set, but database.driver is sqlite: remove it, or set database.driver: postgres")
		case d.DSN != "":
			return fmt.Errorf("%s is set, but database.driver is sqlite: remove it, or set database.driver: postgres", dsnFrom)
		}
	case "postgres":
		switch {
		case d.Path != "":
			return fmt.Errorf("database.path is for sqlite: remove it; with driver postgres the database is named by database.dsn, database.dsn_file or %s", EnvDatabaseDSN)
		case d.DSN == "":
			return fmt.Errorf("database.dsn is empty: with driver postgres set database.dsn_file (or %s, or database.dsn if it holds no password) to a connection string such as %s",
				EnvDatabaseDSN, exampleDSN)
		}
	case "":
		return errors.New("database.driver is empty: set it to sqlite or postgres")
	default:
		return fmt.Errorf("database.driver %q is unknown: use sqlite or postgres", d.Driver)
	}
	return nil
}

// Level returns the slog level LogLevel names, or an error naming the field.
func (c *Config) Level() (slog.Level, error) {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level %q is unknown: use debug, info, warn or error", c.LogLevel)
}
