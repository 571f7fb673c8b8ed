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
-- stops otherwise, naming them (create the missing units with
-- 'evidock-server unit add' and start the server again).

CREATE FUNCTION units_place_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' THEN
		RAISE EXCEPTION 'units are never deleted: roles, officers, cases and the audit log name them'
			USING ERRCODE = 'restrict_violation';
	END IF;
	IF NEW.code IS DISTINCT FROM OLD.code OR NEW.level IS DISTINCT FROM OLD.level
		OR NEW.parent_code IS DISTINCT FROM OLD.parent_code OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
		RAISE EXCEPTION 'a unit''s code, level and parent never change: unit paths are built from them'
			USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END;
$$;

CREATE TRIGGER units_place_never_changed BEFORE UPDATE ON units
	FOR EACH ROW EXECUTE FUNCTION units_place_kept();
CREATE TRIGGER units_never_deleted BEFORE DELETE ON units
	FOR EACH STATEMENT EXECUTE FUNCTION units_place_kept();
CREATE TRIGGER units_never_truncated BEFORE TRUNCATE ON units
	FOR EACH STATEMENT EXECUTE FUNCTION units_place_kept();

ALTER TABLE user_roles ADD COLUMN unit_code text REFERENCES units (code);

WITH RECURSIVE paths (code, path) AS (
	SELECT code, code FROM units WHERE parent_code IS NULL
	UNION ALL
	SELECT u.code, p.path || '/' || u.code FROM units u JOIN paths p ON u.parent_code = p.code
)
UPDATE user_roles r SET unit_code = p.code FROM paths p WHERE p.path = r.unit_id;

DO $$
DECLARE
	bad text;
BEGIN
	SELECT string_agg(u.login || ' ' || r.role || '@' || r.unit_id, ', ' ORDER BY u.login, r.role)
		INTO bad FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.unit_code IS NULL;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'migration 008: roles held in unit paths that are not chains of units in the units table: %; create the missing units (evidock-server unit add) and start the server again', bad
			USING ERRCODE = 'foreign_key_violation';
	END IF;
END;
$$;

ALTER TABLE user_roles ALTER COLUMN unit_code SET NOT NULL;
ALTER TABLE user_roles ADD CONSTRAINT user_roles_unit_code_is_last
	CHECK (unit_id = unit_code OR right(unit_id, length(unit_code) + 1) = '/' || unit_code);

CREATE INDEX user_roles_unit_code ON user_roles (unit_code);
