-- 001: docking stations and the clip registry; the same meaning as
-- server/sqlite/migration/001_init.sql, in PostgreSQL's own types.
--
-- Times are timestamptz, which keeps microseconds: the stores truncate every
-- time to microseconds before writing, so both report the same instants.
-- Digests are the 32 raw bytes of the BLAKE3 (bytea), half the size of the
-- hex that SQLite keeps as text, for the same equality lookups.

CREATE TABLE stations (
	id           text PRIMARY KEY,
	name         text NOT NULL DEFAULT '',
	-- Only the SHA-256 of the token is kept: a copy of the database must not
	-- let anyone act as a station.
	token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
	created_at   timestamptz NOT NULL
);

CREATE TABLE clips (
	-- Identity values are not an audit sequence: a registration that fails
	-- after taking one, or loses a race for the same digest, leaves a gap.
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	blake3        bytea NOT NULL UNIQUE CHECK (octet_length(blake3) = 32),
	size          bigint NOT NULL CHECK (size > 0),
	object_key    text NOT NULL,
	file_name     text NOT NULL,
	device_serial text NOT NULL,
	officer_no    text NOT NULL,
	started_at    timestamptz NOT NULL,
	seq           integer NOT NULL,
	kind          text NOT NULL,
	duration_ms   bigint NOT NULL DEFAULT 0,
	-- NULL for clips that did not come through a docking station (imports).
	station_id    text REFERENCES stations (id),
	ingested_at   timestamptz NOT NULL,
	registered_at timestamptz NOT NULL
);

-- Supervisors ask per officer and per recorder over a time span (Art. 16, 23).
CREATE INDEX clips_officer_started ON clips (officer_no, started_at);
CREATE INDEX clips_recorder_started ON clips (device_serial, started_at);
CREATE INDEX clips_started ON clips (started_at);

-- Art. 17: original footage is never cut, edited, deleted or destroyed. The
-- registry is its record, so the database itself refuses to change a clip,
-- whatever code or person issues the statement. The triggers fire per
-- statement, before any row is touched, so even an UPDATE or DELETE that
-- matches nothing, an upsert (INSERT ... ON CONFLICT DO UPDATE) and a
-- TRUNCATE (which fires no row triggers) are refused.
CREATE FUNCTION clips_never_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'clips are never edited (Art. 17)' USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'clips are never deleted (Art. 17)' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER clips_never_updated BEFORE UPDATE ON clips
	FOR EACH STATEMENT EXECUTE FUNCTION clips_never_changed();

CREATE TRIGGER clips_never_deleted BEFORE DELETE ON clips
	FOR EACH STATEMENT EXECUTE FUNCTION clips_never_changed();

CREATE TRIGGER clips_never_truncated BEFORE TRUNCATE ON clips
	FOR EACH STATEMENT EXECUTE FUNCTION clips_never_changed();
