-- 005: fixity checks and alarms (issue 5); the same meaning as
-- server/sqlite/migration/005_fixity.sql. See package server/fixity.
--
-- The clips table is never changed, so the schedule of checks is kept
-- beside it: fixity_state has one row per clip that a checker has claimed
-- (rows for new clips are added by the claim itself, so no trigger on clips
-- is needed), with the clip's last verdict and its lease, which lets
-- several servers share the work. fixity_checks is the history of every
-- check, and alarms the conditions a supervisor must see; both are only
-- added to (an alarm is only ever acknowledged, once).

CREATE TABLE fixity_checks (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	clip_id     bigint NOT NULL REFERENCES clips (id),
	checked_at  timestamptz NOT NULL,
	result      text NOT NULL CHECK (result IN ('ok', 'missing', 'changed', 'unreachable')),
	detail      text NOT NULL,
	bytes_read  bigint NOT NULL CHECK (bytes_read >= 0),
	-- The checker (host/pid/random) that made the check.
	checked_by  text NOT NULL
);

CREATE INDEX fixity_checks_clip ON fixity_checks (clip_id, checked_at);

CREATE FUNCTION fixity_checks_never_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'fixity checks are never edited' USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'fixity checks are never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER fixity_checks_never_updated BEFORE UPDATE ON fixity_checks
	FOR EACH STATEMENT EXECUTE FUNCTION fixity_checks_never_changed();

CREATE TRIGGER fixity_checks_never_deleted BEFORE DELETE ON fixity_checks
	FOR EACH STATEMENT EXECUTE FUNCTION fixity_checks_never_changed();

CREATE TRIGGER fixity_checks_never_truncated BEFORE TRUNCATE ON fixity_checks
	FOR EACH STATEMENT EXECUTE FUNCTION fixity_checks_never_changed();

CREATE TABLE fixity_state (
	clip_id         bigint PRIMARY KEY REFERENCES clips (id),
	-- The last verdict (ok, missing or changed): NULL until the first. An
	-- unreachable store gives no verdict and leaves it as it was.
	last_checked_at timestamptz,
	last_result     text CHECK (last_result IN ('ok', 'missing', 'changed', 'unreachable')),
	last_check_id   bigint REFERENCES fixity_checks (id),
	-- No checker claims the clip before lease_until: while lease_holder
	-- checks it, or, with lease_holder NULL, until the retry after an
	-- unreadable object is due. Compared with the database's clock.
	lease_holder    text,
	lease_until     timestamptz
);

-- Claims take never-checked clips first, then the oldest.
CREATE INDEX fixity_state_due ON fixity_state (last_checked_at NULLS FIRST, clip_id);

CREATE TABLE alarms (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind            text NOT NULL,
	-- What the alarm is about; for fixity alarms the clip's BLAKE3 in hex.
	subject         text NOT NULL,
	message         text NOT NULL,
	opened_at       timestamptz NOT NULL,
	acknowledged_by text,
	acknowledged_at timestamptz,
	CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL))
);

-- One open alarm per kind and subject: a clip found missing again before
-- anyone acknowledged the first alarm does not open a second.
CREATE UNIQUE INDEX alarms_one_open ON alarms (kind, subject) WHERE acknowledged_at IS NULL;
CREATE INDEX alarms_opened ON alarms (opened_at, id);

-- DELETE and TRUNCATE per statement, as for clips; UPDATE per row, because
-- acknowledging an open alarm is the one change allowed.
CREATE FUNCTION alarms_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'alarms are never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER alarms_never_deleted BEFORE DELETE ON alarms
	FOR EACH STATEMENT EXECUTE FUNCTION alarms_never_deleted();

CREATE TRIGGER alarms_never_truncated BEFORE TRUNCATE ON alarms
	FOR EACH STATEMENT EXECUTE FUNCTION alarms_never_deleted();

CREATE FUNCTION alarms_only_acknowledged() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.acknowledged_at IS NOT NULL
		OR NEW.acknowledged_at IS NULL
		OR NEW.id IS DISTINCT FROM OLD.id
		OR NEW.kind IS DISTINCT FROM OLD.kind
		OR NEW.subject IS DISTINCT FROM OLD.subject
		OR NEW.message IS DISTINCT FROM OLD.message
		OR NEW.opened_at IS DISTINCT FROM OLD.opened_at THEN
		RAISE EXCEPTION 'an alarm is never edited, only acknowledged, once' USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END;
$$;

CREATE TRIGGER alarms_only_acknowledged BEFORE UPDATE ON alarms
	FOR EACH ROW EXECUTE FUNCTION alarms_only_acknowledged();
