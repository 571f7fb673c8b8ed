package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
)

const clipColumns = `id, blake3, size, object_key, file_name, device_serial, officer_no,
	started_at, clock_offset_ms, corrected_started_at, important,
	seq, kind, duration_ms, COALESCE(station_id, ''), ingested_at, registered_at,
	COALESCE(unit_code, '')`

// FindClipByDigest returns the clip with digest d, ENOTFOUND, or EUNAVAILABLE
// if the database cannot be reached.
func (db *DB) FindClipByDigest(ctx context.Context, d evidock.Digest) (*evidock.Clip, error) {
	return db.findClip(ctx, d)
}

func (db *DB) findClip(ctx context.Context, d evidock.Digest) (*evidock.Clip, error) {
	c, err := scanClip(db.pool.QueryRow(ctx, "SELECT "+clipColumns+" FROM clips WHERE blake3 = $1", d[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "clip %s is not registered", d)
	}
	if err != nil {
		return nil, dbError("find clip "+d.String(), err)
	}
	return c, nil
}

// FindClips returns the clips matching f in CorrectedStartedAt order (then
// registration order) and how many match in all; f.From and f.To bound
// CorrectedStartedAt, the time deadlines run from, not the recorder's own
// StartedAt; f.Access, if set, keeps only what one user may view. It
// returns EINVALID for a negative offset or a limit outside
// 0..evidock.DefaultClipLimit, and EUNAVAILABLE if the database cannot be
// reached.
func (db *DB) FindClips(ctx context.Context, f evidock.ClipFilter) ([]*evidock.Clip, int, error) {
	limit, err := clipLimit(f)
	if err != nil {
		return nil, 0, err
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.OfficerNo != "" {
		add("officer_no = ?", f.OfficerNo)
	}
	if f.DeviceSerial != "" {
		add("device_serial = ?", f.DeviceSerial)
	}
	if !f.From.IsZero() {
		add("corrected_started_at >= ?", ceilDB(f.From))
	}
	if !f.To.IsZero() {
		add("corrected_started_at < ?", ceilDB(f.To))
	}
	if f.Access != nil {
		where = append(where, accessCond(f.Access, func(arg any) string {
			args = append(args, arg)
			return "$" + strconv.Itoa(len(args))
		}))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}

	// One snapshot, so that the page and the total describe the same
	// moment even while stations register clips.
	var (
		clips = []*evidock.Clip{}
		total int
	)
	err = pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM clips"+cond, args...).Scan(&total); err != nil {
			return fmt.Errorf("count clips: %w", err)
		}
		n := len(args)
		rows, err := tx.Query(ctx, "SELECT "+clipColumns+" FROM clips"+cond+
			" ORDER BY corrected_started_at, id LIMIT $"+strconv.Itoa(n+1)+" OFFSET $"+strconv.Itoa(n+2),
			append(args, limit, f.Offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanClip(rows)
			if err != nil {
				return err
			}
			clips = append(clips, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, dbError("find clips", err)
	}
	return clips, total, nil
}

// clipLimit returns the page size f asks for, or EINVALID.
func clipLimit(f evidock.ClipFilter) (int, error) {
	switch {
	case f.Offset < 0:
		return 0, evidock.Errorf(evidock.EINVALID, "clip filter: offset must not be negative, got %d", f.Offset)
	case f.Limit < 0 || f.Limit > evidock.DefaultClipLimit:
		return 0, evidock.Errorf(evidock.EINVALID, "clip filter: limit must be 0 to %d, got %d", evidock.DefaultClipLimit, f.Limit)
	case f.Limit == 0:
		return evidock.DefaultClipLimit, nil
	}
	return f.Limit, nil
}

// scanClip reads one row selected with clipColumns.
func scanClip(row pgx.Row) (*evidock.Clip, error) {
	var (
		c                                            evidock.Clip
		digest                                       []byte
		kind                                         string
		startedAt, corrected, ingestedAt, registered time.Time
	)
	if err := row.Scan(&c.ID, &digest, &c.Size, &c.ObjectKey, &c.FileName, &c.DeviceSerial, &c.OfficerNo,
		&startedAt, &c.ClockOffsetMS, &corrected, &c.Important,
		&c.Seq, &kind, &c.DurationMS, &c.StationID, &ingestedAt, &registered,
		&c.UnitCode); err != nil {
		return nil, err
	}
	if len(digest) != len(c.Digest) {
		// A damaged row is the server's fault, not the caller's, so it
		// must not surface as EINVALID.
		return nil, fmt.Errorf("clip %d: stored blake3 is %d bytes, not %d", c.ID, len(digest), len(c.Digest))
	}
	copy(c.Digest[:], digest)
	c.Kind = evidock.MediaKind(kind)
	c.StartedAt, c.CorrectedStartedAt = fromDB(startedAt), fromDB(corrected)
	c.IngestedAt, c.RegisteredAt = fromDB(ingestedAt), fromDB(registered)
	return &c, nil
}
