-- 009: secrets every server instance on this database shares, created on
-- first use (see DB.ServerSecret): the key of the web UI's playback tickets,
-- so that a ticket one instance issues is honoured by the others.

CREATE TABLE server_secrets (
	name       TEXT PRIMARY KEY,
	secret     BLOB NOT NULL CHECK (length(secret) = 32),
	created_at TEXT NOT NULL
) STRICT;
