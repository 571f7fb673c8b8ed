package postgres

import (
	"context"
	"crypto/rand"
	"fmt"

	"evidock"
)

// ServerSecretSize is the length in bytes of a server secret.
const ServerSecretSize = 32

// ServerSecret returns the 32-byte secret called name, creating it from
// crypto/rand the first time any server instance asks, so that every
// instance on this database gets the same one. It returns EINVALID for an
// empty name, EUNAVAILABLE if the database cannot be reached, and the
// database's other errors.
func (db *DB) ServerSecret(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, evidock.Errorf(evidock.EINVALID, "server secret: a name is required")
	}
	fresh := make([]byte, ServerSecretSize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("postgres: server secret %s: %w", name, err)
	}
	op := "server secret " + name
	// The first insert wins, even between instances racing: ON CONFLICT
	// waits for the other's transaction and then does nothing.
	if _, err := db.pool.Exec(ctx, `INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, fresh); err != nil {
		return nil, dbError(op, err)
	}
	var secret []byte
	if err := db.pool.QueryRow(ctx, "SELECT secret FROM server_secrets WHERE name = $1", name).Scan(&secret); err != nil {
		return nil, dbError(op, err)
	}
	return secret, nil
}
