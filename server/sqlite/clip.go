package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"evidock"
)

const clipColumns = `id, blake3, size, object_key, file_name, device_serial, officer_no,
	started_at, clock_offset_ms, corrected_started_at, important,
	seq, kind, duration_ms, COALESCE(station_id, ''), ingested_at, registered_at,
	COALESCE(unit_code, '')`

// FindClipByDigest returns the clip with digest d, or ENOTFOUND.
func (db *DB) FindClipByDigest(ctx context.Context, d evidock.Digest) (*evidock.Clip, error) {
	c, err := scanClip(db.db.QueryRowContext(ctx, "SELECT "+clipColumns+" FROM clips WHERE blake3 = ?", d.String()))
	if errors.Is(err, sql.ErrNoRows) {
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
// 0..evidock.DefaultClipLimit.
func (db *DB) FindClips(ctx context.Context, f evidock.ClipFilter) ([]*evidock.Clip, int, error) {
	limit, err := clipLimit(f)
	if err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	if f.OfficerNo != "" {
		where, args = append(where, "officer_no = ?"), append(args, f.OfficerNo)
	}
	if f.DeviceSerial != "" {
		where, args = append(where, "device_serial = ?"), append(args, f.DeviceSerial)
	}
	if !f.From.IsZero() {
		where, args = append(where, "corrected_started_at >= ?"), append(args, formatTime(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "corrected_started_at < ?"), append(args, formatTime(f.To))
	}
	if f.Access != nil {
		c, a := accessCond(f.Access)
		where, args = append(where, c), append(args, a...)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}

	// One read transaction, so that the page and the total describe the
	// same moment even while stations register clips.
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, dbError("find clips", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM clips"+cond, args...).Scan(&total); err != nil {
		return nil, 0, dbError("count clips", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+clipColumns+" FROM clips"+cond+" ORDER BY corrected_started_at, id LIMIT ? OFFSET ?",
		append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, dbError("find clips", err)
	}
	defer rows.Close()
	clips := []*evidock.Clip{}
	for rows.Next() {
		c, err := scanClip(rows)
		if err != nil {
			return nil, 0, dbError("find clips", err)
		}
		clips = append(clips, c)
	}
	if err := rows.Err(); err != nil {
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

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanClip reads one row selected with clipColumns.
func scanClip(s scanner) (*evidock.Clip, error) {
	var (
		c                                            evidock.Clip
		digest, kind                                 string
		startedAt, corrected, ingestedAt, registered string
	)
	if err := s.Scan(&c.ID, &digest, &c.Size, &c.ObjectKey, &c.FileName, &c.DeviceSerial, &c.OfficerNo,
		&startedAt, &c.ClockOffsetMS, &corrected, &c.Important,
		&c.Seq, &kind, &c.DurationMS, &c.StationID, &ingestedAt, &registered,
		&c.UnitCode); err != nil {
		return nil, err
	}
	var err error
	if c.Digest, err = evidock.ParseDigest(digest); err != nil {
		// %v, not %w: a damaged row is the server's fault, not the
		// caller's, so it must not surface as EINVALID.
		return nil, fmt.Errorf("clip %d: stored blake3 %q: %v", c.ID, digest, err)
	}
	c.Kind = evidock.MediaKind(kind)
	if c.StartedAt, err = parseTime(startedAt); err != nil {
		return nil, fmt.Errorf("clip %d: started_at: %w", c.ID, err)
	}
	if c.CorrectedStartedAt, err = parseTime(corrected); err != nil {
		return nil, fmt.Errorf("clip %d: corrected_started_at: %w", c.ID, err)
	}
	if c.IngestedAt, err = parseTime(ingestedAt); err != nil {
		return nil, fmt.Errorf("clip %d: ingested_at: %w", c.ID, err)
	}
	if c.RegisteredAt, err = parseTime(registered); err != nil {
		return nil, fmt.Errorf("clip %d: registered_at: %w", c.ID, err)
	}
	return &c, nil
}
