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

// AuthenticateStation returns the station whose token is token, EUNAUTHORIZED,
// or EUNAVAILABLE if the database cannot be reached; the error never contains
// the token.
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
	)
	err := db.pool.QueryRow(ctx, "SELECT id, name, created_at FROM stations WHERE token_sha256 = $1", hash[:]).
		Scan(&s.ID, &s.Name, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, evidock.Errorf(evidock.EUNAUTHORIZED, "unknown station token: create the station with 'evidock-server station add' and use the token it writes")
	}
	if err != nil {
		return nil, dbError("authenticate station", err)
	}
	s.CreatedAt = fromDB(created)
	return &s, nil
}
