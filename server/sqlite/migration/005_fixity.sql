-- 005: fixity checks and alarms (issue 5). See package server/fixity.
--
-- The clips table is never changed, so the schedule of checks is kept
-- beside it: fixity_state has one row per clip that a checker has claimed
-- (rows for new clips are added by the claim itself, so no trigger on clips
-- is needed and none can be lost when clips is rebuilt), with the clip's
-- last verdict and its lease. fixity_checks is the history of every check,
-- and alarms the conditions a supervisor must see; both are only added to
-- (an alarm is only ever acknowledged, once).

CREATE TABLE fixity_checks (
	id          INTEGER PRIMARY KEY,
	clip_id     INTEGER NOT NULL REFERENCES clips (id),
	checked_at  TEXT NOT NULL,
	result      TEXT NOT NULL CHECK (result IN ('ok', 'missing', 'changed', 'unreachable')),
	detail      TEXT NOT NULL,
	bytes_read  INTEGER NOT NULL CHECK (bytes_read >= 0),
	-- The checker (host/pid/random) that made the check.
	checked_by  TEXT NOT NULL
) STRICT;

CREATE INDEX fixity_checks_clip ON fixity_checks (clip_id, checked_at);

CREATE TRIGGER fixity_checks_never_updated BEFORE UPDATE ON fixity_checks
BEGIN
	SELECT RAISE(ABORT, 'fixity checks are never edited');
END;

CREATE TRIGGER fixity_checks_never_deleted BEFORE DELETE ON fixity_checks
BEGIN
	SELECT RAISE(ABORT, 'fixity checks are never deleted');
END;

CREATE TABLE fixity_state (
	clip_id         INTEGER PRIMARY KEY REFERENCES clips (id),
	-- The last verdict (ok, missing or changed): NULL until the first. An
	-- unreachable store gives no verdict and leaves it as it was.
	last_checked_at TEXT,
	last_result     TEXT CHECK (last_result IN ('ok', 'missing', 'changed', 'unreachable')),
	last_check_id   INTEGER REFERENCES fixity_checks (id),
	-- No checker claims the clip before lease_until: while lease_holder
	-- checks it, or, with lease_holder NULL, until the retry after an
	-- unreadable object is due.
	lease_holder    TEXT,
	lease_until     TEXT
) STRICT;

-- Claims take never-checked clips (NULL sorts first), then the oldest.
CREATE INDEX fixity_state_due ON fixity_state (last_checked_at, clip_id);

CREATE TABLE alarms (
	id              INTEGER PRIMARY KEY,
	kind            TEXT NOT NULL,
	-- What the alarm is about; for fixity alarms the clip's BLAKE3 in hex.
	subject         TEXT NOT NULL,
	message         TEXT NOT NULL,
	opened_at       TEXT NOT NULL,
	acknowledged_by TEXT,
	acknowledged_at TEXT,
	CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL))
) STRICT;

-- One open alarm per kind and subject: a clip found missing again before
-- anyone acknowledged the first alarm does not open a second.
CREATE UNIQUE INDEX alarms_one_open ON alarms (kind, subject) WHERE acknowledged_at IS NULL;
CREATE INDEX alarms_opened ON alarms (opened_at, id);

CREATE TRIGGER alarms_never_deleted BEFORE DELETE ON alarms
BEGIN
	SELECT RAISE(ABORT, 'alarms are never deleted');
END;

CREATE TRIGGER alarms_only_acknowledged BEFORE UPDATE ON alarms
WHEN OLD.acknowledged_at IS NOT NULL
	OR NEW.acknowledged_at IS NULL
	OR NEW.id IS NOT OLD.id
	OR NEW.kind IS NOT OLD.kind
	OR NEW.subject IS NOT OLD.subject
	OR NEW.message IS NOT OLD.message
	OR NEW.opened_at IS NOT OLD.opened_at
BEGIN
	SELECT RAISE(ABORT, 'an alarm is never edited, only acknowledged, once');
END;
