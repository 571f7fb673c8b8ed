package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
	"evidock/server/audit"
)

// auditLockKey is the transaction-level advisory lock held while appending
// to the audit chain: the ASCII of "evidaud1". Every server sharing the
// database takes it, so events are numbered without gaps and each links to
// the one before; it ends with the transaction, and so never outlives a
// crashed server.
const auditLockKey int64 = 0x65766964_61756431

// appendAudit appends e to the audit chain in tx, taking the chain's lock
// for the rest of tx.
func appendAudit(ctx context.Context, tx pgx.Tx, e *evidock.AuditEvent) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
		return err
	}
	var (
		seq  int64
		prev evidock.LogHash
		b    []byte
	)
	switch err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&seq, &b); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return err
	default:
		copy(prev[:], b)
	}
	audit.Link(e, seq, prev, time.Now())
	_, err := tx.Exec(ctx, `INSERT INTO audit_events (seq, time, actor, action, object, unit, reason,
		remote_addr, user_agent, outcome, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.Seq, e.Time, e.Actor, e.Action, e.Object, e.Unit, e.Reason, e.RemoteAddr, e.UserAgent, e.Outcome,
		e.PrevHash[:], e.Hash[:])
	return err
}

// AppendAudit appends e to the audit log, filling in its Seq, PrevHash and
// Hash (and Time, if zero).
func (db *DB) AppendAudit(ctx context.Context, e *evidock.AuditEvent) error {
	if err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return appendAudit(ctx, tx, e) }); err != nil {
		return dbError("append audit event", err)
	}
	return nil
}

const auditColumns = "seq, time, actor, action, object, unit, reason, remote_addr, user_agent, outcome, prev_hash, hash"

func scanAudit(row pgx.Row) (*evidock.AuditEvent, error) {
	var (
		e          evidock.AuditEvent
		prev, hash []byte
	)
	if err := row.Scan(&e.Seq, &e.Time, &e.Actor, &e.Action, &e.Object, &e.Unit, &e.Reason, &e.RemoteAddr, &e.UserAgent,
		&e.Outcome, &prev, &hash); err != nil {
		return nil, err
	}
	e.Time = fromDB(e.Time)
	copy(e.PrevHash[:], prev)
	copy(e.Hash[:], hash)
	return &e, nil
}

func (db *DB) queryAudit(ctx context.Context, query string, args ...any) ([]*evidock.AuditEvent, error) {
	rows, err := db.pool.Query(ctx, query, args...)
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
	limit := f.Limit
	switch {
	case limit < 0 || limit > evidock.MaxAuditLimit:
		return nil, evidock.Errorf(evidock.EINVALID, "audit events: limit %d is outside 0 to %d", f.Limit, evidock.MaxAuditLimit)
	case limit == 0:
		limit = evidock.DefaultAuditLimit
	}
	args := []any{f.AfterSeq}
	where := []string{"seq > $1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if !f.From.IsZero() {
		add("time >= $%d", ceilDB(f.From))
	}
	if !f.To.IsZero() {
		add("time < $%d", ceilDB(f.To))
	}
	if f.Scopes != nil {
		below := make([]string, len(f.Scopes))
		for i, s := range f.Scopes {
			below[i] = s + "/"
		}
		args = append(args, f.Scopes, below)
		// A prefix of whole segments: a scope itself, or below it.
		where = append(where, fmt.Sprintf("(unit = ANY($%d) OR EXISTS (SELECT 1 FROM unnest($%d::text[]) AS p WHERE starts_with(unit, p)))",
			len(args)-1, len(args)))
	}
	args = append(args, limit)
	return db.queryAudit(ctx, "SELECT "+auditColumns+" FROM audit_events WHERE "+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY seq LIMIT $%d", len(args)), args...)
}

// ReadAuditChain returns up to limit events with Seq > after, in Seq order,
// as stored.
func (db *DB) ReadAuditChain(ctx context.Context, after int64, limit int) ([]*evidock.AuditEvent, error) {
	return db.queryAudit(ctx, "SELECT "+auditColumns+" FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit)
}
