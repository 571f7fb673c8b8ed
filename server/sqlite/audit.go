package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"evidock"
	"evidock/server/audit"
)

// appendAudit appends e to the audit chain in tx, a write transaction, which
// in SQLite holds the database's one write lock: appends never interleave.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e *evidock.AuditEvent) error {
	var (
		seq  int64
		prev evidock.LogHash
		b    []byte
	)
	switch err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&seq, &b); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		copy(prev[:], b)
	}
	audit.Link(e, seq, prev, db.now())
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (seq, time, actor, action, object, unit, reason,
		remote_addr, user_agent, outcome, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, formatTime(e.Time), e.Actor, e.Action, e.Object, e.Unit, e.Reason, e.RemoteAddr, e.UserAgent, e.Outcome,
		e.PrevHash[:], e.Hash[:])
	return err
}

// AppendAudit appends e to the audit log, filling in its Seq, PrevHash and
// Hash (and Time, if zero).
func (db *DB) AppendAudit(ctx context.Context, e *evidock.AuditEvent) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("append audit event", err)
	}
	defer tx.Rollback()
	if err := db.appendAudit(ctx, tx, e); err != nil {
		return dbError("append audit event", err)
	}
	if err := tx.Commit(); err != nil {
		return dbError("append audit event", err)
	}
	return nil
}

const auditColumns = "seq, time, actor, action, object, unit, reason, remote_addr, user_agent, outcome, prev_hash, hash"

func scanAudit(row interface{ Scan(...any) error }) (*evidock.AuditEvent, error) {
	var (
		e          evidock.AuditEvent
		t          string
		prev, hash []byte
	)
	if err := row.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Object, &e.Unit, &e.Reason, &e.RemoteAddr, &e.UserAgent,
		&e.Outcome, &prev, &hash); err != nil {
		return nil, err
	}
	var err error
	if e.Time, err = parseTime(t); err != nil {
		return nil, err
	}
	// Lengths are checked by the table; a row changed to another length
	// fails verification rather than reading.
	copy(e.PrevHash[:], prev)
	copy(e.Hash[:], hash)
	return &e, nil
}

func (db *DB) queryAudit(ctx context.Context, query string, args ...any) ([]*evidock.AuditEvent, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbError("read audit events", err)
	}
	defer rows.Close()
	events := []*evidock.AuditEvent{}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, dbError("read audit events", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("read audit events", err)
	}
	return events, nil
}

// FindAuditEvents returns the events matching f in Seq order. It returns
// EINVALID for a limit above evidock.MaxAuditLimit.
func (db *DB) FindAuditEvents(ctx context.Context, f evidock.AuditFilter) ([]*evidock.AuditEvent, error) {
	limit, err := auditLimit(f)
	if err != nil {
		return nil, err
	}
	where, args := []string{"seq > ?"}, []any{f.AfterSeq}
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if !f.From.IsZero() {
		where, args = append(where, "time >= ?"), append(args, formatTime(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "time < ?"), append(args, formatTime(f.To))
	}
	if f.Scopes != nil {
		var ors []string
		for _, s := range f.Scopes {
			// A prefix of whole segments: the scope itself, or below it.
			ors = append(ors, "unit = ? OR substr(unit, 1, ?) = ?")
			args = append(args, s, len(s)+1, s+"/")
		}
		if len(ors) == 0 {
			ors = []string{"0"}
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	return db.queryAudit(ctx, "SELECT "+auditColumns+" FROM audit_events WHERE "+strings.Join(where, " AND ")+
		" ORDER BY seq LIMIT ?", append(args, limit)...)
}

// auditLimit returns f's limit, or EINVALID.
func auditLimit(f evidock.AuditFilter) (int, error) {
	switch {
	case f.Limit < 0 || f.Limit > evidock.MaxAuditLimit:
		return 0, evidock.Errorf(evidock.EINVALID, "audit events: limit %d is outside 0 to %d", f.Limit, evidock.MaxAuditLimit)
	case f.Limit == 0:
		return evidock.DefaultAuditLimit, nil
	}
	return f.Limit, nil
}

// ReadAuditChain returns up to limit events with Seq > after, in Seq order,
// as stored.
func (db *DB) ReadAuditChain(ctx context.Context, after int64, limit int) ([]*evidock.AuditEvent, error) {
	return db.queryAudit(ctx, "SELECT "+auditColumns+" FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
}
