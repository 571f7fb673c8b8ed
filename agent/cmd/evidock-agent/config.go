package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"evidock/agent"
	"evidock/internal/cli"
	"evidock/s3"
)

// EnvStationToken overrides server.token_file.
const EnvStationToken = "EVIDOCK_STATION_TOKEN"

// Config is the agent's configuration file; configs/agent.yaml documents it.
type Config struct {
	StationID  string        `yaml:"station_id"`
	MountRoot  string        `yaml:"mount_root"`
	StagingDir string        `yaml:"staging_dir"`
	StatePath  string        `yaml:"state_path"`
	Settle     time.Duration `yaml:"settle"`
	// StagingReserveMiB is kept free on the staging disk.
	StagingReserveMiB int64 `yaml:"staging_reserve_mib"`
	// ClearAfter is "registered" (delete from the recorder once provably
	// safe) or "never"; ReverifySource reads a file a second time first.
	ClearAfter     agent.ClearPolicy `yaml:"clear_after"`
	ReverifySource bool              `yaml:"reverify_source"`
	Upload         struct {
		MultipartThresholdMiB int64 `yaml:"multipart_threshold_mib"`
		PartSizeMiB           int64 `yaml:"part_size_mib"`
	} `yaml:"upload"`
	Server struct {
		URL       string `yaml:"url"`
		TokenFile string `yaml:"token_file"`
		Token     string `yaml:"-"` // from EVIDOCK_STATION_TOKEN or TokenFile
	} `yaml:"server"`
	S3       s3.Config `yaml:"s3"`
	LogLevel string    `yaml:"log_level"`
}

// DefaultConfig returns the settings used where the file is silent.
func DefaultConfig() Config {
	var c Config
	c.Settle = agent.DefaultSettle
	c.StagingReserveMiB = agent.DefaultStagingReserve >> 20
	c.ClearAfter = agent.ClearAfterRegistered
	c.ReverifySource = true
	c.Upload.MultipartThresholdMiB = agent.DefaultMultipartThreshold >> 20
	c.Upload.PartSizeMiB = agent.DefaultPartSize >> 20
	c.S3 = s3.DefaultConfig()
	c.LogLevel = "info"
	return c
}

// LoadConfig reads, completes and validates the config file at path.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if err := cli.LoadYAML(path, &c); err != nil {
		return c, err
	}
	if err := c.resolveSecrets(); err != nil {
		return c, &cli.UsageError{Err: fmt.Errorf("config %s: %w", path, err)}
	}
	if err := c.Validate(); err != nil {
		return c, &cli.UsageError{Err: fmt.Errorf("config %s: %w", path, err)}
	}
	return c, nil
}

func (c *Config) resolveSecrets() error {
	if err := c.S3.ResolveSecrets(); err != nil {
		return err
	}
	if v := os.Getenv(EnvStationToken); v != "" {
		c.Server.Token = v
		return nil
	}
	if c.Server.TokenFile != "" {
		b, err := os.ReadFile(c.Server.TokenFile)
		if err != nil {
			return fmt.Errorf("server.token_file: %w", err)
		}
		c.Server.Token = strings.TrimSpace(string(b))
	}
	return nil
}

// Validate returns an error naming the first bad field and its fix.
func (c *Config) Validate() error {
	switch {
	case c.StationID == "":
		return errors.New("station_id is empty: set it to this docking station's ID, as registered on the case server")
	case c.MountRoot == "":
		return errors.New("mount_root is empty: set it to where recorder volumes are mounted, e.g. /media/evidock")
	case c.StagingDir == "":
		return errors.New("staging_dir is empty: set it to a directory on a local disk with room for a shift's footage")
	case c.StatePath == "":
		return errors.New("state_path is empty: set it to the agent's state database, e.g. /var/lib/evidock/agent.db")
	case c.Settle < 100*time.Millisecond:
		return fmt.Errorf("settle %v is too short: use at least 100ms (default %v)", c.Settle, agent.DefaultSettle)
	case c.ClearAfter != agent.ClearAfterRegistered && c.ClearAfter != agent.ClearNever:
		return fmt.Errorf("clear_after %q: want %q or %q", c.ClearAfter, agent.ClearAfterRegistered, agent.ClearNever)
	case c.StagingReserveMiB < 0:
		return fmt.Errorf("staging_reserve_mib %d is negative: use 0 or more", c.StagingReserveMiB)
	case c.Upload.PartSizeMiB < 5:
		return fmt.Errorf("upload.part_size_mib %d is below the S3 minimum: use 5 or more", c.Upload.PartSizeMiB)
	case c.Upload.MultipartThresholdMiB < c.Upload.PartSizeMiB:
		return fmt.Errorf("upload.multipart_threshold_mib %d must be at least upload.part_size_mib %d", c.Upload.MultipartThresholdMiB, c.Upload.PartSizeMiB)
	case c.Server.URL == "":
		return errors.New("server.url is empty: set it to the case server, e.g. http://127.0.0.1:8440")
	case c.Server.Token == "":
		return fmt.Errorf("station token is missing: set server.token_file or %s", EnvStationToken)
	}
	if _, err := cli.NewLogger(os.Stderr, c.LogLevel); err != nil {
		return err
	}
	return c.S3.Validate()
}
