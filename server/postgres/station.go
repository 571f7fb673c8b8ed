package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"evidock"
	"evidock/server"
)

// CreateStation stores s with a new random token and returns the token; only
// its SHA-256 is stored, so this is the one time anyone sees it. It fills in
// s.CreatedAt from the database's clock. It returns EINVALID for a malformed
// station, ECONFLICT if the ID is taken, and EUNAVAILABLE if the database
// cannot be reached.
func (db *DB) CreateStation(ctx context.Context, s *evidock.Station) (string, error) {
	if err := server.ValidateStation(s); err != nil {
		return "", err
	}
	token, hash, err := server.NewStationToken()
	if err != nil {
		return "", err
	}
	var created time.Time
	err = db.pool.QueryRow(ctx, `INSERT INTO stations (id, name, token_sha256, created_at)
		VALUES ($1, $2, $3, statement_timestamp()) RETURNING created_at`,
		s.ID, s.Name, hash[:]).Scan(&created)
	if pgCode(err) == codeUniqueViolation {
		// The token is 256 random bits, so the ID is what collided.
		return "", evidock.Errorf(evidock.ECONFLICT, "station %q exists already: choose another id", s.ID)
	}
	if err != nil {
		return "", dbError("create station "+s.ID, err)
	}
	s.CreatedAt = fromDB(created)
	return token, nil
}

// AuthenticateStation returns the station whose token is token, EUNAUTHORIZED
// for an unknown token or a revoked station's (saying when it was revoked),
// or EUNAVAILABLE if the database cannot be reached; the error never
// contains the token.
func (db *DB) AuthenticateStation(ctx context.Context, token string) (*evidock.Station, error) {
	if token == "" {
		return nil, evidock.Errorf(evidock.EUNAUTHORIZED, "no station token given")
	}
	// Looking up the hash, rather than comparing tokens, leaks nothing
	// through timing: an attacker cannot steer the hash of a guess.
	hash := server.HashStationToken(token)
	var (
		s       evidock.Station
		created time.Time
		revoked *time.Time
	)
	err := db.pool.QueryRow(ctx, "SELECT id, name, created_at, revoked_at FROM stations WHERE token_sha256 = $1", hash[:]).
		Scan(&s.ID, &s.Name, &created, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, evidock.Errorf(evidock.EUNAUTHORIZED, "unknown station token: create the station with 'evidock-server station add' and use the token it writes")
	}
	if err != nil {
		return nil, dbError("authenticate station", err)
	}
	if revoked != nil {
		return nil, evidock.StationRevokedError(s.ID, fromDB(*revoked))
	}
	s.CreatedAt = fromDB(created)
	return &s, nil
}

// RevokeStation refuses station id's token from now on and returns when it
// was revoked, by the database's clock: now, or the first revocation's time
// if it was revoked before. It returns ENOTFOUND, naming id, for an unknown
// station, and EUNAVAILABLE if the database cannot be reached.
func (db *DB) RevokeStation(ctx context.Context, id string) (time.Time, error) {
	// One statement: a second revocation at the same moment waits for the
	// first's row lock and then keeps its time. The trigger of migration
	// 011 refuses any other change.
	var revoked time.Time
	err := db.pool.QueryRow(ctx, `UPDATE stations SET revoked_at = COALESCE(revoked_at, statement_timestamp())
		WHERE id = $1 RETURNING revoked_at`, id).Scan(&revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, evidock.Errorf(evidock.ENOTFOUND, "station %q does not exist: check the id (the one given to 'evidock-server station add')", id)
	}
	if err != nil {
		return time.Time{}, dbError("revoke station "+id, err)
	}
	return fromDB(revoked), nil
}
