package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

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
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("create access request", err)
	}
	defer tx.Rollback()
	var clipIDs []int64
	for _, d := range r.Clips {
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM clips WHERE blake3 = ?", d.String()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return evidock.Errorf(evidock.ENOTFOUND, "access request: clip %s is not registered", d)
		}
		if err != nil {
			return dbError("create access request", err)
		}
		clipIDs = append(clipIDs, id)
	}
	created := db.now().Truncate(time.Microsecond)
	res, err := tx.ExecContext(ctx, `INSERT INTO access_requests (requester_id, actions, case_id, units, reason,
		duration_seconds, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`,
		r.RequesterID, joinActions(r.Actions), sql.NullString{String: r.CaseID, Valid: r.CaseID != ""},
		strings.Join(r.Units, " "), r.Reason, r.DurationSeconds, formatTime(created))
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return evidock.Errorf(evidock.EINVALID, "access request: requester %d is not a user", r.RequesterID)
	}
	if err != nil {
		return dbError("create access request", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return dbError("create access request", err)
	}
	for _, c := range clipIDs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO access_request_clips (request_id, clip_id) VALUES (?, ?)", id, c); err != nil {
			return dbError("create access request", err)
		}
	}
	if ev != nil {
		ev.Object = fmt.Sprintf("access_request:%d", id)
		if err := db.appendAudit(ctx, tx, ev); err != nil {
			return dbError("create access request", err)
		}
	}
	if err := tx.Commit(); err != nil {
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
	COALESCE(r.decision_reason, ''), COALESCE(r.decided_at, ''), COALESCE(r.valid_until, '')`

const requestFrom = ` FROM access_requests r JOIN users u ON u.id = r.requester_id LEFT JOIN users d ON d.id = r.decider_id`

func scanRequest(row interface{ Scan(...any) error }) (*evidock.AccessRequest, error) {
	var (
		r                                  evidock.AccessRequest
		actions, units                     string
		created, decided, until, stateText string
	)
	if err := row.Scan(&r.ID, &r.RequesterID, &r.Requester, &actions, &r.CaseID, &units, &r.Reason,
		&r.DurationSeconds, &stateText, &created, &r.DeciderID, &r.Decider, &r.DecisionReason, &decided, &until); err != nil {
		return nil, err
	}
	r.State = evidock.AccessState(stateText)
	r.Actions = splitActions(actions)
	r.Units = strings.Fields(units)
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if decided != "" {
		if r.DecidedAt, err = parseTime(decided); err != nil {
			return nil, err
		}
	}
	if until != "" {
		if r.ValidUntil, err = parseTime(until); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// loadRequestClips fills in the clips of requests.
func (db *DB) loadRequestClips(ctx context.Context, q queryer, reqs ...*evidock.AccessRequest) error {
	for _, r := range reqs {
		rows, err := q.QueryContext(ctx, `SELECT c.blake3 FROM access_request_clips a JOIN clips c ON c.id = a.clip_id
			WHERE a.request_id = ? ORDER BY c.id`, r.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var hex string
			if err := rows.Scan(&hex); err != nil {
				rows.Close()
				return err
			}
			d, err := evidock.ParseDigest(hex)
			if err != nil {
				rows.Close()
				return err
			}
			r.Clips = append(r.Clips, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// FindAccessRequest returns the request with id, or ENOTFOUND.
func (db *DB) FindAccessRequest(ctx context.Context, id int64) (*evidock.AccessRequest, error) {
	r, err := scanRequest(db.db.QueryRowContext(ctx, "SELECT "+requestColumns+requestFrom+" WHERE r.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "access request %d does not exist", id)
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("find access request %d", id), err)
	}
	if err := db.loadRequestClips(ctx, db.db, r); err != nil {
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
	where, args := []string{"1 = 1"}, []any{}
	if f.State != "" {
		where, args = append(where, "r.state = ?"), append(args, string(f.State))
	}
	if f.RequesterID != 0 {
		where, args = append(where, "r.requester_id = ?"), append(args, f.RequesterID)
	}
	return db.queryRequests(ctx, "SELECT "+requestColumns+requestFrom+" WHERE "+strings.Join(where, " AND ")+
		" ORDER BY r.id DESC LIMIT ?", append(args, limit)...)
}

func (db *DB) queryRequests(ctx context.Context, query string, args ...any) ([]*evidock.AccessRequest, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbError("find access requests", err)
	}
	reqs := []*evidock.AccessRequest{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, dbError("find access requests", err)
		}
		reqs = append(reqs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("find access requests", err)
	}
	if err := db.loadRequestClips(ctx, db.db, reqs...); err != nil {
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
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError(op, err)
	}
	defer tx.Rollback()
	var (
		requester int64
		state     string
		seconds   int64
	)
	err = tx.QueryRowContext(ctx, "SELECT requester_id, state, duration_seconds FROM access_requests WHERE id = ?", d.RequestID).
		Scan(&requester, &state, &seconds)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "access request %d does not exist", d.RequestID)
	}
	if err != nil {
		return nil, dbError(op, err)
	}
	if err := d.Check(requester, evidock.AccessState(state)); err != nil {
		return nil, err
	}
	at := d.At.Truncate(time.Microsecond)
	newState, until := evidock.AccessRefused, sql.NullString{}
	if d.Approve {
		newState = evidock.AccessApproved
		until = sql.NullString{String: formatTime(at.Add(time.Duration(seconds) * time.Second)), Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE access_requests SET state = ?, decider_id = ?, decision_reason = ?,
		decided_at = ?, valid_until = ? WHERE id = ?`,
		string(newState), d.DeciderID, d.Reason, formatTime(at), until, d.RequestID); err != nil {
		return nil, dbError(op, err)
	}
	if ev != nil {
		if err := db.appendAudit(ctx, tx, ev); err != nil {
			return nil, dbError(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, dbError(op, err)
	}
	return db.FindAccessRequest(ctx, d.RequestID)
}

// FindGrants returns the approved requests of the user that name clip d or
// one of cases, newest first, at most evidock.MaxGrants, as grants.
func (db *DB) FindGrants(ctx context.Context, userID int64, d evidock.Digest, cases []string) ([]evidock.Grant, error) {
	cond := "r.id IN (SELECT a.request_id FROM access_request_clips a JOIN clips c ON c.id = a.clip_id WHERE c.blake3 = ?)"
	args := []any{userID, d.String()}
	if len(cases) > 0 {
		cond += " OR r.case_id IN (?" + strings.Repeat(", ?", len(cases)-1) + ")"
		for _, c := range cases {
			args = append(args, c)
		}
	}
	reqs, err := db.queryRequests(ctx, "SELECT "+requestColumns+requestFrom+
		" WHERE r.requester_id = ? AND r.state = 'approved' AND ("+cond+") ORDER BY r.id DESC LIMIT ?",
		append(args, evidock.MaxGrants)...)
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
	t := formatTime(at)
	reqs, err := db.queryRequests(ctx, "SELECT "+requestColumns+requestFrom+
		" WHERE r.requester_id = ? AND r.state = 'approved' AND r.decided_at <= ? AND r.valid_until > ? ORDER BY r.id DESC",
		userID, t, t)
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

func joinActions(as []evidock.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, " ")
}

func splitActions(s string) []evidock.Action {
	var as []evidock.Action
	for _, f := range strings.Fields(s) {
		as = append(as, evidock.Action(f))
	}
	return as
}
