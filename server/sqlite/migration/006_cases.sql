-- 006: units, officers, recorder assignments, enforcement cases, their
-- activities, and the links between clips and activities (issue 5).
--
-- What the rules ask never to be lost is only ever added to: the
-- assignment of recorders (who carried which recorder when) and the history
-- of clip links (clip_links: who suggested, confirmed, rejected or unlinked
-- which clip for which activity, when and why). The state of a link is its
-- latest entry; no row is ever changed to record a new one. Cases are
-- never deleted, and the dates Art. 20 has recorded are never changed once
-- set. Triggers refuse what the code never does.
--
-- clip_links and the fixity tables refer to clips (id): a future rebuild of
-- clips, as 002 did, must keep the ids.

CREATE TABLE units (
	code        TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 32),
	name        TEXT NOT NULL CHECK (name <> ''),
	level       TEXT NOT NULL CHECK (level IN ('bureau', 'district', 'unit')),
	parent_code TEXT REFERENCES units (code),
	created_at  TEXT NOT NULL,
	-- Only the bureau is at the top; the store checks that a parent has
	-- the level above its child's.
	CHECK ((level = 'bureau') = (parent_code IS NULL))
) STRICT;

CREATE INDEX units_parent ON units (parent_code, code);

CREATE TABLE officers (
	officer_no     TEXT PRIMARY KEY CHECK (length(officer_no) = 6),
	certificate_no TEXT NOT NULL UNIQUE,
	name           TEXT NOT NULL,
	unit_code      TEXT NOT NULL REFERENCES units (code),
	created_at     TEXT NOT NULL
) STRICT;

CREATE INDEX officers_unit ON officers (unit_code, officer_no);

-- An assignment lasts from valid_from until the next one of the same
-- recorder. officer_no NULL: the recorder went back to the store. The
-- recorder need not have docked yet, so there is no reference to
-- recorders.
CREATE TABLE recorder_assignments (
	id            INTEGER PRIMARY KEY,
	device_serial TEXT NOT NULL CHECK (length(device_serial) = 7),
	officer_no    TEXT REFERENCES officers (officer_no),
	valid_from    TEXT NOT NULL,
	assigned_by   TEXT NOT NULL,
	reason        TEXT NOT NULL,
	recorded_at   TEXT NOT NULL,
	UNIQUE (device_serial, valid_from)
) STRICT;

CREATE INDEX recorder_assignments_officer ON recorder_assignments (officer_no, device_serial);

CREATE TRIGGER recorder_assignments_never_updated BEFORE UPDATE ON recorder_assignments
BEGIN
	SELECT RAISE(ABORT, 'recorder assignments are never edited');
END;

CREATE TRIGGER recorder_assignments_never_deleted BEFORE DELETE ON recorder_assignments
BEGIN
	SELECT RAISE(ABORT, 'recorder assignments are never deleted');
END;

CREATE TABLE cases (
	id          INTEGER PRIMARY KEY,
	number      TEXT NOT NULL UNIQUE CHECK (number <> ''),
	kind        TEXT NOT NULL CHECK (kind IN ('administrative_penalty', 'administrative_handling',
		'administrative_inspection', 'labour_dispute_mediation')),
	title       TEXT NOT NULL,
	unit_code   TEXT NOT NULL REFERENCES units (code),
	-- Art. 20: filing, decision, service, execution, closing, archiving.
	filed_at    TEXT NOT NULL,
	decided_at  TEXT,
	served_at   TEXT,
	executed_at TEXT,
	closed_at   TEXT,
	archived_at TEXT,
	created_at  TEXT NOT NULL
) STRICT;

CREATE INDEX cases_unit_filed ON cases (unit_code, filed_at);
CREATE INDEX cases_filed ON cases (filed_at);

CREATE TRIGGER cases_never_deleted BEFORE DELETE ON cases
BEGIN
	SELECT RAISE(ABORT, 'cases are never deleted');
END;

-- A case changes only by recording a date it did not have.
CREATE TRIGGER cases_dates_only_added BEFORE UPDATE ON cases
WHEN NEW.id IS NOT OLD.id
	OR NEW.number IS NOT OLD.number
	OR NEW.kind IS NOT OLD.kind
	OR NEW.title IS NOT OLD.title
	OR NEW.unit_code IS NOT OLD.unit_code
	OR NEW.filed_at IS NOT OLD.filed_at
	OR NEW.created_at IS NOT OLD.created_at
	OR (OLD.decided_at IS NOT NULL AND NEW.decided_at IS NOT OLD.decided_at)
	OR (OLD.served_at IS NOT NULL AND NEW.served_at IS NOT OLD.served_at)
	OR (OLD.executed_at IS NOT NULL AND NEW.executed_at IS NOT OLD.executed_at)
	OR (OLD.closed_at IS NOT NULL AND NEW.closed_at IS NOT OLD.closed_at)
	OR (OLD.archived_at IS NOT NULL AND NEW.archived_at IS NOT OLD.archived_at)
BEGIN
	SELECT RAISE(ABORT, 'a case''s recorded dates are never changed (Art. 20)');
END;

CREATE TABLE case_parties (
	case_id  INTEGER NOT NULL REFERENCES cases (id),
	position INTEGER NOT NULL CHECK (position >= 0),
	role     TEXT NOT NULL CHECK (role IN ('employer', 'worker', 'other')),
	name     TEXT NOT NULL,
	PRIMARY KEY (case_id, position)
) STRICT;

CREATE TABLE activities (
	id                INTEGER PRIMARY KEY,
	case_id           INTEGER NOT NULL REFERENCES cases (id),
	type              TEXT NOT NULL CHECK (type IN ('inspection', 'interview', 'evidence_collection', 'sampling',
		'evidence_preservation', 'hearing', 'service', 'other')),
	service_method    TEXT NOT NULL CHECK (service_method IN ('', 'direct', 'post', 'leaving', 'announcement')),
	emergency         INTEGER NOT NULL CHECK (emergency IN (0, 1)),
	uncooperative     INTEGER NOT NULL CHECK (uncooperative IN (0, 1)),
	recording_ordered INTEGER NOT NULL CHECK (recording_ordered IN (0, 1)),
	started_at        TEXT NOT NULL,
	ended_at          TEXT NOT NULL CHECK (ended_at >= started_at),
	place             TEXT NOT NULL,
	note              TEXT NOT NULL,
	created_at        TEXT NOT NULL,
	CHECK ((type = 'service') = (service_method <> ''))
) STRICT;

CREATE INDEX activities_case ON activities (case_id, started_at);

CREATE TABLE activity_officers (
	activity_id INTEGER NOT NULL REFERENCES activities (id),
	officer_no  TEXT NOT NULL REFERENCES officers (officer_no),
	PRIMARY KEY (activity_id, officer_no)
) STRICT;

CREATE INDEX activity_officers_officer ON activity_officers (officer_no, activity_id);

-- The history of every link between a clip and an activity. seq numbers
-- the entries of one clip and activity from 1 without gaps; the unique
-- constraint makes two changes made at once from the same state collide
-- instead of both being kept. Only the server suggests.
CREATE TABLE clip_links (
	id          INTEGER PRIMARY KEY,
	clip_id     INTEGER NOT NULL REFERENCES clips (id),
	activity_id INTEGER NOT NULL REFERENCES activities (id),
	seq         INTEGER NOT NULL CHECK (seq >= 1),
	action      TEXT NOT NULL CHECK (action IN ('suggest', 'confirm', 'reject', 'unlink')),
	actor       TEXT NOT NULL CHECK (actor = 'system' OR length(actor) = 6),
	at          TEXT NOT NULL,
	reason      TEXT NOT NULL,
	UNIQUE (activity_id, clip_id, seq),
	CHECK ((action = 'suggest') = (actor = 'system'))
) STRICT;

CREATE INDEX clip_links_clip ON clip_links (clip_id, activity_id, seq);

CREATE TRIGGER clip_links_never_updated BEFORE UPDATE ON clip_links
BEGIN
	SELECT RAISE(ABORT, 'clip link history is never edited');
END;

CREATE TRIGGER clip_links_never_deleted BEFORE DELETE ON clip_links
BEGIN
	SELECT RAISE(ABORT, 'clip link history is never deleted');
END;
