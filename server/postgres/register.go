package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"evidock"
	"evidock/server"
)

// RegisterClip stores c and fills in its ID, RegisteredAt and, if zero,
// CorrectedStartedAt, or, if its digest is registered, fills c with the
// stored clip and returns created == false. It returns EINVALID for a
// malformed clip (see server.ValidateClip) or an unknown station,
// ECONFLICT if the stored clip has another size, and EUNAVAILABLE if the
// database cannot be reached.
//
// RegisteredAt is the database's clock, not this server's, so that the
// registration times of clips registered through different servers compare.
//
// Clips registered at the same moment share one transaction (see
// server.Registrations), and so one commit and one turn at the transparency
// log's lock, which every server sharing the database takes to append.
func (db *DB) RegisterClip(ctx context.Context, c *evidock.Clip) (bool, error) {
	return db.registrations.Register(ctx, c)
}

// registerTx inserts the clips of batch and appends the new ones to the
// transparency log in one transaction: a clip is never registered without
// its entry (see package translog). It fills in each registration's
// outcome only once the transaction has committed, and returns the error
// that stopped the transaction.
func (db *DB) registerTx(ctx context.Context, batch []*server.Registration) error {
	type outcome struct {
		stored  *evidock.Clip
		created bool
		err     error
	}
	out := make([]outcome, len(batch))
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return dbError("register clips", err)
	}
	// The pool closes a connection given back inside a transaction, so a
	// ROLLBACK that fails cannot leave the next user inside this one.
	defer conn.Release()
	tx := conn.Conn()
	committed := false
	defer func() {
		if !committed {
			tx.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()

	// Two round trips in all: BEGIN, every INSERT, the log's lock and the
	// log's size; then the log's entries and COMMIT. The INSERTs come
	// before the lock, so that servers sharing the database insert side by
	// side and take turns only to append: the lock, which every
	// registration on every server waits for, is held from the end of the
	// first round trip to the COMMIT. The INSERTs go in digest order, or
	// two batches holding the same digests in other orders could each wait
	// for a row the other inserted; and a batch that holds the lock waits
	// for no other's rows (only lock holders append), so the lock closes
	// no cycle either.
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return bytes.Compare(batch[i].Clip.Digest[:], batch[j].Clip.Digest[:]) })
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	for _, i := range order {
		queueInsertClip(b, batch[i].Clip)
	}
	queueLockLog(b)
	br := tx.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return dbError("register clips", err)
	}
	stored := make([]*evidock.Clip, len(batch))
	for _, i := range order {
		c, err := scanClip(br.QueryRow())
		switch {
		case err == nil:
			stored[i] = c
		case errors.Is(err, pgx.ErrNoRows): // stored before; read below
		case pgCode(err) == codeForeignKeyViolation:
			br.Close()
			return evidock.WrapError(evidock.EINVALID, err, "clip: station_id %q is not a registered station", batch[i].Clip.StationID)
		default:
			br.Close()
			return dbError("register clip "+batch[i].Clip.Digest.String(), err)
		}
	}
	var n int64
	if err := readLockLog(br, &n); err != nil {
		return dbError("register clips", err)
	}
	if err := br.Close(); err != nil {
		return dbError("register clips", err)
	}

	log := db.logWriterAt(ctx, tx, n)
	for i, r := range batch {
		c := r.Clip
		created := stored[i] != nil
		if !created {
			// A new statement sees the row that stopped the INSERT.
			s, err := scanClip(tx.QueryRow(ctx, "SELECT "+clipColumns+" FROM clips WHERE blake3 = $1", c.Digest[:]))
			if err != nil {
				return dbError("read back clip "+c.Digest.String(), err)
			}
			stored[i] = s
		}
		if err := server.SizeConflict(c, stored[i]); err != nil {
			out[i].err = err
			continue
		}
		// A clip stored before has its entry, unless an older server
		// stored it; only new ones are surely missing from the log.
		var err error
		if created {
			err = log.add(stored[i])
		} else {
			err = log.addIfMissing(ctx, stored[i])
		}
		if err != nil {
			return dbError("append clip "+c.Digest.String()+" to the transparency log", err)
		}
		out[i] = outcome{stored: stored[i], created: created}
	}
	b = &pgx.Batch{}
	log.queueFlush(b)
	if err := sendWithCommit(ctx, tx, b); err != nil {
		return dbError("append clips to the transparency log and commit", err)
	}
	committed = true
	db.logCache.Committed(log.a)
	for i, r := range batch {
		if r.Err = out[i].err; r.Err == nil {
			*r.Clip, r.Created = *out[i].stored, out[i].created
		}
	}
	return nil
}

// sendWithCommit sends b's statements and COMMIT in one round trip and
// returns the first error, or an error if the transaction ended in a
// rollback anyway (PostgreSQL answers COMMIT in a failed transaction with
// ROLLBACK, not with an error).
func sendWithCommit(ctx context.Context, conn *pgx.Conn, b *pgx.Batch) error {
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	for range b.Len() - 1 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	tag, err := br.Exec()
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("the transaction was rolled back (%s)", tag)
	}
	return br.Close()
}

// queueInsertClip queues, on b, inserting c unless its digest is stored;
// the statement returns the new row, or no row if the digest was stored.
func queueInsertClip(b *pgx.Batch, c *evidock.Clip) {
	var station any // NULL for clips that came through no station
	if c.StationID != "" {
		station = c.StationID
	}
	// DO NOTHING rather than an upsert: a stored clip is never changed
	// (Art. 17), and the triggers would refuse an update anyway. A
	// conflict with another server registering the same digest at this
	// moment waits for it to commit.
	// unit_code is the officer's unit at this moment, read in the same
	// statement (so a batch stays one statement per clip), so that the clip
	// stays with the unit that recorded it whatever transfers follow (NULL
	// for an officer not in the officers table).
	b.Queue(`INSERT INTO clips (blake3, size, object_key, file_name, device_serial,
		officer_no, started_at, clock_offset_ms, corrected_started_at, important,
		seq, kind, duration_ms, station_id, ingested_at, registered_at, unit_code)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, statement_timestamp(),
			(SELECT unit_code FROM officers WHERE officer_no = $6))
		ON CONFLICT (blake3) DO NOTHING
		RETURNING `+clipColumns,
		c.Digest[:], c.Size, c.ObjectKey, c.FileName, c.DeviceSerial,
		c.OfficerNo, toDB(c.StartedAt), c.ClockOffsetMS, toDB(c.CorrectedStartedAt), c.Important,
		c.Seq, string(c.Kind), c.DurationMS, station, toDB(c.IngestedAt))
}
