-- 002: the recorder's clock offset, the corrected start time and the
-- officer's important mark on every clip (issue 4).
--
-- corrected_started_at is started_at minus clock_offset_ms: the time that
-- deadlines and the linking of clips to activities use. started_at stays as
-- the recorder wrote it. Clips registered before this migration have no
-- known offset, so theirs is 0 and their corrected time is started_at.
--
-- SQLite cannot add a NOT NULL column without a default, and a default would
-- silently stand in for a missing corrected time; nor can the backfill be an
-- UPDATE, which clips_never_updated forbids. So the table is rebuilt, the
-- documented way to change a table's constraints: the rows are copied, ids
-- and all, into a table of the new shape, the old one is dropped (which
-- fires no trigger and drops its triggers and indexes with it), and the new
-- one takes its name. The triggers are then created again exactly as 001
-- made them. All of it runs in the migration's one transaction: a crash
-- leaves the old table, with its triggers, or the new one, with its own.

CREATE TABLE clips_002 (
	id                   INTEGER PRIMARY KEY,
	blake3               TEXT NOT NULL UNIQUE CHECK (length(blake3) = 64),
	size                 INTEGER NOT NULL CHECK (size > 0),
	object_key           TEXT NOT NULL,
	file_name            TEXT NOT NULL,
	device_serial        TEXT NOT NULL,
	officer_no           TEXT NOT NULL,
	started_at           TEXT NOT NULL,
	clock_offset_ms      INTEGER NOT NULL DEFAULT 0,
	corrected_started_at TEXT NOT NULL,
	important            INTEGER NOT NULL DEFAULT 0 CHECK (important IN (0, 1)),
	seq                  INTEGER NOT NULL,
	kind                 TEXT NOT NULL,
	duration_ms          INTEGER NOT NULL DEFAULT 0,
	-- NULL for clips that did not come through a docking station (imports).
	station_id           TEXT REFERENCES stations (id),
	ingested_at          TEXT NOT NULL,
	registered_at        TEXT NOT NULL
) STRICT;

INSERT INTO clips_002 (id, blake3, size, object_key, file_name, device_serial, officer_no,
	started_at, clock_offset_ms, corrected_started_at, important,
	seq, kind, duration_ms, station_id, ingested_at, registered_at)
SELECT id, blake3, size, object_key, file_name, device_serial, officer_no,
	started_at, 0, started_at, 0,
	seq, kind, duration_ms, station_id, ingested_at, registered_at
FROM clips;

DROP TABLE clips;
ALTER TABLE clips_002 RENAME TO clips;

-- Supervisors ask per officer and per recorder over a time span (Art. 16,
-- 23), and deadlines run from the corrected time, so the indexes are on it;
-- nothing asks by the recorder's uncorrected time any more.
CREATE INDEX clips_officer_corrected ON clips (officer_no, corrected_started_at);
CREATE INDEX clips_recorder_corrected ON clips (device_serial, corrected_started_at);
CREATE INDEX clips_corrected ON clips (corrected_started_at);

-- Art. 17: original footage is never cut, edited, deleted or destroyed. The
-- registry is its record, so the database itself refuses to change a clip,
-- whatever code or person issues the statement. (As in 001.)
CREATE TRIGGER clips_never_updated BEFORE UPDATE ON clips
BEGIN
	SELECT RAISE(ABORT, 'clips are never edited (Art. 17)');
END;

CREATE TRIGGER clips_never_deleted BEFORE DELETE ON clips
BEGIN
	SELECT RAISE(ABORT, 'clips are never deleted (Art. 17)');
END;
