package evidock

import (
	"context"
	"time"
)

// Station is a docking PC running the agent. It authenticates with a token of
// its own; only the token's hash is stored.
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
	// EUNAUTHORIZED.
	AuthenticateStation(ctx context.Context, token string) (*Station, error)
}
