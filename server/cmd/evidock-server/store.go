package main

import (
	"context"
	"fmt"

	"evidock"
	"evidock/internal/cli"
	"evidock/server"
	"evidock/server/audit"
	"evidock/server/auth"
	"evidock/server/fixity"
	"evidock/server/postgres"
	"evidock/server/sqlite"
	"evidock/server/translog"
)

// store is what the server needs of a registry database; the SQLite and the
// PostgreSQL stores both provide it.
type store interface {
	evidock.ClipService
	evidock.StationService
	evidock.RecorderService
	// Units, officers, cases, their activities and the clips linked to
	// them.
	evidock.UnitService
	evidock.OfficerService
	evidock.CaseService
	evidock.LinkService
	translog.HashStore // the transparency log, appended to with every clip
	fixity.Store       // the schedule and results of fixity checks, and alarms
	auth.Store         // users, sessions, failed logins
	evidock.AccessService
	audit.Store             // the audit log of people's actions
	server.LinkedCaseFinder // the cases a clip is linked to, for authorization
	// Ping returns EUNAVAILABLE if the database does not answer.
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ store = (*sqlite.DB)(nil)
	_ store = (*postgres.DB)(nil)
)

// openStore opens and migrates the database cfg names, and returns it with a
// description for logs that holds no password. Call ResolveSecrets and
// ValidateDatabase first. It returns a *cli.UsageError if the settings
// cannot be used (a malformed connection string, say), and the store's error
// if the database cannot be opened.
func (m *Main) openStore(ctx context.Context, cfg DatabaseConfig) (store, string, error) {
	var (
		db   store
		desc string
		err  error
	)
	switch cfg.Driver {
	case "sqlite":
		var s *sqlite.DB
		if s, err = sqlite.Open(ctx, cfg.Path); err == nil {
			db, desc = s, "sqlite "+s.Path()
		}
	case "postgres":
		var p *postgres.DB
		if p, err = postgres.Open(ctx, cfg.DSN); err == nil {
			db, desc = p, "postgres "+p.Target()
		}
	default:
		// ValidateDatabase rejects it first.
		return nil, "", cli.Usagef("config %s: database.driver %q is unknown: use sqlite or postgres", m.configName(), cfg.Driver)
	}
	if evidock.ErrorCode(err) == evidock.EINVALID {
		return nil, "", cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	if err != nil {
		return nil, "", err
	}
	return db, desc, nil
}
