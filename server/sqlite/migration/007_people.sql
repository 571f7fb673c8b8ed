-- 007: people and permissions (issue 5): users and their roles, sessions,
-- failed logins, access requests (Art. 19) and the audit log of people's
-- actions. See evidock.Authorize (user.go), package server/auth and package
-- server/audit.
--
-- Units are path ids such as city/district-3/team-2 (see evidock.UnitWithin).
-- user_roles.unit_id refers to a unit by that id as text, without a foreign
-- key: the units table comes with migration 006, and a later migration adds
-- the key.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	login         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	-- The 6-digit officer number of a user who records footage, else NULL.
	officer_no    TEXT UNIQUE CHECK (officer_no IS NULL OR length(officer_no) = 6),
	-- argon2id in PHC form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
	password_hash TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at    TEXT NOT NULL
) STRICT;

-- The audit log names users by login: a user is never deleted (only
-- disabled), and never given another login, lest an event come to name
-- someone else.
CREATE TRIGGER users_never_deleted BEFORE DELETE ON users
BEGIN
	SELECT RAISE(ABORT, 'users are never deleted, only disabled');
END;

CREATE TRIGGER users_identity_never_changed BEFORE UPDATE ON users
WHEN NEW.id IS NOT OLD.id OR NEW.login IS NOT OLD.login OR NEW.created_at IS NOT OLD.created_at
BEGIN
	SELECT RAISE(ABORT, 'a user''s id, login and creation time are never changed');
END;

CREATE TABLE user_roles (
	user_id INTEGER NOT NULL REFERENCES users (id),
	role    TEXT NOT NULL CHECK (role IN ('officer', 'archivist', 'supervisor', 'legal_reviewer', 'department_head', 'administrator')),
	unit_id TEXT NOT NULL CHECK (length(unit_id) BETWEEN 1 AND 255),
	PRIMARY KEY (user_id, role, unit_id)
) STRICT;

CREATE INDEX user_roles_unit ON user_roles (unit_id, role);

-- Only the SHA-256 of a session's token is kept: a copy of the database
-- opens no session.
CREATE TABLE sessions (
	token_sha256 BLOB PRIMARY KEY CHECK (length(token_sha256) = 32),
	user_id      INTEGER NOT NULL REFERENCES users (id),
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL,
	remote_addr  TEXT NOT NULL,
	user_agent   TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins per key ("login:NAME", "addr:IP") in the window that began
-- at window_start: in the database, so that every server instance counts
-- the same failures.
CREATE TABLE login_failures (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL CHECK (failures > 0),
	window_start TEXT NOT NULL
) STRICT;

CREATE TABLE access_requests (
	id               INTEGER PRIMARY KEY,
	requester_id     INTEGER NOT NULL REFERENCES users (id),
	-- Space-separated grantable actions: view_clip, download_clip, export.
	actions          TEXT NOT NULL,
	-- The case asked for, for a request that names a case rather than
	-- clips; a text id without a foreign key, as for units.
	case_id          TEXT,
	-- Space-separated unit ids the clips belonged to at the request.
	units            TEXT NOT NULL,
	reason           TEXT NOT NULL,
	duration_seconds INTEGER NOT NULL CHECK (duration_seconds > 0),
	state            TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
	created_at       TEXT NOT NULL,
	decider_id       INTEGER REFERENCES users (id),
	decision_reason  TEXT,
	decided_at       TEXT,
	valid_until      TEXT,
	CHECK ((state = 'pending') = (decided_at IS NULL)),
	CHECK ((state = 'pending') = (decider_id IS NULL)),
	CHECK ((state = 'approved') = (valid_until IS NOT NULL)),
	-- Nobody decides their own request.
	CHECK (decider_id IS NULL OR decider_id <> requester_id)
) STRICT;

CREATE INDEX access_requests_state ON access_requests (state, id);
CREATE INDEX access_requests_requester ON access_requests (requester_id, id);

CREATE TABLE access_request_clips (
	request_id INTEGER NOT NULL REFERENCES access_requests (id),
	clip_id    INTEGER NOT NULL REFERENCES clips (id),
	PRIMARY KEY (request_id, clip_id)
) STRICT;

CREATE INDEX access_request_clips_clip ON access_request_clips (clip_id);

-- A request is decided once, and nothing else about it ever changes; it is
-- never deleted, nor are the clips it names.
CREATE TRIGGER access_requests_decided_once BEFORE UPDATE ON access_requests
WHEN OLD.state <> 'pending'
	OR NEW.state = 'pending'
	OR NEW.id IS NOT OLD.id
	OR NEW.requester_id IS NOT OLD.requester_id
	OR NEW.actions IS NOT OLD.actions
	OR NEW.case_id IS NOT OLD.case_id
	OR NEW.units IS NOT OLD.units
	OR NEW.reason IS NOT OLD.reason
	OR NEW.duration_seconds IS NOT OLD.duration_seconds
	OR NEW.created_at IS NOT OLD.created_at
BEGIN
	SELECT RAISE(ABORT, 'an access request is never edited, only decided, once');
END;

CREATE TRIGGER access_requests_never_deleted BEFORE DELETE ON access_requests
BEGIN
	SELECT RAISE(ABORT, 'access requests are never deleted');
END;

CREATE TRIGGER access_request_clips_never_updated BEFORE UPDATE ON access_request_clips
BEGIN
	SELECT RAISE(ABORT, 'access requests are never edited');
END;

CREATE TRIGGER access_request_clips_never_deleted BEFORE DELETE ON access_request_clips
BEGIN
	SELECT RAISE(ABORT, 'access requests are never deleted');
END;

-- The audit log: a hash chain (package server/audit). seq counts from 1
-- without gaps; hash is SHA-256 of the event's canonical text, which holds
-- prev_hash, the hash of event seq-1.
CREATE TABLE audit_events (
	seq         INTEGER PRIMARY KEY CHECK (seq > 0),
	time        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	object      TEXT NOT NULL,
	unit        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	user_agent  TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	prev_hash   BLOB NOT NULL CHECK (length(prev_hash) = 32),
	hash        BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_time ON audit_events (time, seq);
CREATE INDEX audit_events_unit ON audit_events (unit, seq);

CREATE TRIGGER audit_events_never_updated BEFORE UPDATE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit events are never edited');
END;

CREATE TRIGGER audit_events_never_deleted BEFORE DELETE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit events are never deleted');
END;
