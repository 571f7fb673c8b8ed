package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
)

// CreateAccessRequest stores r as pending, filling in its ID, State and
// CreatedAt, and appends ev (its Object set to the request) to the audit
// log in the same transaction. It returns EINVALID for a malformed request
// or an unknown requester, and ENOTFOUND for a clip that is not registered.
func (db *DB) CreateAccessRequest(ctx context.Context, r *evidock.AccessRequest, ev *evidock.AuditEvent) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var (
		id      int64
		missing evidock.Digest
	)
	var caseID any
	if r.CaseID != "" {
		caseID = r.CaseID
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var clipIDs []int64
		for _, d := range r.Clips {
			var cid int64
			err := tx.QueryRow(ctx, "SELECT id FROM clips WHERE blake3 = $1", d[:]).Scan(&cid)
			if errors.Is(err, pgx.ErrNoRows) {
				missing = d
				return err
			}
			if err != nil {
				return err
			}
			clipIDs = append(clipIDs, cid)
		}
		units := r.Units
		if units == nil {
			units = []string{}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO access_requests (requester_id, actions, case_id, units, reason,
			duration_seconds, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', statement_timestamp()) RETURNING id`,
			r.RequesterID, actionStrings(r.Actions), caseID, units, r.Reason, r.DurationSeconds).Scan(&id); err != nil {
			return err
		}
		if len(clipIDs) > 0 {
			if _, err := tx.Exec(ctx, "INSERT INTO access_request_clips (request_id, clip_id) SELECT $1, unnest($2::bigint[])", id, clipIDs); err != nil {
				return err
			}
		}
		if ev != nil {
			ev.Object = fmt.Sprintf("access_request:%d", id)
			return appendAudit(ctx, tx, ev)
		}
		return nil
	})
	switch {
	case !missing.IsZero():
		return evidock.Errorf(evidock.ENOTFOUND, "access request: clip %s is not registered", missing)
	case pgCode(err) == codeForeignKeyViolation:
		return evidock.Errorf(evidock.EINVALID, "access request: requester %d is not a user", r.RequesterID)
	case err != nil:
		return dbError("create access request", err)
	}
	stored, err := db.FindAccessRequest(ctx, id)
	if err != nil {
		return err
	}
	*r = *stored
	return nil
}

const requestColumns = `r.id, r.requester_id, u.login, r.actions, COALESCE(r.case_id, ''), r.units, r.reason,
	r.duration_seconds, r.state, r.created_at, COALESCE(r.decider_id, 0), COALESCE(d.login, ''),
	COALESCE(r.decision_reason, ''), r.decided_at, r.valid_until,
	ARRAY(SELECT c.blake3 FROM access_request_clips a JOIN clips c ON c.id = a.clip_id WHERE a.request_id = r.id ORDER BY c.id)`

const requestFrom = ` FROM access_requests r JOIN users u ON u.id = r.requester_id LEFT JOIN users d ON d.id = r.decider_id`

func scanRequest(row pgx.Row) (*evidock.AccessRequest, error) {
	var (
		r              evidock.AccessRequest
		actions        []string
		state          string
		created        time.Time
		decided, until *time.Time
		clips          [][]byte
	)
	if err := row.Scan(&r.ID, &r.RequesterID, &r.Requester, &actions, &r.CaseID, &r.Units, &r.Reason,
		&r.DurationSeconds, &state, &created, &r.DeciderID, &r.Decider, &r.DecisionReason, &decided, &until, &clips); err != nil {
		return nil, err
	}
	r.State = evidock.AccessState(state)
	for _, a := range actions {
		r.Actions = append(r.Actions, evidock.Action(a))
	}
	r.CreatedAt = fromDB(created)
	if decided != nil {
		r.DecidedAt = fromDB(*decided)
	}
	if until != nil {
		r.ValidUntil = fromDB(*until)
	}
	for _, b := range clips {
		var d evidock.Digest
		if len(b) != len(d) {
			return nil, fmt.Errorf("access request %d: stored clip digest of %d bytes", r.ID, len(b))
		}
		copy(d[:], b)
		r.Clips = append(r.Clips, d)
	}
	if r.Units == nil {
		r.Units = []string{}
	}
	return &r, nil
}

// FindAccessRequest returns the request with id, or ENOTFOUND.
func (db *DB) FindAccessRequest(ctx context.Context, id int64) (*evidock.AccessRequest, error) {
	r, err := scanRequest(db.pool.QueryRow(ctx, "SELECT "+requestColumns+requestFrom+" WHERE r.id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "access request %d does not exist", id)
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("find access request %d", id), err)
	}
	return r, nil
}

// FindAccessRequests returns the requests matching f, newest first.
func (db *DB) FindAccessRequests(ctx context.Context, f evidock.AccessRequestFilter) ([]*evidock.AccessRequest, error) {
	limit := f.Limit
	if limit <= 0 || limit > evidock.DefaultAccessRequestLimit {
		limit = evidock.DefaultAccessRequestLimit
	}
	where, args := []string{"true"}, []any{}
	if f.State != "" {
		args = append(args, string(f.State))
		where = append(where, fmt.Sprintf("r.state = $%d", len(args)))
	}
	if f.RequesterID != 0 {
		args = append(args, f.RequesterID)
		where = append(where, fmt.Sprintf("r.requester_id = $%d", len(args)))
	}
	args = append(args, limit)
	return db.queryRequests(ctx, "SELECT "+requestColumns+requestFrom+" WHERE "+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY r.id DESC LIMIT $%d", len(args)), args...)
}

func (db *DB) queryRequests(ctx context.Context, query string, args ...any) ([]*evidock.AccessRequest, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, dbError("find access requests", err)
	}
	defer rows.Close()
	reqs := []*evidock.AccessRequest{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, dbError("find access requests", err)
		}
		reqs = append(reqs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("find access requests", err)
	}
	return reqs, nil
}

// DecideAccessRequest records d on its pending request and appends ev to the
// audit log, in one transaction, and returns the decided request. It
// returns ENOTFOUND for no such request, ECONFLICT for one decided already,
// and EFORBIDDEN if the decider made the request.
func (db *DB) DecideAccessRequest(ctx context.Context, d evidock.AccessDecision, ev *evidock.AuditEvent) (*evidock.AccessRequest, error) {
	op := fmt.Sprintf("decide access request %d", d.RequestID)
	var refused error
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var (
			requester int64
			state     string
			seconds   int64
		)
		// FOR UPDATE: two department heads deciding at once are decided
		// one after the other, and the second finds it decided.
		err := tx.QueryRow(ctx, "SELECT requester_id, state, duration_seconds FROM access_requests WHERE id = $1 FOR UPDATE", d.RequestID).
			Scan(&requester, &state, &seconds)
		if errors.Is(err, pgx.ErrNoRows) {
			refused = evidock.Errorf(evidock.ENOTFOUND, "access request %d does not exist", d.RequestID)
			return refused
		}
		if err != nil {
			return err
		}
		if refused = d.Check(requester, evidock.AccessState(state)); refused != nil {
			return refused
		}
		at := toDB(d.At)
		newState, until := evidock.AccessRefused, (*time.Time)(nil)
		if d.Approve {
			newState = evidock.AccessApproved
			u := at.Add(time.Duration(seconds) * time.Second)
			until = &u
		}
		if _, err := tx.Exec(ctx, `UPDATE access_requests SET state = $1, decider_id = $2, decision_reason = $3,
			decided_at = $4, valid_until = $5 WHERE id = $6`, string(newState), d.DeciderID, d.Reason, at, until, d.RequestID); err != nil {
			return err
		}
		if ev != nil {
			return appendAudit(ctx, tx, ev)
		}
		return nil
	})
	if refused != nil {
		return nil, refused
	}
	if err != nil {
		return nil, dbError(op, err)
	}
	return db.FindAccessRequest(ctx, d.RequestID)
}

// FindGrants returns the approved requests of the user that name clip d or
// one of cases, newest first, at most evidock.MaxGrants, as grants.
func (db *DB) FindGrants(ctx context.Context, userID int64, d evidock.Digest, cases []string) ([]evidock.Grant, error) {
	if cases == nil {
		cases = []string{}
	}
	reqs, err := db.queryRequests(ctx, "SELECT "+requestColumns+requestFrom+
		` WHERE r.requester_id = $1 AND r.state = 'approved' AND (
			r.id IN (SELECT a.request_id FROM access_request_clips a JOIN clips c ON c.id = a.clip_id WHERE c.blake3 = $2)
			OR r.case_id = ANY($3))
		ORDER BY r.id DESC LIMIT $4`, userID, d[:], cases, evidock.MaxGrants)
	if err != nil {
		return nil, err
	}
	grants := make([]evidock.Grant, 0, len(reqs))
	for _, r := range reqs {
		if g, ok := r.Grant(); ok {
			grants = append(grants, g)
		}
	}
	return grants, nil
}

// FindValidGrants returns the grants of the user valid at at (decided at or
// before it, valid until after it), newest first; never nil.
func (db *DB) FindValidGrants(ctx context.Context, userID int64, at time.Time) ([]evidock.Grant, error) {
	reqs, err := db.queryRequests(ctx, "SELECT "+requestColumns+requestFrom+
		` WHERE r.requester_id = $1 AND r.state = 'approved' AND r.decided_at <= $2 AND r.valid_until > $2
		ORDER BY r.id DESC`, userID, toDB(at))
	if err != nil {
		return nil, err
	}
	grants := make([]evidock.Grant, 0, len(reqs))
	for _, r := range reqs {
		if g, ok := r.Grant(); ok {
			grants = append(grants, g)
		}
	}
	return grants, nil
}

func actionStrings(as []evidock.Action) []string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return s
}
