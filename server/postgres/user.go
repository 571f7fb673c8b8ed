package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
	"evidock/server/audit"
	"evidock/server/auth"
)

var (
	_ evidock.UserService   = (*DB)(nil)
	_ evidock.AccessService = (*DB)(nil)
	_ evidock.AuditService  = (*DB)(nil)
	_ auth.Store            = (*DB)(nil)
	_ audit.Store           = (*DB)(nil)
)

// CreateUser stores u with its password hash, filling in u.ID and
// u.CreatedAt, and appends ev to the audit log in the same transaction. It
// returns EINVALID for an invalid user or a role whose unit path is not a
// chain of units in the tree (see evidock.ValidateUnitChain), and ECONFLICT
// if the login or the officer number is taken.
func (db *DB) CreateUser(ctx context.Context, u *evidock.User, passwordHash string, ev *evidock.AuditEvent) error {
	if err := u.Validate(); err != nil {
		return err
	}
	var (
		id      int64
		created time.Time
	)
	var officer any
	if u.OfficerNo != "" {
		officer = u.OfficerNo
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO users (login, name, officer_no, password_hash, disabled, created_at)
			VALUES ($1, $2, $3, $4, $5, statement_timestamp()) RETURNING id, created_at`,
			u.Login, u.Name, officer, passwordHash, u.Disabled).Scan(&id, &created); err != nil {
			return err
		}
		for _, a := range u.Roles {
			if err := insertRole(ctx, tx, id, a); err != nil {
				return err
			}
		}
		if ev != nil {
			ev.Object = "user:" + u.Login
			return appendAudit(ctx, tx, ev)
		}
		return nil
	})
	if pgCode(err) == codeUniqueViolation {
		return evidock.Errorf(evidock.ECONFLICT, "user %s: the login or officer number %q is taken by another user", u.Login, u.OfficerNo)
	}
	if evidock.ErrorCode(err) == evidock.EINVALID {
		return err
	}
	if err != nil {
		return dbError("create user "+u.Login, err)
	}
	u.ID, u.CreatedAt = id, fromDB(created)
	return nil
}

// insertRole adds role a to the user with id, in tx, after checking that
// its unit path is a chain of units; it returns EINVALID naming the path and
// its first bad segment if not.
func insertRole(ctx context.Context, tx pgx.Tx, id int64, a evidock.RoleAssignment) error {
	err := evidock.ValidateUnitChain(a.Unit, func(code string) (string, bool, error) {
		var parent *string
		err := tx.QueryRow(ctx, "SELECT parent_code FROM units WHERE code = $1", code).Scan(&parent)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		if parent == nil {
			return "", true, nil
		}
		return *parent, true, nil
	})
	if evidock.ErrorCode(err) == evidock.EINVALID {
		return evidock.Errorf(evidock.EINVALID, "user: role %s: %s", a.Role, evidock.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	code := a.Unit[strings.LastIndexByte(a.Unit, '/')+1:]
	_, err = tx.Exec(ctx, "INSERT INTO user_roles (user_id, role, unit_id, unit_code) VALUES ($1, $2, $3, $4)",
		id, string(a.Role), a.Unit, code)
	return err
}

const userColumns = "id, login, name, COALESCE(officer_no, ''), disabled, created_at"

func scanUser(row pgx.Row, hash *string) (*evidock.User, error) {
	var (
		u       evidock.User
		created time.Time
	)
	dest := []any{&u.ID, &u.Login, &u.Name, &u.OfficerNo, &u.Disabled, &created}
	if hash != nil {
		dest = append(dest, hash)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.CreatedAt = fromDB(created)
	return &u, nil
}

// loadRoles fills in the roles of users.
func loadRoles(ctx context.Context, q querier, users ...*evidock.User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]int64, len(users))
	byID := make(map[int64]*evidock.User, len(users))
	for i, u := range users {
		ids[i], byID[u.ID] = u.ID, u
		u.Roles = []evidock.RoleAssignment{}
	}
	rows, err := q.Query(ctx, "SELECT user_id, role, unit_id FROM user_roles WHERE user_id = ANY($1) ORDER BY unit_id, role", ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			a  evidock.RoleAssignment
		)
		if err := rows.Scan(&id, &a.Role, &a.Unit); err != nil {
			return err
		}
		byID[id].Roles = append(byID[id].Roles, a)
	}
	return rows.Err()
}

func (db *DB) findUser(ctx context.Context, what, where string, arg any) (*evidock.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, arg), nil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "user %s does not exist", what)
	}
	if err != nil {
		return nil, dbError("find user "+what, err)
	}
	if err := loadRoles(ctx, db.pool, u); err != nil {
		return nil, dbError("find user "+what, err)
	}
	return u, nil
}

// FindUserByID returns the user with id, or ENOTFOUND.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*evidock.User, error) {
	return db.findUser(ctx, fmt.Sprint(id), "id = $1", id)
}

// FindUserByLogin returns the user with login, or ENOTFOUND.
func (db *DB) FindUserByLogin(ctx context.Context, login string) (*evidock.User, error) {
	return db.findUser(ctx, login, "login = $1", login)
}

// FindUsers returns every user in login order.
func (db *DB) FindUsers(ctx context.Context) ([]*evidock.User, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+userColumns+" FROM users ORDER BY login")
	if err != nil {
		return nil, dbError("find users", err)
	}
	users := []*evidock.User{}
	for rows.Next() {
		u, err := scanUser(rows, nil)
		if err != nil {
			rows.Close()
			return nil, dbError("find users", err)
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("find users", err)
	}
	if err := loadRoles(ctx, db.pool, users...); err != nil {
		return nil, dbError("find users", err)
	}
	return users, nil
}

// UserCredentials returns the user with login and their password hash, or
// ENOTFOUND.
func (db *DB) UserCredentials(ctx context.Context, login string) (*evidock.User, string, error) {
	var hash string
	u, err := scanUser(db.pool.QueryRow(ctx, "SELECT "+userColumns+", password_hash FROM users WHERE login = $1", login), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", evidock.Errorf(evidock.ENOTFOUND, "user %s does not exist", login)
	}
	if err != nil {
		return nil, "", dbError("find user "+login, err)
	}
	if err := loadRoles(ctx, db.pool, u); err != nil {
		return nil, "", dbError("find user "+login, err)
	}
	return u, hash, nil
}

// SetUserDisabled disables or enables the user with id, ends their sessions
// when disabling, and appends ev to the audit log, in one transaction. It
// returns ENOTFOUND if there is no such user.
func (db *DB) SetUserDisabled(ctx context.Context, id int64, disabled bool, ev *evidock.AuditEvent) error {
	found := true
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE users SET disabled = $1 WHERE id = $2", disabled, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			found = false
			return errors.New("no such user")
		}
		if disabled {
			if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", id); err != nil {
				return err
			}
		}
		if ev != nil {
			return appendAudit(ctx, tx, ev)
		}
		return nil
	})
	if !found {
		return evidock.Errorf(evidock.ENOTFOUND, "user %d does not exist", id)
	}
	if err != nil {
		return dbError("disable user", err)
	}
	return nil
}

// CreateSession stores s.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (token_sha256, user_id, created_at, last_seen_at, expires_at, remote_addr, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.TokenHash[:], s.UserID, toDB(s.CreatedAt), toDB(s.LastSeenAt),
		toDB(s.ExpiresAt), s.RemoteAddr, s.UserAgent)
	if err != nil {
		return dbError("create session", err)
	}
	return nil
}

// FindSession returns the session whose token has hash, or ENOTFOUND.
func (db *DB) FindSession(ctx context.Context, hash [sha256.Size]byte) (*auth.Session, error) {
	s := &auth.Session{TokenHash: hash}
	err := db.pool.QueryRow(ctx, `SELECT user_id, created_at, last_seen_at, expires_at, remote_addr, user_agent
		FROM sessions WHERE token_sha256 = $1`, hash[:]).Scan(&s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.RemoteAddr, &s.UserAgent)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "no such session")
	}
	if err != nil {
		return nil, dbError("find session", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromDB(s.CreatedAt), fromDB(s.LastSeenAt), fromDB(s.ExpiresAt)
	return s, nil
}

// TouchSession sets the session's last use to at.
func (db *DB) TouchSession(ctx context.Context, hash [sha256.Size]byte, at time.Time) error {
	if _, err := db.pool.Exec(ctx, "UPDATE sessions SET last_seen_at = $1 WHERE token_sha256 = $2", toDB(at), hash[:]); err != nil {
		return dbError("touch session", err)
	}
	return nil
}

// DeleteSession removes the session, if it exists.
func (db *DB) DeleteSession(ctx context.Context, hash [sha256.Size]byte) error {
	if _, err := db.pool.Exec(ctx, "DELETE FROM sessions WHERE token_sha256 = $1", hash[:]); err != nil {
		return dbError("delete session", err)
	}
	return nil
}

// LoginFailures returns the failures under each key whose window started at
// or after since.
func (db *DB) LoginFailures(ctx context.Context, keys []string, since time.Time) (map[string]int, error) {
	counts := map[string]int{}
	rows, err := db.pool.Query(ctx, "SELECT key, failures FROM login_failures WHERE window_start >= $1 AND key = ANY($2)", toDB(since), keys)
	if err != nil {
		return nil, dbError("count failed logins", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, dbError("count failed logins", err)
		}
		counts[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("count failed logins", err)
	}
	return counts, nil
}

// RecordLoginFailure counts a failure at time at under each key, starting a
// new window for a key whose window began before windowStart. Each key's
// count is one atomic upsert, so instances counting at once lose nothing.
func (db *DB) RecordLoginFailure(ctx context.Context, keys []string, at, windowStart time.Time) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO login_failures AS f (key, failures, window_start)
		SELECT k, 1, $2 FROM unnest($1::text[]) AS k
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN f.window_start < $3 THEN 1 ELSE f.failures + 1 END,
			window_start = CASE WHEN f.window_start < $3 THEN excluded.window_start ELSE f.window_start END`,
		keys, toDB(at), toDB(windowStart))
	if err != nil {
		return dbError("record failed login", err)
	}
	return nil
}

// ClearLoginFailures forgets the failures under key.
func (db *DB) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := db.pool.Exec(ctx, "DELETE FROM login_failures WHERE key = $1", key); err != nil {
		return dbError("clear failed logins", err)
	}
	return nil
}
