package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"evidock"
	"evidock/server"
)

// CreateStation stores s with a new random token and returns the token; only
// its SHA-256 is stored, so this is the one time anyone sees it. It fills in
// s.CreatedAt. It returns EINVALID for a malformed station and ECONFLICT if
// the ID is taken.
func (db *DB) CreateStation(ctx context.Context, s *evidock.Station) (string, error) {
	if err := server.ValidateStation(s); err != nil {
		return "", err
	}
	token, hash, err := server.NewStationToken()
	if err != nil {
		return "", err
	}
	created := db.now().Truncate(time.Microsecond) // microseconds, as PostgreSQL keeps them
	_, err = db.db.ExecContext(ctx, "INSERT INTO stations (id, name, token_sha256, created_at) VALUES (?, ?, ?, ?)",
		s.ID, s.Name, hash[:], formatTime(created))
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return "", evidock.Errorf(evidock.ECONFLICT, "station %q exists already: choose another id", s.ID)
	}
	if err != nil {
		return "", dbError("create station "+s.ID, err)
	}
	s.CreatedAt = created.In(evidock.ChinaTime)
	return token, nil
}

// AuthenticateStation returns the station whose token is token, or
// EUNAUTHORIZED for an unknown token or a revoked station's (saying when it
// was revoked); the error never contains the token.
func (db *DB) AuthenticateStation(ctx context.Context, token string) (*evidock.Station, error) {
	if token == "" {
		return nil, evidock.Errorf(evidock.EUNAUTHORIZED, "no station token given")
	}
	// Looking up the hash, rather than comparing tokens, leaks nothing
	// through timing: an attacker cannot steer the hash of a guess.
	hash := server.HashStationToken(token)
	var (
		s       evidock.Station
		created string
		revoked sql.NullString
	)
	err := db.cached(nil).QueryRowContext(ctx, "SELECT id, name, created_at, revoked_at FROM stations WHERE token_sha256 = ?", hash[:]).
		Scan(&s.ID, &s.Name, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.EUNAUTHORIZED, "unknown station token: create the station with 'evidock-server station add' and use the token it writes")
	}
	if err != nil {
		return nil, dbError("authenticate station", err)
	}
	if s.CreatedAt, err = parseTime(created); err != nil {
		return nil, dbError("authenticate station "+s.ID, err)
	}
	if revoked.Valid {
		at, err := parseTime(revoked.String)
		if err != nil {
			return nil, dbError("authenticate station "+s.ID, err)
		}
		return nil, evidock.StationRevokedError(s.ID, at)
	}
	return &s, nil
}

// RevokeStation refuses station id's token from now on and returns when it
// was revoked: now, or the first revocation's time if it was revoked
// before. It returns ENOTFOUND, naming id, for an unknown station, and
// EUNAVAILABLE if the database stays busy.
func (db *DB) RevokeStation(ctx context.Context, id string) (time.Time, error) {
	now := db.now().Truncate(time.Microsecond) // microseconds, as PostgreSQL keeps them
	// One statement, so that two revocations at once agree on the first
	// one's time; the trigger of migration 011 refuses any other change.
	var revoked string
	err := db.db.QueryRowContext(ctx, "UPDATE stations SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING revoked_at",
		formatTime(now), id).Scan(&revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, evidock.Errorf(evidock.ENOTFOUND, "station %q does not exist: check the id (the one given to 'evidock-server station add')", id)
	}
	if err != nil {
		return time.Time{}, dbError("revoke station "+id, err)
	}
	at, err := parseTime(revoked)
	if err != nil {
		return time.Time{}, dbError("revoke station "+id, err)
	}
	return at, nil
}
