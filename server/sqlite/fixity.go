package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"evidock"
	"evidock/server/fixity"
)

var _ fixity.Store = (*DB)(nil)

// ClaimClips leases to holder up to n due clips, never-checked first and
// then oldest-checked; see fixity.Store. One server uses a SQLite database,
// but the claim is the same as on PostgreSQL so that both run one code path:
// it runs in an immediate transaction, which no other claim can interleave.
func (db *DB) ClaimClips(ctx context.Context, holder string, n int, interval, lease time.Duration) ([]fixity.Target, error) {
	if err := fixity.ValidateClaim(holder, n, interval, lease); err != nil {
		return nil, err
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError("claim clips", err)
	}
	defer tx.Rollback()
	// Every clip has its schedule row from its registration on (a trigger,
	// migration 010).
	now := db.now()
	rows, err := tx.QueryContext(ctx, `SELECT f.clip_id, c.blake3, c.size, c.object_key, c.file_name, COALESCE(f.last_checked_at, '')
		FROM fixity_state f JOIN clips c ON c.id = f.clip_id
		WHERE (f.last_checked_at IS NULL OR f.last_checked_at <= ?)
			AND (f.lease_until IS NULL OR f.lease_until <= ?)
		ORDER BY f.last_checked_at, f.clip_id
		LIMIT ?`, formatTime(now.Add(-interval)), formatTime(now), n)
	if err != nil {
		return nil, dbError("claim clips", err)
	}
	var targets []fixity.Target
	for rows.Next() {
		var (
			t            fixity.Target
			digest, last string
		)
		if err := rows.Scan(&t.ClipID, &digest, &t.Size, &t.ObjectKey, &t.FileName, &last); err != nil {
			rows.Close()
			return nil, dbError("claim clips", err)
		}
		if t.Digest, err = evidock.ParseDigest(digest); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: claim clips: clip %d: stored blake3 %q: %v", t.ClipID, digest, err)
		}
		if last != "" {
			if t.LastCheckedAt, err = parseTime(last); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: claim clips: clip %d: %w", t.ClipID, err)
			}
		}
		targets = append(targets, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("claim clips", err)
	}
	until := formatTime(now.Add(lease))
	for _, t := range targets {
		if _, err := tx.ExecContext(ctx, "UPDATE fixity_state SET lease_holder = ?, lease_until = ? WHERE clip_id = ?",
			holder, until, t.ClipID); err != nil {
			return nil, dbError("claim clips", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, dbError("claim clips", err)
	}
	return targets, nil
}

// ExtendLease renews holder's lease of a clip; ECONFLICT if holder no
// longer holds it.
func (db *DB) ExtendLease(ctx context.Context, holder string, clipID int64, lease time.Duration) error {
	res, err := db.db.ExecContext(ctx, "UPDATE fixity_state SET lease_until = ? WHERE clip_id = ? AND lease_holder = ?",
		formatTime(db.now().Add(lease)), clipID, holder)
	if err != nil {
		return dbError("extend lease", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbError("extend lease", err)
	} else if n == 0 {
		return evidock.Errorf(evidock.ECONFLICT, "fixity: clip %d is no longer leased to %s", clipID, holder)
	}
	return nil
}

// ReleaseClips ends holder's leases of the clips; others are left alone.
func (db *DB) ReleaseClips(ctx context.Context, holder string, clipIDs []int64) error {
	if len(clipIDs) == 0 {
		return nil
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("release clips", err)
	}
	defer tx.Rollback()
	for _, id := range clipIDs {
		if _, err := tx.ExecContext(ctx, "UPDATE fixity_state SET lease_holder = NULL, lease_until = NULL WHERE clip_id = ? AND lease_holder = ?",
			id, holder); err != nil {
			return dbError("release clips", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return dbError("release clips", err)
	}
	return nil
}

// RecordCheck adds c to the history, updates the clip's schedule and opens
// an alarm for a missing or changed object; see fixity.Store.
func (db *DB) RecordCheck(ctx context.Context, c *fixity.Check) (*fixity.Alarm, error) {
	if err := fixity.ValidateCheck(c); err != nil {
		return nil, err
	}
	op := fmt.Sprintf("record fixity check of clip %d", c.ClipID)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError(op, err)
	}
	defer tx.Rollback()
	var digest, fileName, officer string
	err = tx.QueryRowContext(ctx, "SELECT blake3, file_name, officer_no FROM clips WHERE id = ?", c.ClipID).Scan(&digest, &fileName, &officer)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "fixity check: clip %d is not registered", c.ClipID)
	}
	if err != nil {
		return nil, dbError(op, err)
	}
	if c.Digest, err = evidock.ParseDigest(digest); err != nil {
		return nil, fmt.Errorf("sqlite: %s: stored blake3 %q: %v", op, digest, err)
	}
	now := db.now().Truncate(time.Microsecond)
	res, err := tx.ExecContext(ctx, `INSERT INTO fixity_checks (clip_id, checked_at, result, detail, bytes_read, checked_by)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ClipID, formatTime(now), string(c.Result), c.Detail, c.BytesRead, c.CheckedBy)
	if err != nil {
		return nil, dbError(op, err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return nil, dbError(op, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO fixity_state (clip_id) VALUES (?) ON CONFLICT (clip_id) DO NOTHING", c.ClipID); err != nil {
		return nil, dbError(op, err)
	}
	// The lease columns change only if c's checker still holds the lease:
	// one that lost it must not end another's.
	if c.Result == fixity.Unreachable {
		var retry sql.NullString
		if c.RetryAfter > 0 {
			retry = sql.NullString{String: formatTime(now.Add(c.RetryAfter)), Valid: true}
		}
		_, err = tx.ExecContext(ctx, `UPDATE fixity_state SET last_result = ?, last_check_id = ?,
			lease_until = CASE WHEN lease_holder = ? THEN ? ELSE lease_until END,
			lease_holder = CASE WHEN lease_holder = ? THEN NULL ELSE lease_holder END
			WHERE clip_id = ?`, string(c.Result), c.ID, c.CheckedBy, retry, c.CheckedBy, c.ClipID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE fixity_state SET last_checked_at = ?, last_result = ?, last_check_id = ?,
			lease_until = CASE WHEN lease_holder = ? THEN NULL ELSE lease_until END,
			lease_holder = CASE WHEN lease_holder = ? THEN NULL ELSE lease_holder END
			WHERE clip_id = ?`, formatTime(now), string(c.Result), c.ID, c.CheckedBy, c.CheckedBy, c.ClipID)
	}
	if err != nil {
		return nil, dbError(op, err)
	}
	var alarm *fixity.Alarm
	if kind := fixity.AlarmKind(c.Result); kind != "" {
		a := &fixity.Alarm{Kind: kind, Subject: digest, Message: fixity.AlarmMessage(c.Result, fileName, officer, c.Detail), OpenedAt: now.In(evidock.ChinaTime)}
		err := tx.QueryRowContext(ctx, `INSERT INTO alarms (kind, subject, message, opened_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (kind, subject) WHERE acknowledged_at IS NULL DO NOTHING
			RETURNING id`, a.Kind, a.Subject, a.Message, formatTime(now)).Scan(&a.ID)
		switch {
		case err == nil:
			alarm = a
		case !errors.Is(err, sql.ErrNoRows):
			return nil, dbError(op+": open alarm", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, dbError(op, err)
	}
	c.CheckedAt = now.In(evidock.ChinaTime)
	return alarm, nil
}

// FindAlarms returns the alarms f selects, newest first.
func (db *DB) FindAlarms(ctx context.Context, f fixity.AlarmFilter) ([]*fixity.Alarm, error) {
	limit, err := fixity.AlarmLimit(f)
	if err != nil {
		return nil, err
	}
	cond := ""
	if f.Open {
		cond = " WHERE acknowledged_at IS NULL"
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, kind, subject, message, opened_at, COALESCE(acknowledged_by, ''), COALESCE(acknowledged_at, '')
		FROM alarms`+cond+` ORDER BY opened_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, dbError("find alarms", err)
	}
	defer rows.Close()
	alarms := []*fixity.Alarm{}
	for rows.Next() {
		var (
			a           fixity.Alarm
			opened, ack string
		)
		if err := rows.Scan(&a.ID, &a.Kind, &a.Subject, &a.Message, &opened, &a.AcknowledgedBy, &ack); err != nil {
			return nil, dbError("find alarms", err)
		}
		if a.OpenedAt, err = parseTime(opened); err != nil {
			return nil, fmt.Errorf("sqlite: alarm %d: opened_at: %w", a.ID, err)
		}
		if ack != "" {
			t, err := parseTime(ack)
			if err != nil {
				return nil, fmt.Errorf("sqlite: alarm %d: acknowledged_at: %w", a.ID, err)
			}
			a.AcknowledgedAt = &t
		}
		alarms = append(alarms, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("find alarms", err)
	}
	return alarms, nil
}

// FixitySummary returns the state of fixity over all clips, read in one
// statement so that its figures describe one moment.
func (db *DB) FixitySummary(ctx context.Context) (*fixity.Summary, error) {
	var (
		s                           = fixity.Summary{Failures: map[fixity.Result]int64{}}
		missing, changed, unreached int64
		newest, oldest              sql.NullString
	)
	err := db.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM clips),
		COUNT(last_checked_at),
		COUNT(*) FILTER (WHERE last_result = 'ok'),
		COUNT(*) FILTER (WHERE last_result = 'missing'),
		COUNT(*) FILTER (WHERE last_result = 'changed'),
		COUNT(*) FILTER (WHERE last_result = 'unreachable'),
		MAX(last_checked_at),
		MIN(last_checked_at),
		(SELECT COUNT(*) FROM alarms WHERE acknowledged_at IS NULL)
		FROM fixity_state`).Scan(&s.Clips, &s.Checked, &s.OK, &missing, &changed, &unreached, &newest, &oldest, &s.OpenAlarms)
	if err != nil {
		return nil, dbError("fixity summary", err)
	}
	s.Failures[fixity.Missing], s.Failures[fixity.Changed], s.Failures[fixity.Unreachable] = missing, changed, unreached
	if newest.Valid {
		t, err := parseTime(newest.String)
		if err != nil {
			return nil, fmt.Errorf("sqlite: fixity summary: %w", err)
		}
		s.LastCheckAt = &t
	}
	if oldest.Valid && s.Checked == s.Clips {
		t, err := parseTime(oldest.String)
		if err != nil {
			return nil, fmt.Errorf("sqlite: fixity summary: %w", err)
		}
		s.AllCheckedSince = &t
	}
	return &s, nil
}
