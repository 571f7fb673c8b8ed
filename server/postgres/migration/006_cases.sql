-- 006: units, officers, recorder assignments, enforcement cases, their
-- activities, and the links between clips and activities (issue 5); the
-- same meaning as server/sqlite/migration/006_cases.sql.
--
-- What the rules ask never to be lost is only ever added to: the
-- assignment of recorders and the history of clip links, whose latest entry
-- per clip and activity is the link's state. Cases are never deleted, and
-- the dates Art. 20 has recorded are never changed once set. Triggers
-- refuse what the code never does; those that refuse every change fire per
-- statement, as for clips, so that a change matching no row and TRUNCATE
-- are refused too.

CREATE TABLE units (
	code        text PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 32),
	name        text NOT NULL CHECK (name <> ''),
	level       text NOT NULL CHECK (level IN ('bureau', 'district', 'unit')),
	parent_code text REFERENCES units (code),
	created_at  timestamptz NOT NULL DEFAULT statement_timestamp(),
	CHECK ((level = 'bureau') = (parent_code IS NULL))
);

CREATE INDEX units_parent ON units (parent_code, code);

CREATE TABLE officers (
	officer_no     text PRIMARY KEY CHECK (length(officer_no) = 6),
	certificate_no text NOT NULL UNIQUE,
	name           text NOT NULL,
	unit_code      text NOT NULL REFERENCES units (code),
	created_at     timestamptz NOT NULL DEFAULT statement_timestamp()
);

CREATE INDEX officers_unit ON officers (unit_code, officer_no);

CREATE TABLE recorder_assignments (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_serial text NOT NULL CHECK (length(device_serial) = 7),
	officer_no    text REFERENCES officers (officer_no), -- NULL: back in the store
	valid_from    timestamptz NOT NULL,
	assigned_by   text NOT NULL,
	reason        text NOT NULL,
	recorded_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
	UNIQUE (device_serial, valid_from)
);

CREATE INDEX recorder_assignments_officer ON recorder_assignments (officer_no, device_serial);

CREATE FUNCTION recorder_assignments_never_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'recorder assignments are never edited' USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'recorder assignments are never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER recorder_assignments_never_updated BEFORE UPDATE ON recorder_assignments
	FOR EACH STATEMENT EXECUTE FUNCTION recorder_assignments_never_changed();
CREATE TRIGGER recorder_assignments_never_deleted BEFORE DELETE ON recorder_assignments
	FOR EACH STATEMENT EXECUTE FUNCTION recorder_assignments_never_changed();
CREATE TRIGGER recorder_assignments_never_truncated BEFORE TRUNCATE ON recorder_assignments
	FOR EACH STATEMENT EXECUTE FUNCTION recorder_assignments_never_changed();

CREATE TABLE cases (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	number      text NOT NULL UNIQUE CHECK (number <> ''),
	kind        text NOT NULL CHECK (kind IN ('administrative_penalty', 'administrative_handling',
		'administrative_inspection', 'labour_dispute_mediation')),
	title       text NOT NULL,
	unit_code   text NOT NULL REFERENCES units (code),
	-- Art. 20: filing, decision, service, execution, closing, archiving.
	filed_at    timestamptz NOT NULL,
	decided_at  timestamptz,
	served_at   timestamptz,
	executed_at timestamptz,
	closed_at   timestamptz,
	archived_at timestamptz,
	created_at  timestamptz NOT NULL DEFAULT statement_timestamp()
);

CREATE INDEX cases_unit_filed ON cases (unit_code, filed_at);
CREATE INDEX cases_filed ON cases (filed_at);

CREATE FUNCTION cases_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'cases are never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER cases_never_deleted BEFORE DELETE ON cases
	FOR EACH STATEMENT EXECUTE FUNCTION cases_never_deleted();
CREATE TRIGGER cases_never_truncated BEFORE TRUNCATE ON cases
	FOR EACH STATEMENT EXECUTE FUNCTION cases_never_deleted();

-- A case changes only by recording a date it did not have.
CREATE FUNCTION cases_dates_only_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.id IS DISTINCT FROM OLD.id
		OR NEW.number IS DISTINCT FROM OLD.number
		OR NEW.kind IS DISTINCT FROM OLD.kind
		OR NEW.title IS DISTINCT FROM OLD.title
		OR NEW.unit_code IS DISTINCT FROM OLD.unit_code
		OR NEW.filed_at IS DISTINCT FROM OLD.filed_at
		OR NEW.created_at IS DISTINCT FROM OLD.created_at
		OR (OLD.decided_at IS NOT NULL AND NEW.decided_at IS DISTINCT FROM OLD.decided_at)
		OR (OLD.served_at IS NOT NULL AND NEW.served_at IS DISTINCT FROM OLD.served_at)
		OR (OLD.executed_at IS NOT NULL AND NEW.executed_at IS DISTINCT FROM OLD.executed_at)
		OR (OLD.closed_at IS NOT NULL AND NEW.closed_at IS DISTINCT FROM OLD.closed_at)
		OR (OLD.archived_at IS NOT NULL AND NEW.archived_at IS DISTINCT FROM OLD.archived_at)
	THEN
		RAISE EXCEPTION 'a case''s recorded dates are never changed (Art. 20)' USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END;
$$;

CREATE TRIGGER cases_dates_only_added BEFORE UPDATE ON cases
	FOR EACH ROW EXECUTE FUNCTION cases_dates_only_added();

CREATE TABLE case_parties (
	case_id  bigint NOT NULL REFERENCES cases (id),
	position integer NOT NULL CHECK (position >= 0),
	role     text NOT NULL CHECK (role IN ('employer', 'worker', 'other')),
	name     text NOT NULL,
	PRIMARY KEY (case_id, position)
);

CREATE TABLE activities (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	case_id           bigint NOT NULL REFERENCES cases (id),
	type              text NOT NULL CHECK (type IN ('inspection', 'interview', 'evidence_collection', 'sampling',
		'evidence_preservation', 'hearing', 'service', 'other')),
	service_method    text NOT NULL CHECK (service_method IN ('', 'direct', 'post', 'leaving', 'announcement')),
	emergency         boolean NOT NULL,
	uncooperative     boolean NOT NULL,
	recording_ordered boolean NOT NULL,
	started_at        timestamptz NOT NULL,
	ended_at          timestamptz NOT NULL CHECK (ended_at >= started_at),
	place             text NOT NULL,
	note              text NOT NULL,
	created_at        timestamptz NOT NULL DEFAULT statement_timestamp(),
	CHECK ((type = 'service') = (service_method <> ''))
);

CREATE INDEX activities_case ON activities (case_id, started_at);

CREATE TABLE activity_officers (
	activity_id bigint NOT NULL REFERENCES activities (id),
	officer_no  text NOT NULL REFERENCES officers (officer_no),
	PRIMARY KEY (activity_id, officer_no)
);

CREATE INDEX activity_officers_officer ON activity_officers (officer_no, activity_id);

-- The history of every link between a clip and an activity; see the
-- SQLite migration for seq and the unique constraint.
CREATE TABLE clip_links (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	clip_id     bigint NOT NULL REFERENCES clips (id),
	activity_id bigint NOT NULL REFERENCES activities (id),
	seq         integer NOT NULL CHECK (seq >= 1),
	action      text NOT NULL CHECK (action IN ('suggest', 'confirm', 'reject', 'unlink')),
	actor       text NOT NULL CHECK (actor = 'system' OR length(actor) = 6),
	at          timestamptz NOT NULL DEFAULT statement_timestamp(),
	reason      text NOT NULL,
	UNIQUE (activity_id, clip_id, seq),
	CHECK ((action = 'suggest') = (actor = 'system'))
);

CREATE INDEX clip_links_clip ON clip_links (clip_id, activity_id, seq);

CREATE FUNCTION clip_links_never_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'clip link history is never edited' USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'clip link history is never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER clip_links_never_updated BEFORE UPDATE ON clip_links
	FOR EACH STATEMENT EXECUTE FUNCTION clip_links_never_changed();
CREATE TRIGGER clip_links_never_deleted BEFORE DELETE ON clip_links
	FOR EACH STATEMENT EXECUTE FUNCTION clip_links_never_changed();
CREATE TRIGGER clip_links_never_truncated BEFORE TRUNCATE ON clip_links
	FOR EACH STATEMENT EXECUTE FUNCTION clip_links_never_changed();
