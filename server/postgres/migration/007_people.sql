-- 007: people and permissions (issue 5); the same meaning as
-- server/sqlite/migration/007_people.sql. Users and their roles, sessions,
-- failed logins, access requests (Art. 19) and the audit log of people's
-- actions. See evidock.Authorize (user.go), package server/auth and package
-- server/audit.
--
-- Units are path ids such as city/district-3/team-2 (see evidock.UnitWithin).
-- user_roles.unit_id refers to a unit by that id as text, without a foreign
-- key: the units table comes with migration 006, and a later migration adds
-- the key.

CREATE TABLE users (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	login         text NOT NULL UNIQUE,
	name          text NOT NULL,
	-- The 6-digit officer number of a user who records footage, else NULL.
	officer_no    text UNIQUE CHECK (officer_no IS NULL OR length(officer_no) = 6),
	-- argon2id in PHC form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
	password_hash text NOT NULL,
	disabled      boolean NOT NULL DEFAULT false,
	created_at    timestamptz NOT NULL
);

-- The audit log names users by login: a user is never deleted (only
-- disabled), and never given another login, lest an event come to name
-- someone else.
CREATE FUNCTION users_identity_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		IF NEW.id IS DISTINCT FROM OLD.id OR NEW.login IS DISTINCT FROM OLD.login OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
			RAISE EXCEPTION 'a user''s id, login and creation time are never changed' USING ERRCODE = 'restrict_violation';
		END IF;
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'users are never deleted, only disabled' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER users_identity_never_changed BEFORE UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION users_identity_kept();
CREATE TRIGGER users_never_deleted BEFORE DELETE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION users_identity_kept();
CREATE TRIGGER users_never_truncated BEFORE TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION users_identity_kept();

CREATE TABLE user_roles (
	user_id bigint NOT NULL REFERENCES users (id),
	role    text NOT NULL CHECK (role IN ('officer', 'archivist', 'supervisor', 'legal_reviewer', 'department_head', 'administrator')),
	unit_id text NOT NULL CHECK (length(unit_id) BETWEEN 1 AND 255),
	PRIMARY KEY (user_id, role, unit_id)
);

CREATE INDEX user_roles_unit ON user_roles (unit_id, role);

-- Only the SHA-256 of a session's token is kept: a copy of the database
-- opens no session.
CREATE TABLE sessions (
	token_sha256 bytea PRIMARY KEY CHECK (octet_length(token_sha256) = 32),
	user_id      bigint NOT NULL REFERENCES users (id),
	created_at   timestamptz NOT NULL,
	last_seen_at timestamptz NOT NULL,
	expires_at   timestamptz NOT NULL,
	remote_addr  text NOT NULL,
	user_agent   text NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins per key ("login:NAME", "addr:IP") in the window that began
-- at window_start: in the database, so that every server instance counts
-- the same failures.
CREATE TABLE login_failures (
	key          text PRIMARY KEY,
	failures     integer NOT NULL CHECK (failures > 0),
	window_start timestamptz NOT NULL
);

CREATE TABLE access_requests (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	requester_id     bigint NOT NULL REFERENCES users (id),
	-- Grantable actions: view_clip, download_clip, export.
	actions          text[] NOT NULL,
	-- The case asked for, for a request that names a case rather than
	-- clips; a text id without a foreign key, as for units.
	case_id          text,
	-- The unit ids the clips belonged to at the request.
	units            text[] NOT NULL,
	reason           text NOT NULL,
	duration_seconds bigint NOT NULL CHECK (duration_seconds > 0),
	state            text NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
	created_at       timestamptz NOT NULL,
	decider_id       bigint REFERENCES users (id),
	decision_reason  text,
	decided_at       timestamptz,
	valid_until      timestamptz,
	CHECK ((state = 'pending') = (decided_at IS NULL)),
	CHECK ((state = 'pending') = (decider_id IS NULL)),
	CHECK ((state = 'approved') = (valid_until IS NOT NULL)),
	-- Nobody decides their own request.
	CHECK (decider_id IS NULL OR decider_id <> requester_id)
);

CREATE INDEX access_requests_state ON access_requests (state, id);
CREATE INDEX access_requests_requester ON access_requests (requester_id, id);

CREATE TABLE access_request_clips (
	request_id bigint NOT NULL REFERENCES access_requests (id),
	clip_id    bigint NOT NULL REFERENCES clips (id),
	PRIMARY KEY (request_id, clip_id)
);

CREATE INDEX access_request_clips_clip ON access_request_clips (clip_id);

-- A request is decided once, and nothing else about it ever changes; it is
-- never deleted, nor are the clips it names.
CREATE FUNCTION access_requests_decided_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'access_requests' THEN
		IF OLD.state <> 'pending'
			OR NEW.state = 'pending'
			OR NEW.id IS DISTINCT FROM OLD.id
			OR NEW.requester_id IS DISTINCT FROM OLD.requester_id
			OR NEW.actions IS DISTINCT FROM OLD.actions
			OR NEW.case_id IS DISTINCT FROM OLD.case_id
			OR NEW.units IS DISTINCT FROM OLD.units
			OR NEW.reason IS DISTINCT FROM OLD.reason
			OR NEW.duration_seconds IS DISTINCT FROM OLD.duration_seconds
			OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
			RAISE EXCEPTION 'an access request is never edited, only decided, once' USING ERRCODE = 'restrict_violation';
		END IF;
		RETURN NEW;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'access requests are never edited' USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'access requests are never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER access_requests_decided_once BEFORE UPDATE ON access_requests
	FOR EACH ROW EXECUTE FUNCTION access_requests_decided_once();
CREATE TRIGGER access_requests_never_deleted BEFORE DELETE ON access_requests
	FOR EACH STATEMENT EXECUTE FUNCTION access_requests_decided_once();
CREATE TRIGGER access_requests_never_truncated BEFORE TRUNCATE ON access_requests
	FOR EACH STATEMENT EXECUTE FUNCTION access_requests_decided_once();
CREATE TRIGGER access_request_clips_never_updated BEFORE UPDATE ON access_request_clips
	FOR EACH STATEMENT EXECUTE FUNCTION access_requests_decided_once();
CREATE TRIGGER access_request_clips_never_deleted BEFORE DELETE ON access_request_clips
	FOR EACH STATEMENT EXECUTE FUNCTION access_requests_decided_once();
CREATE TRIGGER access_request_clips_never_truncated BEFORE TRUNCATE ON access_request_clips
	FOR EACH STATEMENT EXECUTE FUNCTION access_requests_decided_once();

-- The audit log: a hash chain (package server/audit). seq counts from 1
-- without gaps (assigned by the appender under an advisory lock, not by a
-- sequence, which would leave gaps); hash is SHA-256 of the event's
-- canonical text, which holds prev_hash, the hash of event seq-1.
CREATE TABLE audit_events (
	seq         bigint PRIMARY KEY CHECK (seq > 0),
	time        timestamptz NOT NULL,
	actor       text NOT NULL,
	action      text NOT NULL,
	object      text NOT NULL,
	unit        text NOT NULL,
	reason      text NOT NULL,
	remote_addr text NOT NULL,
	user_agent  text NOT NULL,
	outcome     text NOT NULL,
	prev_hash   bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
	hash        bytea NOT NULL CHECK (octet_length(hash) = 32)
);

CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_time ON audit_events (time, seq);
CREATE INDEX audit_events_unit ON audit_events (unit, seq);

-- Per statement, as for clips, so that an UPDATE or DELETE matching nothing
-- and a TRUNCATE are refused too.
CREATE FUNCTION audit_events_never_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'audit events are never edited' USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'audit events are never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_events_never_updated BEFORE UPDATE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION audit_events_never_changed();
CREATE TRIGGER audit_events_never_deleted BEFORE DELETE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION audit_events_never_changed();
CREATE TRIGGER audit_events_never_truncated BEFORE TRUNCATE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION audit_events_never_changed();
