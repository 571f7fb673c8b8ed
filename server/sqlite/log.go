package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"evidock"
	"evidock/server/translog"
)

var _ translog.HashStore = (*DB)(nil)

// queryer is a *sql.DB, a *sql.Tx or a cachedQueryer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execQueryer is a queryer that also runs statements.
type execQueryer interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// newAppender returns the appender for the log as tx sees it. tx is a
// write transaction, which in SQLite holds the database's one write lock:
// appends never interleave.
func (db *DB) newAppender(ctx context.Context, tx queryer) (*translog.Appender, error) {
	n, err := logSize(ctx, tx)
	if err != nil {
		return nil, err
	}
	return translog.NewAppender(n, func(indexes []int64) ([]evidock.LogHash, error) {
		// The appender serves the transaction's own hashes: these are
		// committed ones.
		return db.logCache.ReadHashes(indexes, func(missing []int64) ([]evidock.LogHash, error) {
			return readLogHashes(ctx, tx, missing)
		})
	}), nil
}

// appendToLog appends clip c, as stored, to the log of a, in tx, unless it
// is there already.
func appendToLog(ctx context.Context, tx execQueryer, a *translog.Appender, c *evidock.Clip) error {
	var idx int64
	switch err := tx.QueryRowContext(ctx, "SELECT idx FROM log_records WHERE clip_id = ?", c.ID).Scan(&idx); {
	case err == nil:
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	return writeEntry(ctx, tx, a, c)
}

// writeEntry appends clip c, known to be missing from the log, to the log
// of a, in tx.
func writeEntry(ctx context.Context, tx execQueryer, a *translog.Appender, c *evidock.Clip) error {
	e, err := a.Append(c)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO log_records (idx, clip_id, blake3, record) VALUES (?, ?, ?, ?)",
		e.Index, e.ClipID, e.Digest.String(), string(e.Record)); err != nil {
		return err
	}
	for i, h := range e.Hashes {
		if _, err := tx.ExecContext(ctx, "INSERT INTO log_hashes (id, hash) VALUES (?, ?)", e.HashIndex+int64(i), h[:]); err != nil {
			return err
		}
	}
	return nil
}

func logSize(ctx context.Context, q queryer) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_records").Scan(&n)
	return n, err
}

func readLogHashes(ctx context.Context, q queryer, indexes []int64) ([]evidock.LogHash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	args := make([]any, len(indexes))
	for i, x := range indexes {
		args[i] = x
	}
	rows, err := q.QueryContext(ctx, "SELECT id, hash FROM log_hashes WHERE id IN (?"+strings.Repeat(", ?", len(indexes)-1)+")", args...)
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
	n, err := logSize(ctx, db.db)
	if err != nil {
		return 0, dbError("log size", err)
	}
	return n, nil
}

// ReadLogHashes returns the log's stored hashes at indexes, or an error if
// one is missing.
func (db *DB) ReadLogHashes(ctx context.Context, indexes []int64) ([]evidock.LogHash, error) {
	hs, err := db.logCache.ReadHashes(indexes, func(missing []int64) ([]evidock.LogHash, error) {
		return readLogHashes(ctx, db.cached(nil), missing)
	})
	if err != nil {
		return nil, dbError("read log hashes", err)
	}
	return hs, nil
}

// ReadLogRecords returns the log records with indexes start to
// start+count-1 that exist, in index order.
func (db *DB) ReadLogRecords(ctx context.Context, start int64, count int) ([]evidock.LogRecord, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT idx, record FROM log_records WHERE idx >= ? AND idx < ? ORDER BY idx", start, start+int64(count))
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
	err := db.cached(nil).QueryRowContext(ctx, "SELECT idx, record, (SELECT MAX(idx) + 1 FROM log_records) FROM log_records WHERE blake3 = ?", d.String()).Scan(&idx, &record, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, 0, evidock.Errorf(evidock.ENOTFOUND, "clip %s is not in the transparency log", d)
	}
	if err != nil {
		return 0, nil, 0, dbError("find log record of "+d.String(), err)
	}
	return idx, []byte(record), size, nil
}

// appendBatch bounds the clips AppendMissingClips appends per transaction,
// so that catching up a large registry does not hold the write lock for
// long.
const appendBatch = 500

// AppendMissingClips appends the registered clips missing from the log, in
// ID order, and returns how many it appended.
func (db *DB) AppendMissingClips(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := db.appendMissing(ctx)
		total += n
		if err != nil {
			return total, dbError("append missing clips to the log", err)
		}
		if n < appendBatch {
			return total, nil
		}
	}
}

func (db *DB) appendMissing(ctx context.Context) (int, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT "+clipColumns+" FROM clips WHERE id NOT IN (SELECT clip_id FROM log_records) ORDER BY id LIMIT ?", appendBatch)
	if err != nil {
		return 0, err
	}
	var clips []*evidock.Clip
	for rows.Next() {
		c, err := scanClip(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		clips = append(clips, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	a, err := db.newAppender(ctx, tx)
	if err != nil {
		return 0, err
	}
	for _, c := range clips {
		if err := writeEntry(ctx, tx, a, c); err != nil {
			return 0, fmt.Errorf("clip %s: %w", c.Digest, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(clips), nil
}
