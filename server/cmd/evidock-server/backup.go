package main

import (
	"context"
	"fmt"
	"os"

	"evidock"
	"evidock/internal/cli"
	"evidock/server/sqlite"
	"evidock/server/translog"
)

// BackupFlags are the flags of 'backup'.
type BackupFlags struct {
	To string
}

// backup copies the SQLite registry to a new file while the server may go
// on serving, checks the copy and only then gives it its name: a file at
// --to is a complete backup whose transparency log is the live log's
// beginning.
func (m *Main) backup(ctx context.Context) error {
	to := m.Backup.To
	if to == "" {
		return cli.Usagef("backup: --to is required: the new file to write the backup to, e.g. --to /backup/evidock-registry.db")
	}
	if err := m.Config.Database.ResolveSecrets(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	if err := m.Config.ValidateDatabase(); err != nil {
		return cli.Usage(fmt.Errorf("config %s: %w", m.configName(), err))
	}
	if m.Config.Database.Driver != "sqlite" {
		return cli.Usagef("backup: config %s: database.driver is %s: back PostgreSQL up with its own tools (pg_basebackup with WAL archiving, or pg_dump); backup copies a SQLite registry", m.configName(), m.Config.Database.Driver)
	}
	if _, err := os.Lstat(to); err == nil {
		return cli.Usagef("backup: --to %s exists already: a backup never replaces a file; choose a new name", to)
	}
	opened, _, err := m.openStore(ctx, m.Config.Database)
	if err != nil {
		return err
	}
	m.db = opened
	live := opened.(*sqlite.DB)

	// A large registry takes a while to copy and to check: say what is
	// going on.
	fmt.Fprintf(m.Stderr, "backup: copying %s...\n", live.Path())
	copyPath, err := live.Backup(ctx, to)
	if err != nil {
		return err
	}
	published := false
	defer func() {
		if !published {
			os.Remove(copyPath)
		}
	}()
	fmt.Fprintf(m.Stderr, "backup: checking the copy (SQLite's integrity check, and its transparency log against its records and the live log)...\n")
	sum, err := checkBackup(ctx, copyPath, live)
	if err != nil {
		return fmt.Errorf("backup: the copy failed its check, so %s was not written: %w", to, err)
	}
	if err := sqlite.Publish(copyPath, to); err != nil {
		if evidock.ErrorCode(err) == evidock.ECONFLICT {
			return cli.Usage(err)
		}
		return err
	}
	published = true
	fmt.Fprintf(m.Stdout, `backup written: %s (%d bytes)
  %d clips; transparency log of %d records, root %s (the live log's first %d records)
to restore it: stop the server, move the database at database.path away with its -wal and -shm files, copy the backup there, start the server
`, to, sum.bytes, sum.clips, sum.logSize, sum.root, sum.logSize)
	return nil
}

// backupSummary is what checkBackup found in a backup.
type backupSummary struct {
	bytes, logSize int64
	clips          int
	root           evidock.LogHash
}

// checkBackup opens the copy at path and checks it: SQLite's integrity
// check, its log's root from its stored hashes against the root its records
// give, and against the live log's root at the same size, which shows that
// the copy's log is the beginning of the live one and nothing was lost or
// changed on the way.
func checkBackup(ctx context.Context, path string, live translog.HashStore) (backupSummary, error) {
	var sum backupSummary
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return sum, err
	}
	defer db.Close()
	if err := db.CheckIntegrity(ctx); err != nil {
		return sum, err
	}
	if sum.logSize, err = db.LogSize(ctx); err != nil {
		return sum, err
	}
	tree, err := translog.RebuildTree(ctx, db, sum.logSize)
	if err != nil {
		return sum, err
	}
	fromRecords, err := tree.Root(sum.logSize)
	if err != nil {
		return sum, err
	}
	if sum.root, err = translog.TreeRoot(ctx, db, sum.logSize); err != nil {
		return sum, err
	}
	if sum.root != fromRecords {
		return sum, evidock.Errorf(evidock.EINTERNAL, "the copy's log hashes give root %s, but its records give %s", sum.root, fromRecords)
	}
	liveRoot, err := translog.TreeRoot(ctx, live, sum.logSize)
	if err != nil {
		return sum, err
	}
	if liveRoot != sum.root {
		return sum, evidock.Errorf(evidock.EINTERNAL, "the copy's log of %d records has root %s, but the live log's first %d records have root %s", sum.logSize, sum.root, sum.logSize, liveRoot)
	}
	if _, sum.clips, err = db.FindClips(ctx, evidock.ClipFilter{Limit: 1}); err != nil {
		return sum, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return sum, err
	}
	sum.bytes = info.Size()
	return sum, nil
}
