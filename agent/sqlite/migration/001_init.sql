-- Every recording the agent has seen on a docked recorder, and how far the
-- pipeline has taken it. Times are RFC 3339 in UTC; '' means not yet.
CREATE TABLE recordings (
	id            INTEGER PRIMARY KEY,
	volume        TEXT    NOT NULL,
	rel_path      TEXT    NOT NULL,
	file_name     TEXT    NOT NULL,
	size          INTEGER NOT NULL,
	mod_time      TEXT    NOT NULL,
	device_serial TEXT    NOT NULL DEFAULT '',
	officer_no    TEXT    NOT NULL DEFAULT '',
	started_at    TEXT    NOT NULL DEFAULT '',
	seq           INTEGER NOT NULL DEFAULT 0,
	kind          TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL,
	error         TEXT    NOT NULL DEFAULT '',
	blake3        TEXT    NOT NULL DEFAULT '',
	staged_path   TEXT    NOT NULL DEFAULT '',
	upload_id     TEXT    NOT NULL DEFAULT '',
	parts         TEXT    NOT NULL DEFAULT '[]',
	clip_id       INTEGER NOT NULL DEFAULT 0,
	discovered_at TEXT    NOT NULL,
	ingested_at   TEXT    NOT NULL DEFAULT '',
	stored_at     TEXT    NOT NULL DEFAULT '',
	registered_at TEXT    NOT NULL DEFAULT '',
	updated_at    TEXT    NOT NULL,
	-- A recorder's file name carries its serial, start time and sequence, so
	-- name and size identify a recording across dockings.
	UNIQUE (file_name, size)
);

CREATE INDEX recordings_state ON recordings (state, started_at);
CREATE INDEX recordings_volume ON recordings (volume);
