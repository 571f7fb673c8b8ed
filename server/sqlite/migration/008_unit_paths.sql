-- 008: unit identities are one thing (issue 5). A unit path, as roles are
-- held in (city/d1/t2), is the chain of unit codes from the bureau down,
-- built from units.parent_code; nothing else makes one.
--
-- * A role names a real unit: user_roles gains unit_code, the last segment
--   of its path, with a foreign key to units; the store checks, when it
--   writes a role, that the path is a chain of units each the parent of the
--   next (evidock.ValidateUnitChain).
-- * A unit's code, level and parent never change, and units are never
--   deleted: paths stored in roles, access requests and audit events, and
--   cached by servers, must keep meaning the unit they meant. A unit that
--   moves to another district is a new unit.
--
-- Roles made before 008 must already name a chain of units: the migration
-- stops otherwise (create the missing units with 'evidock-server unit add'
-- and start the server again).

CREATE TRIGGER units_never_deleted BEFORE DELETE ON units
BEGIN
	SELECT RAISE(ABORT, 'units are never deleted: roles, officers, cases and the audit log name them');
END;

CREATE TRIGGER units_place_never_changed BEFORE UPDATE ON units
WHEN NEW.code IS NOT OLD.code OR NEW.level IS NOT OLD.level OR NEW.parent_code IS NOT OLD.parent_code
	OR NEW.created_at IS NOT OLD.created_at
BEGIN
	SELECT RAISE(ABORT, 'a unit''s code, level and parent never change: unit paths are built from them');
END;

CREATE TABLE user_roles_008 (
	user_id   INTEGER NOT NULL REFERENCES users (id),
	role      TEXT NOT NULL CHECK (role IN ('officer', 'archivist', 'supervisor', 'legal_reviewer', 'department_head', 'administrator')),
	-- The unit's path (bureau/district/unit codes), as Authorize compares
	-- them, and the unit itself: the path's last segment.
	unit_id   TEXT NOT NULL CHECK (length(unit_id) BETWEEN 1 AND 255),
	unit_code TEXT NOT NULL REFERENCES units (code),
	PRIMARY KEY (user_id, role, unit_id),
	CHECK (unit_id = unit_code OR substr(unit_id, -length(unit_code) - 1) = '/' || unit_code)
) STRICT;

-- SQLite cannot name the row at fault in a message; the migration stops
-- with this one instead of a bare NOT NULL failure.
CREATE TRIGGER user_roles_008_real_units BEFORE INSERT ON user_roles_008
WHEN NEW.unit_code IS NULL
BEGIN
	SELECT RAISE(ABORT, 'migration 008: a user''s role is held in a unit path that is not a chain of units in the units table: create the missing units (evidock-server unit add) and start the server again');
END;

WITH RECURSIVE paths (code, path) AS (
	SELECT code, code FROM units WHERE parent_code IS NULL
	UNION ALL
	SELECT u.code, p.path || '/' || u.code FROM units u JOIN paths p ON u.parent_code = p.code
)
INSERT INTO user_roles_008 (user_id, role, unit_id, unit_code)
SELECT r.user_id, r.role, r.unit_id, p.code FROM user_roles r LEFT JOIN paths p ON p.path = r.unit_id;

DROP TRIGGER user_roles_008_real_units;
DROP TABLE user_roles;
ALTER TABLE user_roles_008 RENAME TO user_roles;

CREATE INDEX user_roles_unit ON user_roles (unit_id, role);
CREATE INDEX user_roles_unit_code ON user_roles (unit_code);
