package postgres

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
	"evidock/server/fixity"
)

var _ fixity.Store = (*DB)(nil)

// ClaimClips leases to holder up to n due clips, never-checked first and
// then oldest-checked; see fixity.Store. Several servers claim at once: the
// rows are locked with SKIP LOCKED, so each claim passes over the clips
// another is leasing at that moment instead of waiting for them, and a row
// leased by a claim that committed meanwhile is seen with its new lease and
// left out. Leases run by the database's clock, so servers whose clocks
// disagree still agree on them.
func (db *DB) ClaimClips(ctx context.Context, holder string, n int, interval, lease time.Duration) ([]fixity.Target, error) {
	if err := fixity.ValidateClaim(holder, n, interval, lease); err != nil {
		return nil, err
	}
	// Every clip has its schedule row from its registration on (a trigger,
	// migration 010).
	rows, err := db.pool.Query(ctx, `WITH due AS (
			SELECT clip_id FROM fixity_state
			WHERE (last_checked_at IS NULL OR last_checked_at <= statement_timestamp() - $3::bigint * interval '1 microsecond')
				AND (lease_until IS NULL OR lease_until <= statement_timestamp())
			ORDER BY last_checked_at NULLS FIRST, clip_id
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE fixity_state f SET lease_holder = $1, lease_until = statement_timestamp() + $4::bigint * interval '1 microsecond'
		FROM due, clips c
		WHERE f.clip_id = due.clip_id AND c.id = due.clip_id
		RETURNING f.clip_id, c.blake3, c.size, c.object_key, c.file_name, f.last_checked_at`,
		holder, n, interval.Microseconds(), lease.Microseconds())
	if err != nil {
		return nil, dbError("claim clips", err)
	}
	targets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (fixity.Target, error) {
		var (
			t      fixity.Target
			digest []byte
			last   *time.Time
		)
		if err := row.Scan(&t.ClipID, &digest, &t.Size, &t.ObjectKey, &t.FileName, &last); err != nil {
			return t, err
		}
		if len(digest) != len(t.Digest) {
			return t, fmt.Errorf("clip %d: stored blake3 is %d bytes, not %d", t.ClipID, len(digest), len(t.Digest))
		}
		copy(t.Digest[:], digest)
		if last != nil {
			t.LastCheckedAt = fromDB(*last)
		}
		return t, nil
	})
	if err != nil {
		return nil, dbError("claim clips", err)
	}
	// RETURNING keeps no order.
	sortTargets(targets)
	return targets, nil
}

// sortTargets puts never-checked clips first, then the oldest-checked, as
// the claim chose them.
func sortTargets(ts []fixity.Target) {
	slices.SortFunc(ts, func(a, b fixity.Target) int {
		switch {
		case a.LastCheckedAt.IsZero() != b.LastCheckedAt.IsZero():
			if a.LastCheckedAt.IsZero() {
				return -1
			}
			return 1
		case !a.LastCheckedAt.Equal(b.LastCheckedAt):
			return a.LastCheckedAt.Compare(b.LastCheckedAt)
		}
		return cmp.Compare(a.ClipID, b.ClipID)
	})
}

// ExtendLease renews holder's lease of a clip; ECONFLICT if holder no
// longer holds it.
func (db *DB) ExtendLease(ctx context.Context, holder string, clipID int64, lease time.Duration) error {
	tag, err := db.pool.Exec(ctx, `UPDATE fixity_state SET lease_until = statement_timestamp() + $3::bigint * interval '1 microsecond'
		WHERE clip_id = $1 AND lease_holder = $2`, clipID, holder, lease.Microseconds())
	if err != nil {
		return dbError("extend lease", err)
	}
	if tag.RowsAffected() == 0 {
		return evidock.Errorf(evidock.ECONFLICT, "fixity: clip %d is no longer leased to %s", clipID, holder)
	}
	return nil
}

// ReleaseClips ends holder's leases of the clips; others are left alone.
func (db *DB) ReleaseClips(ctx context.Context, holder string, clipIDs []int64) error {
	if len(clipIDs) == 0 {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `UPDATE fixity_state SET lease_holder = NULL, lease_until = NULL
		WHERE clip_id = ANY($1) AND lease_holder = $2`, clipIDs, holder); err != nil {
		return dbError("release clips", err)
	}
	return nil
}

// RecordCheck adds c to the history, updates the clip's schedule and opens
// an alarm for a missing or changed object; see fixity.Store. The check's
// time is the database's clock.
func (db *DB) RecordCheck(ctx context.Context, c *fixity.Check) (*fixity.Alarm, error) {
	if err := fixity.ValidateCheck(c); err != nil {
		return nil, err
	}
	op := fmt.Sprintf("record fixity check of clip %d", c.ClipID)
	var (
		alarm    *fixity.Alarm
		notFound bool
		digest   []byte
		checked  time.Time
	)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var fileName, officer string
		err := tx.QueryRow(ctx, "SELECT blake3, file_name, officer_no FROM clips WHERE id = $1", c.ClipID).Scan(&digest, &fileName, &officer)
		if errors.Is(err, pgx.ErrNoRows) {
			notFound = true
			return err
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO fixity_checks (clip_id, checked_at, result, detail, bytes_read, checked_by)
			VALUES ($1, statement_timestamp(), $2, $3, $4, $5) RETURNING id, checked_at`,
			c.ClipID, string(c.Result), c.Detail, c.BytesRead, c.CheckedBy).Scan(&c.ID, &checked); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO fixity_state (clip_id) VALUES ($1) ON CONFLICT (clip_id) DO NOTHING", c.ClipID); err != nil {
			return err
		}
		// The lease columns change only if c's checker still holds the
		// lease: one that lost it must not end another's.
		if c.Result == fixity.Unreachable {
			var retry *time.Time
			if c.RetryAfter > 0 {
				t := checked.Add(c.RetryAfter)
				retry = &t
			}
			_, err = tx.Exec(ctx, `UPDATE fixity_state SET last_result = $2, last_check_id = $3,
				lease_until = CASE WHEN lease_holder = $4 THEN $5 ELSE lease_until END,
				lease_holder = CASE WHEN lease_holder = $4 THEN NULL ELSE lease_holder END
				WHERE clip_id = $1`, c.ClipID, string(c.Result), c.ID, c.CheckedBy, retry)
		} else {
			_, err = tx.Exec(ctx, `UPDATE fixity_state SET last_checked_at = $2, last_result = $3, last_check_id = $4,
				lease_until = CASE WHEN lease_holder = $5 THEN NULL ELSE lease_until END,
				lease_holder = CASE WHEN lease_holder = $5 THEN NULL ELSE lease_holder END
				WHERE clip_id = $1`, c.ClipID, checked, string(c.Result), c.ID, c.CheckedBy)
		}
		if err != nil {
			return err
		}
		kind := fixity.AlarmKind(c.Result)
		if kind == "" {
			return nil
		}
		a := &fixity.Alarm{Kind: kind, Subject: hex.EncodeToString(digest), Message: fixity.AlarmMessage(c.Result, fileName, officer, c.Detail)}
		err = tx.QueryRow(ctx, `INSERT INTO alarms (kind, subject, message, opened_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (kind, subject) WHERE acknowledged_at IS NULL DO NOTHING
			RETURNING id, opened_at`, a.Kind, a.Subject, a.Message, checked).Scan(&a.ID, &a.OpenedAt)
		switch {
		case err == nil:
			a.OpenedAt = fromDB(a.OpenedAt)
			alarm = a
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		return nil
	})
	if notFound {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "fixity check: clip %d is not registered", c.ClipID)
	}
	if err != nil {
		return nil, dbError(op, err)
	}
	if len(digest) != len(c.Digest) {
		return nil, fmt.Errorf("postgres: %s: stored blake3 is %d bytes, not %d", op, len(digest), len(c.Digest))
	}
	copy(c.Digest[:], digest)
	c.CheckedAt = fromDB(checked)
	return alarm, nil
}

// FindAlarms returns the alarms f selects, newest first.
func (db *DB) FindAlarms(ctx context.Context, f fixity.AlarmFilter) ([]*fixity.Alarm, error) {
	limit, err := fixity.AlarmLimit(f)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT id, kind, subject, message, opened_at, COALESCE(acknowledged_by, ''), acknowledged_at
		FROM alarms WHERE NOT $1 OR acknowledged_at IS NULL
		ORDER BY opened_at DESC, id DESC LIMIT $2`, f.Open, limit)
	if err != nil {
		return nil, dbError("find alarms", err)
	}
	alarms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*fixity.Alarm, error) {
		var a fixity.Alarm
		if err := row.Scan(&a.ID, &a.Kind, &a.Subject, &a.Message, &a.OpenedAt, &a.AcknowledgedBy, &a.AcknowledgedAt); err != nil {
			return nil, err
		}
		a.OpenedAt = fromDB(a.OpenedAt)
		if a.AcknowledgedAt != nil {
			t := fromDB(*a.AcknowledgedAt)
			a.AcknowledgedAt = &t
		}
		return &a, nil
	})
	if err != nil {
		return nil, dbError("find alarms", err)
	}
	if alarms == nil {
		alarms = []*fixity.Alarm{}
	}
	return alarms, nil
}

// FixitySummary returns the state of fixity over all clips, read in one
// statement so that its figures describe one moment.
func (db *DB) FixitySummary(ctx context.Context) (*fixity.Summary, error) {
	var (
		s                           = fixity.Summary{Failures: map[fixity.Result]int64{}}
		missing, changed, unreached int64
		newest, oldest              *time.Time
	)
	err := db.pool.QueryRow(ctx, `SELECT
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
	if newest != nil {
		t := fromDB(*newest)
		s.LastCheckAt = &t
	}
	if oldest != nil && s.Checked == s.Clips {
		t := fromDB(*oldest)
		s.AllCheckedSince = &t
	}
	return &s, nil
}
