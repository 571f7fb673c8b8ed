package sqlite

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
// empty name, EUNAVAILABLE if the database stays locked, and the database's
// other errors.
func (db *DB) ServerSecret(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, evidock.Errorf(evidock.EINVALID, "server secret: a name is required")
	}
	fresh := make([]byte, ServerSecretSize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("sqlite: server secret %s: %w", name, err)
	}
	op := "server secret " + name
	// The first insert wins; every later caller reads what it stored.
	if _, err := db.db.ExecContext(ctx, `INSERT INTO server_secrets (name, secret, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, fresh, formatTime(db.now())); err != nil {
		return nil, dbError(op, err)
	}
	var secret []byte
	if err := db.db.QueryRowContext(ctx, "SELECT secret FROM server_secrets WHERE name = ?", name).Scan(&secret); err != nil {
		return nil, dbError(op, err)
	}
	return secret, nil
}
