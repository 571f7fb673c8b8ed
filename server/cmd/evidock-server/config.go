package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"evidock/internal/cli"
	"evidock/s3"
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
}

// DatabaseConfig says which database holds the registry.
type DatabaseConfig struct {
	// Driver is "sqlite"; "postgres" will follow.
	Driver string `yaml:"driver"`
	// Path is the SQLite database file.
	Path string `yaml:"path"`
}

// Defaults of a server running on one machine beside a local S3-compatible
// store, as the README sets it up.
const (
	DefaultListen     = "127.0.0.1:8440"
	DefaultDBPath     = "var/server/evidock.db"
	DefaultS3Endpoint = "http://127.0.0.1:7070"
	DefaultS3Bucket   = "footage"
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
	if err := cli.LoadYAML(path, &cfg); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Validate returns an error naming the first bad setting and how to fix it.
// It checks the S3 settings too, so call s3.Config.ResolveSecrets first.
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
// how to fix it; commands that touch only the database need no more.
func (c *Config) ValidateDatabase() error {
	switch c.Database.Driver {
	case "sqlite":
	case "":
		return errors.New("database.driver is empty: set it to sqlite")
	case "postgres", "postgresql":
		return fmt.Errorf("database.driver %s is not supported yet: use sqlite", c.Database.Driver)
	default:
		return fmt.Errorf("database.driver %q is unknown: use sqlite", c.Database.Driver)
	}
	if c.Database.Path == "" {
		return fmt.Errorf("database.path is empty: set it to the SQLite file, e.g. %s", DefaultDBPath)
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
