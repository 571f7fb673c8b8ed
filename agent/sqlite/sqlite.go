// Package sqlite keeps the agent's durable pipeline state in an embedded
// SQLite database (modernc.org/sqlite: pure Go, so Windows docking PCs need
// no C toolchain). It implements agent.StateStore.
//
// Every write is its own transaction with synchronous=FULL: when a method
// returns, the new state survives a power cut.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"evidock"
	"evidock/agent"
	"evidock/internal/migrate"
)

var _ agent.StateStore = (*DB)(nil)

//go:embed migration/*.sql
var migrations embed.FS

// DB is the agent's state database.
type DB struct {
	db *sql.DB
}

// Open opens (creating if needed) the state database at path and brings its
// schema up to date. It returns an error naming path if either fails.
func Open(ctx context.Context, path string) (*DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	// One writer at a time is SQLite's rule; one connection keeps it simple.
	db.SetMaxOpenConns(1)
	sub, _ := fs.Sub(migrations, "migration")
	if err := migrate.Apply(ctx, db, sub); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// order puts marked recordings first, then the oldest: the nearest
// deadlines.
const order = "important DESC, started_at, id"

const columns = `id, volume, rel_path, file_name, size, mod_time, device_serial, officer_no,
	started_at, seq, kind, state, error, blake3, staged_path, upload_id, parts, clip_id, receipt,
	discovered_at, ingested_at, stored_at, registered_at, updated_at, clock_offset_ms, important, error_code`

// AddRecording inserts r, or queues a failed recording again; see agent.StateStore.
func (s *DB) AddRecording(ctx context.Context, r *agent.Recording) (bool, error) {
	now := time.Now()
	r.DiscoveredAt, r.UpdatedAt = now, now
	res, err := s.db.ExecContext(ctx, `INSERT INTO recordings (volume, rel_path, file_name, size, mod_time,
		device_serial, officer_no, started_at, seq, kind, state, error, discovered_at, updated_at, clock_offset_ms, important, error_code)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (file_name, size) DO NOTHING`,
		r.Volume, r.RelPath, r.FileName, r.Size, formatTime(r.ModTime), r.DeviceSerial, r.OfficerNo,
		formatTime(r.StartedAt), r.Seq, string(r.Kind), string(r.State), r.Error, formatTime(now), formatTime(now),
		r.ClockOffsetMS, r.Important, string(r.ErrorCode))
	if err != nil {
		return false, fmt.Errorf("add recording %s: %w", r.FileName, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		r.ID, _ = res.LastInsertId()
		return true, nil
	}
	// Known already: it is on the volume where the recorder is now. A
	// failed one starts over from its last safe point, and a cleared one
	// that is back on a recorder is cleared again.
	res, err = s.db.ExecContext(ctx, `UPDATE recordings SET volume = $1, rel_path = $2, updated_at = $3,
		state = CASE WHEN clip_id > 0 THEN $4 ELSE $5 END, error = '', error_code = ''
		WHERE file_name = $6 AND size = $7 AND state IN ($8, $9)`,
		r.Volume, r.RelPath, formatTime(now), string(agent.StateRegistered), string(agent.StateDiscovered),
		r.FileName, r.Size, string(agent.StateFailed), string(agent.StateCleared))
	if err != nil {
		return false, fmt.Errorf("requeue recording %s: %w", r.FileName, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE recordings SET volume = $1, rel_path = $2, important = important OR $3
		WHERE file_name = $4 AND size = $5`, r.Volume, r.RelPath, r.Important, r.FileName, r.Size); err != nil {
		return false, fmt.Errorf("update recording %s: %w", r.FileName, err)
	}
	return false, nil
}

// NextRecording returns the oldest recording in one of states, or ENOTFOUND.
func (s *DB) NextRecording(ctx context.Context, states ...agent.State) (*agent.Recording, error) {
	args := make([]any, len(states))
	marks := make([]string, len(states))
	for i, st := range states {
		args[i], marks[i] = string(st), fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM recordings
		WHERE state IN (`+strings.Join(marks, ",")+`) ORDER BY `+order+` LIMIT 1`, args...)
	if err != nil {
		return nil, fmt.Errorf("next recording: %w", err)
	}
	recs, err := scanRecordings(rows)
	if err != nil {
		return nil, fmt.Errorf("next recording: %w", err)
	}
	if len(recs) == 0 {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "no recording in states %v", states)
	}
	return recs[0], nil
}

// UpdateRecording stores every mutable field of r.
func (s *DB) UpdateRecording(ctx context.Context, r *agent.Recording) error {
	parts, err := json.Marshal(r.Parts)
	if err != nil {
		return fmt.Errorf("update recording %d: %w", r.ID, err)
	}
	r.UpdatedAt = time.Now()
	digest := ""
	if !r.Digest.IsZero() {
		digest = r.Digest.String()
	}
	res, err := s.db.ExecContext(ctx, `UPDATE recordings SET volume = $1, rel_path = $2, state = $3, error = $4,
		blake3 = $5, staged_path = $6, upload_id = $7, parts = $8, clip_id = $9, receipt = $10,
		ingested_at = $11, stored_at = $12, registered_at = $13, updated_at = $14, error_code = $15 WHERE id = $16`,
		r.Volume, r.RelPath, string(r.State), r.Error, digest, r.StagedPath, r.UploadID, string(parts), r.ClipID, r.Receipt,
		formatTime(r.IngestedAt), formatTime(r.StoredAt), formatTime(r.RegisteredAt), formatTime(r.UpdatedAt), string(r.ErrorCode), r.ID)
	if err != nil {
		return fmt.Errorf("update recording %d: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return evidock.Errorf(evidock.ENOTFOUND, "update recording %d: no such recording", r.ID)
	}
	return nil
}

// FindRecordings returns the recordings matching f, oldest first.
func (s *DB) FindRecordings(ctx context.Context, f agent.RecordingFilter) ([]*agent.Recording, error) {
	var where []string
	var args []any
	if f.Volume != "" {
		args = append(args, f.Volume)
		where = append(where, fmt.Sprintf("volume = $%d", len(args)))
	}
	if len(f.States) > 0 {
		var marks []string
		for _, st := range f.States {
			args = append(args, string(st))
			marks = append(marks, fmt.Sprintf("$%d", len(args)))
		}
		where = append(where, "state IN ("+strings.Join(marks, ",")+")")
	}
	q := `SELECT ` + columns + ` FROM recordings`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + order
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find recordings: %w", err)
	}
	recs, err := scanRecordings(rows)
	if err != nil {
		return nil, fmt.Errorf("find recordings: %w", err)
	}
	return recs, nil
}

// RecordDock stores what a recorder said at a dock; see agent.StateStore.
func (s *DB) RecordDock(ctx context.Context, d agent.RecorderDock) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record dock of %s: %w", d.DeviceSerial, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO recorders (device_serial, docked_at, clock_offset_ms, synced_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (device_serial) DO UPDATE SET
		docked_at = excluded.docked_at, clock_offset_ms = excluded.clock_offset_ms, synced_at = excluded.synced_at`,
		d.DeviceSerial, formatTime(d.DockedAt), d.ClockOffset.Milliseconds(), formatTime(d.SyncedAt)); err != nil {
		return fmt.Errorf("record dock of %s: %w", d.DeviceSerial, err)
	}
	for _, name := range d.Important {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recorder_marks (device_serial, file_name) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, d.DeviceSerial, name); err != nil {
			return fmt.Errorf("record dock of %s: %w", d.DeviceSerial, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record dock of %s: %w", d.DeviceSerial, err)
	}
	return nil
}

// LastDock returns what the recorder said at its last dock, or ENOTFOUND.
func (s *DB) LastDock(ctx context.Context, serial string) (agent.RecorderDock, error) {
	d := agent.RecorderDock{DeviceSerial: serial}
	var docked, synced string
	var offsetMS int64
	err := s.db.QueryRowContext(ctx, `SELECT docked_at, clock_offset_ms, synced_at FROM recorders WHERE device_serial = $1`,
		serial).Scan(&docked, &offsetMS, &synced)
	if errors.Is(err, sql.ErrNoRows) {
		return d, evidock.Errorf(evidock.ENOTFOUND, "recorder %s was never docked through the bridge", serial)
	}
	if err != nil {
		return d, fmt.Errorf("last dock of %s: %w", serial, err)
	}
	d.ClockOffset = time.Duration(offsetMS) * time.Millisecond
	if d.DockedAt, err = parseTime(docked); err != nil {
		return d, err
	}
	if d.SyncedAt, err = parseTime(synced); err != nil {
		return d, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT file_name FROM recorder_marks WHERE device_serial = $1 ORDER BY file_name`, serial)
	if err != nil {
		return d, fmt.Errorf("last dock of %s: %w", serial, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return d, err
		}
		d.Important = append(d.Important, name)
	}
	return d, rows.Err()
}

func scanRecordings(rows *sql.Rows) ([]*agent.Recording, error) {
	defer rows.Close()
	var recs []*agent.Recording
	for rows.Next() {
		var r agent.Recording
		var modTime, startedAt, kind, state, digest, parts, discovered, ingested, stored, registered, updated, errorCode string
		if err := rows.Scan(&r.ID, &r.Volume, &r.RelPath, &r.FileName, &r.Size, &modTime, &r.DeviceSerial,
			&r.OfficerNo, &startedAt, &r.Seq, &kind, &state, &r.Error, &digest, &r.StagedPath, &r.UploadID,
			&parts, &r.ClipID, &r.Receipt, &discovered, &ingested, &stored, &registered, &updated,
			&r.ClockOffsetMS, &r.Important, &errorCode); err != nil {
			return nil, err
		}
		r.Kind, r.State, r.ErrorCode = evidock.MediaKind(kind), agent.State(state), agent.NoteCode(errorCode)
		if digest != "" {
			d, err := evidock.ParseDigest(digest)
			if err != nil {
				return nil, fmt.Errorf("recording %d: %w", r.ID, err)
			}
			r.Digest = d
		}
		if err := json.Unmarshal([]byte(parts), &r.Parts); err != nil {
			return nil, fmt.Errorf("recording %d parts: %w", r.ID, err)
		}
		for _, t := range []struct {
			dst *time.Time
			src string
		}{{&r.ModTime, modTime}, {&r.StartedAt, startedAt}, {&r.DiscoveredAt, discovered}, {&r.IngestedAt, ingested},
			{&r.StoredAt, stored}, {&r.RegisteredAt, registered}, {&r.UpdatedAt, updated}} {
			v, err := parseTime(t.src)
			if err != nil {
				return nil, fmt.Errorf("recording %d: %w", r.ID, err)
			}
			*t.dst = v
		}
		recs = append(recs, &r)
	}
	return recs, rows.Err()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// timeLayout has a fixed width so that times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("bad time " + s)
	}
	return t, nil
}
