package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"evidock/agent"
	"evidock/agent/dockscreen"
	"evidock/agent/usb"
	"evidock/firmware-bridge/serial"
	"evidock/internal/cli"
	"evidock/internal/tlsca"
	"evidock/s3"
	"evidock/server/translog"
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
	// KeepStaged and StagingLowWaterMiB say when staged copies of safe
	// recordings are removed.
	KeepStaged         time.Duration `yaml:"keep_staged"`
	StagingLowWaterMiB int64         `yaml:"staging_low_water_mib"`
	// MaxCopies bounds recorders read at once; MaxUploads uploads at once.
	MaxCopies  int `yaml:"max_copies"`
	MaxUploads int `yaml:"max_uploads"`
	Upload     struct {
		MultipartThresholdMiB int64                   `yaml:"multipart_threshold_mib"`
		PartSizeMiB           int64                   `yaml:"part_size_mib"`
		Bandwidth             agent.BandwidthSchedule `yaml:"bandwidth"`
	} `yaml:"upload"`
	Detect DetectConfig `yaml:"detect"`
	Bridge BridgeConfig `yaml:"bridge"`
	Server struct {
		URL       string `yaml:"url"`
		TokenFile string `yaml:"token_file"`
		Token     string `yaml:"-"` // from EVIDOCK_STATION_TOKEN or TokenFile
		// LogPublicKeyFile holds the registry log's verifier key: receipts
		// must verify against it before a recorder is cleared.
		LogPublicKeyFile string `yaml:"log_public_key_file"`
		LogKey           string `yaml:"-"`
		// CAFile holds PEM certificates to trust for an https url, besides
		// the machine's own roots: the bureau's private CA.
		CAFile string      `yaml:"ca_file"`
		TLS    *tls.Config `yaml:"-"` // from CAFile; nil for the machine's roots
	} `yaml:"server"`
	S3         s3.Config        `yaml:"s3"`
	DockScreen DockScreenConfig `yaml:"dock_screen"`
	LogLevel   string           `yaml:"log_level"`
}

// DetectConfig says how docked recorders are found.
type DetectConfig struct {
	// Mode is "mounts" (the system's mount table, with USB admission) or
	// "directories" (any directory appearing under mount_root).
	Mode string `yaml:"mode"`
	// MountRoots are where mounts count, in "mounts" mode.
	MountRoots []string `yaml:"mount_roots"`
	// RecorderUSBIDs are the VID:PID of the recorders that may be read;
	// any other USB volume is ignored and never read.
	RecorderUSBIDs []string `yaml:"recorder_usb_ids"`
	// AllowNonUSB admits volumes that are not on USB when they have a
	// recorder's layout.
	AllowNonUSB bool `yaml:"allow_non_usb"`
}

// BridgeConfig says whether and how the agent talks to recorders over the
// firmware bridge's serial protocol.
type BridgeConfig struct {
	Enabled bool `yaml:"enabled"`
	// SerialUSBIDs are the VID:PID of recorders' serial ports.
	SerialUSBIDs []string `yaml:"serial_usb_ids"`
	Baud         int      `yaml:"baud"`
	// PasswordFile holds the recorders' password (or EVIDOCK_RECORDER_PASSWORD).
	PasswordFile string `yaml:"password_file"`
	Password     string `yaml:"-"`
	// SpoolDir receives recordings pulled over serial from recorders
	// without mass storage; each recorder's folder is ingested as a volume.
	SpoolDir string `yaml:"spool_dir"`
}

// EnvRecorderPassword overrides bridge.password_file.
const EnvRecorderPassword = "EVIDOCK_RECORDER_PASSWORD"

// DefaultDockScreenListen is where the dock screen is served unless the
// config says otherwise: loopback, for the docking PC's own browser.
const DefaultDockScreenListen = "127.0.0.1:8441"

// DockScreenConfig says where the agent serves the dock screen, the page
// officers watch while their recorders are docked (see agent/dockscreen).
type DockScreenConfig struct {
	// Listen is the host:port of the dock screen's HTTP server; empty turns
	// the dock screen off. The host must be loopback unless AllowRemote.
	Listen string `yaml:"listen"`
	// AllowRemote lets Listen be any address: the page then shows officers'
	// numbers and recorder serials to the network.
	AllowRemote bool `yaml:"allow_remote"`
}

// URL returns the dock screen's address for a browser or client on this
// machine: a wildcard host (":8441", "0.0.0.0:8441") is reached on
// 127.0.0.1. It returns "" when the dock screen is off.
func (d DockScreenConfig) URL() string {
	if d.Listen == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(d.Listen)
	if err != nil {
		return "http://" + d.Listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Validate returns an error naming dock_screen.listen and the fix when it
// is not a host:port with a fixed port, or not loopback without
// allow_remote.
func (d DockScreenConfig) Validate() error {
	if d.Listen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(d.Listen)
	if err != nil {
		return fmt.Errorf("dock_screen.listen %q: want host:port, e.g. %s, or \"\" to turn the dock screen off", d.Listen, DefaultDockScreenListen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("dock_screen.listen %q: the port must be a number from 1 to 65535 (a fixed one, so that the dock's browser and \"evidock-agent status\" find it), e.g. %s", d.Listen, DefaultDockScreenListen)
	}
	if !d.AllowRemote && !dockscreen.IsLoopbackHost(host) {
		return fmt.Errorf("dock_screen.listen %q is not a loopback address: the dock screen shows officers' numbers and belongs to this PC; use %s (or [::1]:PORT, localhost:PORT), or set dock_screen.allow_remote: true to serve it to the network", d.Listen, DefaultDockScreenListen)
	}
	return nil
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
	c.KeepStaged = agent.DefaultKeepStaged
	c.StagingLowWaterMiB = agent.DefaultStagingLowWater >> 20
	c.MaxCopies = agent.DefaultMaxCopies
	c.MaxUploads = agent.DefaultMaxUploads
	c.Detect.Mode = "directories"
	c.Detect.MountRoots = usb.DefaultRoots
	c.S3 = s3.DefaultConfig()
	c.DockScreen.Listen = DefaultDockScreenListen
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
	tlsConfig, err := tlsca.Load(c.Server.CAFile)
	if err != nil {
		return fmt.Errorf("server.ca_file: %w", err)
	}
	c.Server.TLS = tlsConfig
	if c.Server.LogPublicKeyFile != "" {
		k, err := translog.ReadVerifierKey(c.Server.LogPublicKeyFile)
		if err != nil {
			return fmt.Errorf("server.log_public_key_file: %w", err)
		}
		c.Server.LogKey = k
	}
	if v := os.Getenv(EnvRecorderPassword); v != "" {
		c.Bridge.Password = v
	} else if c.Bridge.Enabled && c.Bridge.PasswordFile != "" {
		b, err := os.ReadFile(c.Bridge.PasswordFile)
		if err != nil {
			return fmt.Errorf("bridge.password_file: %w", err)
		}
		c.Bridge.Password = strings.TrimSpace(string(b))
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
	case c.Detect.Mode != "mounts" && c.Detect.Mode != "directories":
		return fmt.Errorf("detect.mode %q: want mounts (the system's mounts, USB recorders only) or directories (any directory under mount_root)", c.Detect.Mode)
	case c.Detect.Mode == "directories" && c.MountRoot == "":
		return errors.New("mount_root is empty: set it to where recorder volumes appear, e.g. /media/evidock")
	case c.Detect.Mode == "mounts" && len(c.Detect.MountRoots) == 0:
		return errors.New("detect.mount_roots is empty: list where recorders are mounted, e.g. [/media, /run/media]")
	case c.Detect.Mode == "mounts" && len(c.Detect.RecorderUSBIDs) == 0 && !c.Detect.AllowNonUSB:
		return errors.New("detect.recorder_usb_ids is empty: list the recorders' USB VID:PID (see 'evidock-bridge ports'); no volume would ever be read")
	case c.Bridge.Enabled && len(c.Bridge.SerialUSBIDs) == 0:
		return errors.New("bridge.serial_usb_ids is empty: list the recorders' serial USB VID:PID, or set bridge.enabled: false")
	case c.Bridge.Enabled && c.Bridge.SpoolDir == "":
		return errors.New("bridge.spool_dir is empty: set it to a local directory for recordings pulled over serial, e.g. /var/lib/evidock/spool")
	case c.Bridge.Enabled && c.Bridge.Password == "":
		return fmt.Errorf("recorder password is missing: set bridge.password_file or %s", EnvRecorderPassword)
	case c.MaxCopies < 1 || c.MaxUploads < 1:
		return fmt.Errorf("max_copies %d and max_uploads %d must be at least 1", c.MaxCopies, c.MaxUploads)
	case c.KeepStaged < 0 || c.StagingLowWaterMiB < 0:
		return errors.New("keep_staged and staging_low_water_mib must not be negative")
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
	case c.Server.CAFile != "" && !strings.HasPrefix(c.Server.URL, "https://"):
		return fmt.Errorf("server.ca_file is set, but server.url %q is not https: use https, or drop ca_file", c.Server.URL)
	case c.Server.Token == "":
		return fmt.Errorf("station token is missing: set server.token_file or %s", EnvStationToken)
	}
	if _, err := cli.NewLogger(os.Stderr, c.LogLevel); err != nil {
		return err
	}
	if err := c.DockScreen.Validate(); err != nil {
		return err
	}
	if err := c.Upload.Bandwidth.Validate(); err != nil {
		return fmt.Errorf("upload.bandwidth.%w", err)
	}
	if _, err := usb.ParseIDs(strings.Join(c.Detect.RecorderUSBIDs, ",")); err != nil && len(c.Detect.RecorderUSBIDs) > 0 {
		return fmt.Errorf("detect.recorder_usb_ids: %w", err)
	}
	if _, err := serial.ParseUSBIDs(strings.Join(c.Bridge.SerialUSBIDs, ",")); err != nil && len(c.Bridge.SerialUSBIDs) > 0 {
		return fmt.Errorf("bridge.serial_usb_ids: %w", err)
	}
	return c.S3.Validate()
}
