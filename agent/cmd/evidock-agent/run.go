package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"evidock/agent"
	"evidock/agent/sqlite"
	"evidock/internal/cli"
	"evidock/s3"
	serverhttp "evidock/server/http"
)

// Main is the running agent and what it holds open.
type Main struct {
	ConfigPath string
	Config     Config
	state      *sqlite.DB
}

// NewMain returns a Main with no config loaded.
func NewMain() *Main { return &Main{} }

// ParseFlags reads the flags of "run" and loads the config they name.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&m.ConfigPath, "config", "", "config file (YAML), e.g. configs/agent.yaml")
	if err := fs.Parse(args); err != nil {
		return &cli.UsageError{Err: err}
	}
	if m.ConfigPath == "" {
		return cli.Usagef("run: --config is required")
	}
	var err error
	m.Config, err = LoadConfig(m.ConfigPath)
	return err
}

// Run opens the state, the object store and the server client, then runs
// the pipeline until ctx is done.
func (m *Main) Run(ctx context.Context) error {
	c := m.Config
	logger, err := cli.NewLogger(os.Stderr, c.LogLevel)
	if err != nil {
		return err
	}
	if m.state, err = sqlite.Open(ctx, c.StatePath); err != nil {
		return err
	}
	store, err := s3.Open(ctx, c.S3)
	if err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	a := &agent.Agent{
		StationID:          c.StationID,
		MountRoot:          c.MountRoot,
		StagingDir:         c.StagingDir,
		State:              m.state,
		Objects:            store,
		Registry:           serverhttp.NewClient(c.Server.URL, c.Server.Token),
		Settle:             c.Settle,
		StagingReserve:     max(c.StagingReserveMiB<<20, 1), // 0 in the config means none; 0 in Agent means default
		ClearAfter:         c.ClearAfter,
		SkipSourceReverify: !c.ReverifySource,
		MultipartThreshold: c.Upload.MultipartThresholdMiB << 20,
		PartSize:           c.Upload.PartSizeMiB << 20,
		Logger:             logger,
	}
	logger.Info("evidock-agent starting", "version", cli.Version, "station", c.StationID, "bucket", store.Bucket(), "server", c.Server.URL)
	return a.Run(ctx)
}

// Close releases what Run opened.
func (m *Main) Close() error {
	if m.state != nil {
		return m.state.Close()
	}
	return nil
}
