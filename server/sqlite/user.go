package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

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
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("create user", err)
	}
	defer tx.Rollback()
	created := db.now().Truncate(time.Microsecond)
	res, err := tx.ExecContext(ctx, `INSERT INTO users (login, name, officer_no, password_hash, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		u.Login, u.Name, sql.NullString{String: u.OfficerNo, Valid: u.OfficerNo != ""}, passwordHash, u.Disabled, formatTime(created))
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return evidock.Errorf(evidock.ECONFLICT, "user %s: the login or officer number %q is taken by another user", u.Login, u.OfficerNo)
	}
	if err != nil {
		return dbError("create user "+u.Login, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return dbError("create user "+u.Login, err)
	}
	for _, a := range u.Roles {
		if err := insertRole(ctx, tx, id, a); err != nil {
			return err
		}
	}
	if ev != nil {
		ev.Object = "user:" + u.Login
		if err := db.appendAudit(ctx, tx, ev); err != nil {
			return dbError("create user "+u.Login, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return dbError("create user "+u.Login, err)
	}
	u.ID, u.CreatedAt = id, created.In(evidock.ChinaTime)
	return nil
}

// insertRole adds role a to the user with id, in tx, after checking that
// its unit path is a chain of units; it returns EINVALID naming the path and
// its first bad segment if not.
func insertRole(ctx context.Context, tx *sql.Tx, id int64, a evidock.RoleAssignment) error {
	op := fmt.Sprintf("give role %s", a)
	err := evidock.ValidateUnitChain(a.Unit, func(code string) (string, bool, error) {
		var parent sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT parent_code FROM units WHERE code = ?", code).Scan(&parent)
		if errors.Is(err, sql.ErrNoRows) {
			return "", false, nil
		}
		if err != nil {
			return "", false, dbError(op, err)
		}
		return parent.String, true, nil
	})
	if err != nil {
		if evidock.ErrorCode(err) == evidock.EINVALID {
			return evidock.Errorf(evidock.EINVALID, "user: role %s: %s", a.Role, evidock.ErrorMessage(err))
		}
		return err
	}
	code := a.Unit[strings.LastIndexByte(a.Unit, '/')+1:]
	if _, err := tx.ExecContext(ctx, "INSERT INTO user_roles (user_id, role, unit_id, unit_code) VALUES (?, ?, ?, ?)",
		id, string(a.Role), a.Unit, code); err != nil {
		return dbError(op, err)
	}
	return nil
}

const userColumns = "id, login, name, COALESCE(officer_no, ''), disabled, created_at"

// scanUser reads a row of userColumns (and, if hash is not nil, the
// password hash after them).
func scanUser(row interface{ Scan(...any) error }, hash *string) (*evidock.User, error) {
	var (
		u       evidock.User
		created string
	)
	dest := []any{&u.ID, &u.Login, &u.Name, &u.OfficerNo, &u.Disabled, &created}
	if hash != nil {
		dest = append(dest, hash)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &u, nil
}

// loadRoles fills in the roles of users.
func loadRoles(ctx context.Context, q queryer, users ...*evidock.User) error {
	for _, u := range users {
		rows, err := q.QueryContext(ctx, "SELECT role, unit_id FROM user_roles WHERE user_id = ? ORDER BY unit_id, role", u.ID)
		if err != nil {
			return err
		}
		u.Roles = []evidock.RoleAssignment{}
		for rows.Next() {
			var a evidock.RoleAssignment
			if err := rows.Scan(&a.Role, &a.Unit); err != nil {
				rows.Close()
				return err
			}
			u.Roles = append(u.Roles, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// findUser returns the one user matching where, or ENOTFOUND naming what.
func (db *DB) findUser(ctx context.Context, what, where string, arg any) (*evidock.User, error) {
	u, err := scanUser(db.db.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, arg), nil)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "user %s does not exist", what)
	}
	if err != nil {
		return nil, dbError("find user "+what, err)
	}
	if err := loadRoles(ctx, db.db, u); err != nil {
		return nil, dbError("find user "+what, err)
	}
	return u, nil
}

// FindUserByID returns the user with id, or ENOTFOUND.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*evidock.User, error) {
	return db.findUser(ctx, fmt.Sprint(id), "id = ?", id)
}

// FindUserByLogin returns the user with login, or ENOTFOUND.
func (db *DB) FindUserByLogin(ctx context.Context, login string) (*evidock.User, error) {
	return db.findUser(ctx, login, "login = ?", login)
}

// FindUsers returns every user in login order.
func (db *DB) FindUsers(ctx context.Context) ([]*evidock.User, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY login")
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
	if err := loadRoles(ctx, db.db, users...); err != nil {
		return nil, dbError("find users", err)
	}
	return users, nil
}

// UserCredentials returns the user with login and their password hash, or
// ENOTFOUND.
func (db *DB) UserCredentials(ctx context.Context, login string) (*evidock.User, string, error) {
	var hash string
	u, err := scanUser(db.db.QueryRowContext(ctx, "SELECT "+userColumns+", password_hash FROM users WHERE login = ?", login), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", evidock.Errorf(evidock.ENOTFOUND, "user %s does not exist", login)
	}
	if err != nil {
		return nil, "", dbError("find user "+login, err)
	}
	if err := loadRoles(ctx, db.db, u); err != nil {
		return nil, "", dbError("find user "+login, err)
	}
	return u, hash, nil
}

// SetUserDisabled disables or enables the user with id, ends their sessions
// when disabling, and appends ev to the audit log, in one transaction. It
// returns ENOTFOUND if there is no such user.
func (db *DB) SetUserDisabled(ctx context.Context, id int64, disabled bool, ev *evidock.AuditEvent) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("disable user", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE users SET disabled = ? WHERE id = ?", disabled, id)
	if err != nil {
		return dbError("disable user", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbError("disable user", err)
	} else if n == 0 {
		return evidock.Errorf(evidock.ENOTFOUND, "user %d does not exist", id)
	}
	if disabled {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
			return dbError("disable user", err)
		}
	}
	if ev != nil {
		if err := db.appendAudit(ctx, tx, ev); err != nil {
			return dbError("disable user", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return dbError("disable user", err)
	}
	return nil
}

// CreateSession stores s.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO sessions (token_sha256, user_id, created_at, last_seen_at, expires_at, remote_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.TokenHash[:], s.UserID, formatTime(s.CreatedAt), formatTime(s.LastSeenAt),
		formatTime(s.ExpiresAt), s.RemoteAddr, s.UserAgent)
	if err != nil {
		return dbError("create session", err)
	}
	return nil
}

// FindSession returns the session whose token has hash, or ENOTFOUND.
func (db *DB) FindSession(ctx context.Context, hash [sha256.Size]byte) (*auth.Session, error) {
	s := &auth.Session{TokenHash: hash}
	var created, seen, expires string
	err := db.db.QueryRowContext(ctx, `SELECT user_id, created_at, last_seen_at, expires_at, remote_addr, user_agent
		FROM sessions WHERE token_sha256 = ?`, hash[:]).Scan(&s.UserID, &created, &seen, &expires, &s.RemoteAddr, &s.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "no such session")
	}
	if err != nil {
		return nil, dbError("find session", err)
	}
	for _, t := range []struct {
		s string
		t *time.Time
	}{{created, &s.CreatedAt}, {seen, &s.LastSeenAt}, {expires, &s.ExpiresAt}} {
		if *t.t, err = parseTime(t.s); err != nil {
			return nil, dbError("find session", err)
		}
	}
	return s, nil
}

// TouchSession sets the session's last use to at.
func (db *DB) TouchSession(ctx context.Context, hash [sha256.Size]byte, at time.Time) error {
	if _, err := db.db.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_sha256 = ?", formatTime(at), hash[:]); err != nil {
		return dbError("touch session", err)
	}
	return nil
}

// DeleteSession removes the session, if it exists.
func (db *DB) DeleteSession(ctx context.Context, hash [sha256.Size]byte) error {
	if _, err := db.db.ExecContext(ctx, "DELETE FROM sessions WHERE token_sha256 = ?", hash[:]); err != nil {
		return dbError("delete session", err)
	}
	return nil
}

// LoginFailures returns the failures under each key whose window started at
// or after since.
func (db *DB) LoginFailures(ctx context.Context, keys []string, since time.Time) (map[string]int, error) {
	counts := map[string]int{}
	if len(keys) == 0 {
		return counts, nil
	}
	args := []any{formatTime(since)}
	for _, k := range keys {
		args = append(args, k)
	}
	rows, err := db.db.QueryContext(ctx, "SELECT key, failures FROM login_failures WHERE window_start >= ? AND key IN (?"+
		strings.Repeat(", ?", len(keys)-1)+")", args...)
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
// new window for a key whose window began before windowStart.
func (db *DB) RecordLoginFailure(ctx context.Context, keys []string, at, windowStart time.Time) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("record failed login", err)
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?)
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN window_start < ? THEN 1 ELSE failures + 1 END,
				window_start = CASE WHEN window_start < ? THEN excluded.window_start ELSE window_start END`,
			k, formatTime(at), formatTime(windowStart), formatTime(windowStart)); err != nil {
			return dbError("record failed login", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return dbError("record failed login", err)
	}
	return nil
}

// ClearLoginFailures forgets the failures under key.
func (db *DB) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := db.db.ExecContext(ctx, "DELETE FROM login_failures WHERE key = ?", key); err != nil {
		return dbError("clear failed logins", err)
	}
	return nil
}
