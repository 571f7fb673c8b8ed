package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"evidock/internal/cli"
	"evidock/s3"
	"evidock/server"
	evhttp "evidock/server/http"
	"evidock/server/web"
)

// shutdownGrace is how long serve waits for requests in progress after a
// signal; a registration reading a large clip back may need a while.
const shutdownGrace = 30 * time.Second

// serve runs the API until ctx ends. It returns a *cli.UsageError for a bad
// config and other errors if the database, the store or the address cannot
// be used.
func (m *Main) serve(ctx context.Context) error {
	cfg := m.Config
	if err := cfg.ResolveSecrets(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	if err := cfg.Validate(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	level, _ := cfg.Level() // checked by Validate
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))

	db, dbName, err := m.openStore(ctx, cfg.Database)
	if err != nil {
		return err
	}
	m.db = db
	rlog, err := m.openLog(cfg.Log, db, logger)
	if err != nil {
		return err
	}
	store, err := s3.Open(ctx, cfg.S3)
	if err != nil {
		return fmt.Errorf("open the S3 store at %s: %w", cfg.S3.Endpoint, err)
	}
	reportObjectLock(logger, store)
	// Clips registered before the log existed go in before any receipt
	// is given; see catchUpLog for the rest.
	if n, err := rlog.CatchUp(ctx); err != nil {
		return err
	} else if n > 0 {
		logger.Info("transparency log: appended clips registered before it", "clips", n)
	}
	reg := &server.Registry{Clips: db, Objects: store, VerifyDigest: cfg.VerifyDigest, Fixity: db}
	srv := evhttp.NewServer(reg, db, db, db.Ping, logger)
	srv.SetLog(rlog)
	checker := newChecker(cfg.Fixity, db, store, logger)
	srv.SetStatus(statusConfig(cfg, db, store, checker))
	srv.SetCases(evhttp.CaseServices{Units: db, Officers: db, Cases: db, Links: db})
	people, err := peopleConfig(cfg.Auth, db, store)
	if err != nil {
		return err
	}
	if err := srv.SetPeople(people); err != nil {
		return cli.Usage(fmt.Errorf("config %s: auth: %w", m.configName(), err))
	}
	ui, err := web.New(web.Config{Auth: people.Auth, Access: db, Audit: db, Clips: db, Scope: people.Scope,
		Units: db, Cases: db, Links: db, Objects: store, Log: rlog, Now: people.Now,
		CookieSecure: people.CookieSecure, TrustedOrigins: people.TrustedOrigins, Logger: logger})
	if err != nil {
		return err
	}
	srv.SetWeb(ui)
	if err := srv.Listen(cfg.Listen); err != nil {
		return err
	}
	logger.Info("listening on "+srv.URL(), "database", dbName,
		"s3", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket, "verify_digest", cfg.VerifyDigest, "version", version(),
		"log_origin", rlog.Origin(), "log_verifier_key", rlog.VerifierKey())
	catchUpCtx, stopCatchUp := context.WithCancel(ctx)
	defer stopCatchUp()
	go catchUpLog(catchUpCtx, rlog, logger)
	// Deferred, so that the checker has given back its claims before
	// Close closes the database.
	stopFixity := runFixity(ctx, checker, logger)
	defer stopFixity()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in progress", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// configName names the config in messages.
func (m *Main) configName() string {
	if m.ConfigPath == "" {
		return "(defaults)"
	}
	return m.ConfigPath
}
