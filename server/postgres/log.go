package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"evidock"
	"evidock/server/translog"
)

var _ translog.HashStore = (*DB)(nil)

// logLockKey is the transaction-level advisory lock held while appending to
// the transparency log: the ASCII of "evidlog1". Every server sharing the
// database takes it, so appends happen one at a time and log indexes have
// no gaps and no duplicates; it is released when the transaction ends,
// whichever way, and so never outlives a crashed server.
const logLockKey int64 = 0x65766964_6c6f6731

// logWriter appends clips to the transparency log in one transaction:
// it takes the log's lock for the rest of the transaction when made, and
// writes the entries it gathers with one statement per table at flush.
type logWriter struct {
	tx      txConn
	a       *translog.Appender
	entries []*translog.Entry
}

// txConn is a connection inside a transaction: a pgx.Tx, or a *pgx.Conn
// on which the caller sent BEGIN itself (see registerTx).
type txConn interface {
	querier
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

func (db *DB) newLogWriter(ctx context.Context, tx pgx.Tx) (*logWriter, error) {
	b := &pgx.Batch{}
	queueLockLog(b)
	br := tx.SendBatch(ctx, b)
	var n int64
	if err := readLockLog(br, &n); err != nil {
		return nil, err
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	return db.logWriterAt(ctx, tx, n), nil
}

// queueLockLog queues, on b, taking the log's lock and then reading the
// log's size. They must be two statements: in READ COMMITTED each
// statement sees what was committed when it started, so only a statement
// that starts after the lock is held sees every earlier append.
func queueLockLog(b *pgx.Batch) {
	b.Queue("SELECT pg_advisory_xact_lock($1)", logLockKey)
	b.Queue("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_records")
}

// readLockLog reads the results of queueLockLog from br, the log's size
// into n; it leaves br open for the statements queued after them, unless
// it fails, when it closes br.
func readLockLog(br pgx.BatchResults, n *int64) error {
	if _, err := br.Exec(); err != nil {
		br.Close()
		return err
	}
	if err := br.QueryRow().Scan(n); err != nil {
		br.Close()
		return err
	}
	return nil
}

// logWriterAt returns a logWriter for a log of n records, whose lock tx
// holds.
func (db *DB) logWriterAt(ctx context.Context, tx txConn, n int64) *logWriter {
	read := func(indexes []int64) ([]evidock.LogHash, error) {
		// The appender serves the transaction's own hashes: these are
		// committed ones.
		return db.logCache.ReadHashes(indexes, func(missing []int64) ([]evidock.LogHash, error) {
			return readLogHashes(ctx, tx, missing)
		})
	}
	return &logWriter{tx: tx, a: translog.NewAppender(n, read)}
}

// add appends clip c, as stored and known to be missing from the log.
func (w *logWriter) add(c *evidock.Clip) error {
	e, err := w.a.Append(c)
	if err != nil {
		return err
	}
	w.entries = append(w.entries, e)
	return nil
}

// addIfMissing appends clip c, as stored, unless it is in the log already.
func (w *logWriter) addIfMissing(ctx context.Context, c *evidock.Clip) error {
	var idx int64
	switch err := w.tx.QueryRow(ctx, "SELECT idx FROM log_records WHERE clip_id = $1", c.ID).Scan(&idx); {
	case err == nil:
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	for _, e := range w.entries {
		if e.ClipID == c.ID {
			return nil
		}
	}
	return w.add(c)
}

// flush writes the gathered entries.
func (w *logWriter) flush(ctx context.Context) error {
	if len(w.entries) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	w.queueFlush(b)
	return w.tx.SendBatch(ctx, b).Close()
}

// queueFlush queues, on b, writing the gathered entries, so that a caller
// can send them with its commit in one round trip.
func (w *logWriter) queueFlush(b *pgx.Batch) {
	if len(w.entries) == 0 {
		return
	}
	var (
		idx, clipIDs, hashIDs []int64
		digests, hashes       [][]byte
		records               []string
	)
	for _, e := range w.entries {
		idx, clipIDs = append(idx, e.Index), append(clipIDs, e.ClipID)
		digests, records = append(digests, e.Digest[:]), append(records, string(e.Record))
		for i, h := range e.Hashes {
			hashIDs, hashes = append(hashIDs, e.HashIndex+int64(i)), append(hashes, h[:])
		}
	}
	b.Queue(`INSERT INTO log_records (idx, clip_id, blake3, record)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::text[])`, idx, clipIDs, digests, records)
	b.Queue("INSERT INTO log_hashes (id, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])", hashIDs, hashes)
	w.entries = w.entries[:0]
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func logSize(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_records").Scan(&n)
	return n, err
}

func readLogHashes(ctx context.Context, q querier, indexes []int64) ([]evidock.LogHash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, "SELECT id, hash FROM log_hashes WHERE id = ANY($1)", indexes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[int64]evidock.LogHash, len(indexes))
	for rows.Next() {
		var (
			id int64
			b  []byte
		)
		if err := rows.Scan(&id, &b); err != nil {
			return nil, err
		}
		var h evidock.LogHash
		copy(h[:], b)
		found[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]evidock.LogHash, len(indexes))
	for i, x := range indexes {
		h, ok := found[x]
		if !ok {
			return nil, fmt.Errorf("log hash %d is missing", x)
		}
		out[i] = h
	}
	return out, nil
}

// LogSize returns the number of records in the transparency log.
func (db *DB) LogSize(ctx context.Context) (int64, error) {
	n, err := logSize(ctx, db.pool)
	if err != nil {
		return 0, dbError("log size", err)
	}
	return n, nil
}

// ReadLogHashes returns the log's stored hashes at indexes, or an error if
// one is missing.
func (db *DB) ReadLogHashes(ctx context.Context, indexes []int64) ([]evidock.LogHash, error) {
	hs, err := db.logCache.ReadHashes(indexes, func(missing []int64) ([]evidock.LogHash, error) {
		return readLogHashes(ctx, db.pool, missing)
	})
	if err != nil {
		return nil, dbError("read log hashes", err)
	}
	return hs, nil
}

// ReadLogRecords returns the log records with indexes start to
// start+count-1 that exist, in index order.
func (db *DB) ReadLogRecords(ctx context.Context, start int64, count int) ([]evidock.LogRecord, error) {
	rows, err := db.pool.Query(ctx, "SELECT idx, record FROM log_records WHERE idx >= $1 AND idx < $2 ORDER BY idx", start, start+int64(count))
	if err != nil {
		return nil, dbError("read log records", err)
	}
	defer rows.Close()
	recs := []evidock.LogRecord{}
	for rows.Next() {
		var r evidock.LogRecord
		if err := rows.Scan(&r.Index, &r.Record); err != nil {
			return nil, dbError("read log records", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("read log records", err)
	}
	return recs, nil
}

// FindLogRecord returns the index and record of the clip with digest d in
// the log, and the log's size as the same query saw it, or ENOTFOUND.
func (db *DB) FindLogRecord(ctx context.Context, d evidock.Digest) (int64, []byte, int64, error) {
	// The receipt of a registration is asked for as soon as it commits.
	if idx, record, size, ok := db.logCache.FindRecord(d); ok {
		return idx, record, size, nil
	}
	var (
		idx, size int64
		record    string
	)
	err := db.pool.QueryRow(ctx, "SELECT idx, record, (SELECT MAX(idx) + 1 FROM log_records) FROM log_records WHERE blake3 = $1", d[:]).Scan(&idx, &record, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, 0, evidock.Errorf(evidock.ENOTFOUND, "clip %s is not in the transparency log", d)
	}
	if err != nil {
		return 0, nil, 0, dbError("find log record of "+d.String(), err)
	}
	return idx, []byte(record), size, nil
}

// appendBatch bounds the clips AppendMissingClips appends per transaction,
// so that catching up a large registry does not hold the log's lock for
// long.
const appendBatch = 500

// AppendMissingClips appends the registered clips missing from the log, in
// ID order, and returns how many it appended. Servers starting together
// may all call it: the log's lock makes them take turns, and a clip
// another server appended meanwhile is skipped.
func (db *DB) AppendMissingClips(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			// Lock before looking, so that the clips found are still
			// missing when they are appended.
			w, err := db.newLogWriter(ctx, tx)
			if err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "SELECT "+clipColumns+` FROM clips
				WHERE NOT EXISTS (SELECT 1 FROM log_records l WHERE l.clip_id = clips.id)
				ORDER BY id LIMIT $1`, appendBatch)
			if err != nil {
				return err
			}
			var clips []*evidock.Clip
			for rows.Next() {
				c, err := scanClip(rows)
				if err != nil {
					rows.Close()
					return err
				}
				clips = append(clips, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, c := range clips {
				if err := w.add(c); err != nil {
					return fmt.Errorf("clip %s: %w", c.Digest, err)
				}
			}
			n = len(clips)
			return w.flush(ctx)
		})
		if err != nil {
			return total, dbError("append missing clips to the log", err)
		}
		total += n
		if n < appendBatch {
			return total, nil
		}
	}
}
