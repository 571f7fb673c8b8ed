package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"evidock/agent"
	"evidock/agent/bridge"
	"evidock/agent/dockscreen"
	"evidock/agent/metrics"
	"evidock/agent/sqlite"
	"evidock/agent/usb"
	"evidock/firmware-bridge/serial"
	"evidock/internal/cli"
	"evidock/s3"
	serverhttp "evidock/server/http"
)

// Main is the running agent and what it holds open.
type Main struct {
	ConfigPath string
	Config     Config

	state *sqlite.DB
}

// shutdownTimeout bounds how long Run waits for dock screen requests in
// flight when it stops.
const shutdownTimeout = 5 * time.Second

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

// Run opens the state, the dock screen's listener, the object store and the
// server client, then runs the pipeline and serves the dock screen until ctx
// is done; it returns nil then. A dock screen that cannot listen is a
// startup error, returned before anything runs; a failure of either the
// pipeline or the dock screen stops both and is returned.
func (m *Main) Run(ctx context.Context) error {
	c := m.Config
	logger, err := cli.NewLogger(os.Stderr, c.LogLevel)
	if err != nil {
		return err
	}
	if m.state, err = sqlite.Open(ctx, c.StatePath); err != nil {
		return err
	}
	var ln net.Listener
	if c.DockScreen.Listen != "" {
		if ln, err = net.Listen("tcp", c.DockScreen.Listen); err != nil {
			return fmt.Errorf("dock screen: %w (is another agent running? change dock_screen.listen, or set it to \"\" to turn the dock screen off)", err)
		}
		defer ln.Close()
	}
	limiter := rate.NewLimiter(rate.Inf, 1<<20)
	store, err := s3.Open(ctx, c.S3, s3.WithUploadLimiter(limiter))
	if err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	client := serverhttp.NewClient(c.Server.URL, c.Server.Token)
	client.UseTLS(c.Server.TLS)
	a := &agent.Agent{
		StationID:          c.StationID,
		MountRoot:          c.MountRoot,
		StagingDir:         c.StagingDir,
		State:              m.state,
		Objects:            store,
		Registry:           client,
		LogKey:             c.Server.LogKey,
		Settle:             c.Settle,
		StagingReserve:     max(c.StagingReserveMiB<<20, 1), // 0 in the config means none; 0 in Agent means default
		ClearAfter:         c.ClearAfter,
		SkipSourceReverify: !c.ReverifySource,
		MultipartThreshold: c.Upload.MultipartThresholdMiB << 20,
		PartSize:           c.Upload.PartSizeMiB << 20,
		KeepStaged:         c.KeepStaged,
		StagingLowWater:    max(c.StagingLowWaterMiB<<20, 1),
		MaxCopies:          c.MaxCopies,
		MaxUploads:         c.MaxUploads,
		UploadLimiter:      limiter,
		Bandwidth:          c.Upload.Bandwidth,
		Logger:             logger,
	}
	if c.Detect.Mode == "mounts" {
		ids, _ := usb.ParseIDs(strings.Join(c.Detect.RecorderUSBIDs, ",")) // checked by Validate
		a.Mounts = &usb.Watcher{Roots: c.Detect.MountRoots, Settle: c.Settle, Logger: logger}
		a.Admission = usb.Policy{Allow: ids, AllowNonUSB: c.Detect.AllowNonUSB}
	}
	if c.Bridge.Enabled {
		ids, _ := serial.ParseUSBIDs(strings.Join(c.Bridge.SerialUSBIDs, ",")) // checked by Validate
		ports := &bridge.PortWatcher{IDs: ids, Baud: c.Bridge.Baud, Logger: logger,
			Dock: &bridge.Dock{Password: c.Bridge.Password, State: m.state, Recorders: client, Logger: logger, SpoolDir: c.Bridge.SpoolDir},
			OnResult: func(res *bridge.Result, err error) {
				if res == nil {
					return
				}
				if res.Spool != "" {
					if err := a.ScanVolume(ctx, res.Spool); err != nil {
						logger.Error("scan pulled recordings", "volume", res.Spool, "err", err)
					}
				}
				kind := agent.AlarmRecorderStorage + ":" + res.Recorder.DeviceSerial
				if res.StorageAlarm {
					a.RaiseAlarm(kind, fmt.Sprintf("recorder %s storage %d%% full: loop recording will soon overwrite footage",
						res.Recorder.DeviceSerial, 100*res.Recorder.StorageUsed/max(res.Recorder.StorageTotal, 1)))
				} else {
					a.ClearAlarm(kind)
				}
			}}
		go func() {
			if err := ports.Run(ctx); err != nil {
				logger.Error("serial port watcher stopped", "err", err)
			}
		}()
	}
	logger.Info("evidock-agent starting", "version", cli.Version, "station", c.StationID, "bucket", store.Bucket(), "server", c.Server.URL)
	if ln == nil {
		logger.Info("dock screen off (dock_screen.listen is empty)")
		return a.Run(ctx)
	}
	// The dock screen also serves the agent's Prometheus metrics at
	// /metrics, for a scraper on this PC (or beyond, with allow_remote).
	opts := []dockscreen.Option{dockscreen.WithLogger(logger), dockscreen.WithMetrics(metrics.Handler(a, logger))}
	if c.DockScreen.AllowRemote {
		opts = append(opts, dockscreen.WithRemote())
	}
	srv := &http.Server{
		Handler:           dockscreen.New(a, opts...),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("dock screen", "url", c.DockScreen.URL(), "listen", ln.Addr().String())
	return runBoth(ctx, a.Run, srv, ln)
}

// runBoth runs the pipeline and serves srv on ln until ctx is done or one
// of them fails, then stops the other: the pipeline first, so that the
// screen shows its last state until the end.
func runBoth(ctx context.Context, pipeline func(context.Context) error, srv *http.Server, ln net.Listener) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			cancel(fmt.Errorf("dock screen: %w", err))
		}
	}()
	err := pipeline(ctx)
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer scancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	<-served
	if err == nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause
		}
	}
	return err
}

// Close releases what Run opened.
func (m *Main) Close() error {
	if m.state != nil {
		return m.state.Close()
	}
	return nil
}
