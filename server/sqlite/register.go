package sqlite

import (
	"context"
	"database/sql"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"evidock"
	"evidock/server"
	"evidock/server/translog"
)

// RegisterClip stores c and fills in its ID, RegisteredAt and, if zero,
// CorrectedStartedAt, or, if its digest is registered, fills c with the
// stored clip and returns created == false. It returns EINVALID for a
// malformed clip (see server.ValidateClip) or an unknown station,
// ECONFLICT if the stored clip has another size, and EUNAVAILABLE if the
// database stays locked.
//
// Clips registered at the same moment share one transaction (see
// server.Registrations): with synchronous=FULL every commit waits for the disk,
// so committing them one by one would queue stations behind each other's
// fsyncs.
func (db *DB) RegisterClip(ctx context.Context, c *evidock.Clip) (bool, error) {
	return db.registrations.Register(ctx, c)
}

// registerTx inserts the clips of batch and appends the new ones to the
// transparency log in one transaction: a clip is never registered without
// its entry (see package translog). It fills in each registration's
// outcome only once the transaction has committed, and returns the error
// that stopped the transaction.
func (db *DB) registerTx(ctx context.Context, batch []*server.Registration) error {
	tx, err := db.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see the package comment
	if err != nil {
		return dbError("register clips", err)
	}
	defer tx.Rollback()

	now := formatTime(db.now().Truncate(time.Microsecond))
	type outcome struct {
		stored  *evidock.Clip
		created bool
		err     error
	}
	out := make([]outcome, len(batch))
	var log *translog.Appender
	q := db.cached(tx)
	for i, r := range batch {
		c := r.Clip
		op := "register clip " + c.Digest.String()
		stored, created, err := insertClip(ctx, q, c, now)
		if err != nil {
			return err
		}
		if err := server.SizeConflict(c, stored); err != nil {
			out[i].err = err
			continue
		}
		if log == nil {
			if log, err = db.newAppender(ctx, q); err != nil {
				return dbError(op, err)
			}
		}
		// A clip stored before has its entry, unless an older server
		// stored it; only new ones are surely missing from the log.
		if created {
			err = writeEntry(ctx, q, log, stored)
		} else {
			err = appendToLog(ctx, q, log, stored)
		}
		if err != nil {
			return dbError("append clip "+c.Digest.String()+" to the transparency log", err)
		}
		out[i] = outcome{stored: stored, created: created}
	}
	if err := tx.Commit(); err != nil {
		return dbError("register clips", err)
	}
	if log != nil {
		db.logCache.Committed(log)
	}
	for i, r := range batch {
		if r.Err = out[i].err; r.Err == nil {
			*r.Clip, r.Created = *out[i].stored, out[i].created
		}
	}
	return nil
}

// insertClip inserts c unless its digest is stored, and returns the stored
// clip and whether it is new; registeredAt is the registration time.
func insertClip(ctx context.Context, tx execQueryer, c *evidock.Clip, registeredAt string) (*evidock.Clip, bool, error) {
	op := "register clip " + c.Digest.String()
	// DO NOTHING rather than an upsert: a stored clip is never changed
	// (Art. 17), and the triggers would refuse an update anyway.
	// unit_code is the officer's unit at this moment, read in the same
	// statement, so that the clip stays with the unit that recorded it
	// whatever transfers follow (NULL for an officer not in the officers
	// table).
	res, err := tx.ExecContext(ctx, `INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
		officer_no, started_at, clock_offset_ms, corrected_started_at, important,
		seq, kind, duration_ms, station_id, ingested_at, registered_at, unit_code)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
			(SELECT unit_code FROM officers WHERE officer_no = ?6))
		ON CONFLICT (blake3) DO NOTHING`,
		c.Digest.String(), c.Size, c.ObjectKey, c.FileName, c.DeviceSerial,
		// Microseconds, as PostgreSQL keeps them, so that both stores
		// hand back the same times for the same clip.
		c.OfficerNo, formatTime(c.StartedAt.Truncate(time.Microsecond)),
		c.ClockOffsetMS, formatTime(c.CorrectedStartedAt.Truncate(time.Microsecond)), c.Important,
		c.Seq, string(c.Kind), c.DurationMS,
		sql.NullString{String: c.StationID, Valid: c.StationID != ""},
		formatTime(c.IngestedAt.Truncate(time.Microsecond)),
		registeredAt)
	if err != nil {
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return nil, false, evidock.WrapError(evidock.EINVALID, err, "clip: station_id %q is not a registered station", c.StationID)
		}
		return nil, false, dbError(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, dbError(op, err)
	}
	stored, err := scanClip(tx.QueryRowContext(ctx, "SELECT "+clipColumns+" FROM clips WHERE blake3 = ?", c.Digest.String()))
	if err != nil {
		return nil, false, dbError("read back clip "+c.Digest.String(), err)
	}
	return stored, n == 1, nil
}
