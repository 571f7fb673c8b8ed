package evidock

import (
	"context"
	"time"
)

// Station is a docking PC running the agent. It authenticates with a token of
// its own; only the token's hash is stored. A station is never deleted, so
// that its clips keep naming it; a stolen or retired docking PC's station
// is revoked instead, which refuses its token for good.
type Station struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// StationService manages docking stations and their tokens.
type StationService interface {
	// CreateStation stores s and returns a new random token for it, shown
	// once. It returns ECONFLICT if the ID is taken.
	CreateStation(ctx context.Context, s *Station) (token string, err error)

	// AuthenticateStation returns the station that token belongs to, or
	// EUNAUTHORIZED for an unknown token or a revoked station's (the
	// message says when it was revoked and never holds the token).
	AuthenticateStation(ctx context.Context, token string) (*Station, error)

	// RevokeStation refuses the token of station id from now on and
	// returns when it was revoked. Revoking a revoked station changes
	// nothing and returns the first revocation's time. The station and
	// its clips are kept (Art. 17: nothing is deleted). It returns
	// ENOTFOUND, naming id, if there is no such station.
	RevokeStation(ctx context.Context, id string) (revokedAt time.Time, err error)
}

// StationRevokedError returns the EUNAUTHORIZED error that refuses a token
// of station id, revoked at revokedAt: it says when (China time) and what
// to do, and never holds the token. Both stores answer with it, so that the
// agent and the logs read the same words whatever the database.
func StationRevokedError(id string, revokedAt time.Time) *Error {
	return Errorf(EUNAUTHORIZED, "station %s's token was revoked at %s: ask the administrator for a new station: evidock-server station add",
		id, revokedAt.In(ChinaTime).Format(time.RFC3339))
}
