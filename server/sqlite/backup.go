package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"evidock"
	"evidock/internal/durable"
)

// Backup writes a copy of the database to a new file in the directory of
// path and returns its name, while the server goes on serving: VACUUM INTO
// reads one snapshot, so the copy holds every registration committed before
// it started and none of those after. The copy is synced before Backup
// returns. The caller checks it (Open it and call CheckIntegrity) and then
// gives it its final name with Publish, so that a file at path is never a
// partial or unchecked backup. It returns ECONFLICT if path exists.
func (db *DB) Backup(ctx context.Context, path string) (string, error) {
	if _, err := os.Lstat(path); err == nil {
		return "", evidock.Errorf(evidock.ECONFLICT, "backup: %s exists already: a backup never replaces a file; choose a new name", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	// VACUUM INTO accepts an empty file, so the temporary name can be
	// reserved first.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	f.Close()
	if _, err := db.db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("backup: copy %s to %s: %w", db.path, tmp, err)
	}
	if err := durable.SyncFile(tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("backup: %w", err)
	}
	return tmp, nil
}

// Publish gives tmp, the copy Backup wrote, its final name, path, unless
// path has appeared meanwhile (ECONFLICT), and syncs the directory so that
// the name survives a power cut.
func Publish(tmp, path string) error {
	// A link, unlike a rename, never replaces an existing file.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return evidock.Errorf(evidock.ECONFLICT, "backup: %s exists already: a backup never replaces a file; choose a new name", path)
		}
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return durable.SyncDir(filepath.Dir(path))
}

// CheckIntegrity runs SQLite's integrity check over the whole database and
// returns EINTERNAL with its first findings if it finds anything wrong.
func (db *DB) CheckIntegrity(ctx context.Context) error {
	rows, err := db.db.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err != nil {
		return fmt.Errorf("integrity check of %s: %w", db.path, err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity check of %s: %w", db.path, err)
		}
		found = append(found, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check of %s: %w", db.path, err)
	}
	if len(found) != 1 || found[0] != "ok" {
		return evidock.Errorf(evidock.EINTERNAL, "integrity check of %s failed: %q", db.path, found)
	}
	return nil
}
