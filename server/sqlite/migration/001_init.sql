-- 001: docking stations and the clip registry.
--
-- Times are TEXT in UTC, formatted with a fixed width
-- (2006-01-02T15:04:05.000000000Z) so that comparing strings compares times
-- and indexes on them serve range queries.

CREATE TABLE stations (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL DEFAULT '',
	-- Only the SHA-256 of the token is kept: a copy of the database must not
	-- let anyone act as a station.
	token_sha256 BLOB NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
	created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE clips (
	id            INTEGER PRIMARY KEY,
	blake3        TEXT NOT NULL UNIQUE CHECK (length(blake3) = 64),
	size          INTEGER NOT NULL CHECK (size > 0),
	object_key    TEXT NOT NULL,
	file_name     TEXT NOT NULL,
	device_serial TEXT NOT NULL,
	officer_no    TEXT NOT NULL,
	started_at    TEXT NOT NULL,
	seq           INTEGER NOT NULL,
	kind          TEXT NOT NULL,
	duration_ms   INTEGER NOT NULL DEFAULT 0,
	-- NULL for clips that did not come through a docking station (imports).
	station_id    TEXT REFERENCES stations (id),
	ingested_at   TEXT NOT NULL,
	registered_at TEXT NOT NULL
) STRICT;

-- Supervisors ask per officer and per recorder over a time span (Art. 16, 23).
CREATE INDEX clips_officer_started ON clips (officer_no, started_at);
CREATE INDEX clips_recorder_started ON clips (device_serial, started_at);
CREATE INDEX clips_started ON clips (started_at);

-- Art. 17: original footage is never cut, edited, deleted or destroyed. The
-- registry is its record, so the database itself refuses to change a clip,
-- whatever code or person issues the statement.
CREATE TRIGGER clips_never_updated BEFORE UPDATE ON clips
BEGIN
	SELECT RAISE(ABORT, 'clips are never edited (Art. 17)');
END;

CREATE TRIGGER clips_never_deleted BEFORE DELETE ON clips
BEGIN
	SELECT RAISE(ABORT, 'clips are never deleted (Art. 17)');
END;
