-- 011: an administrator can revoke a docking station (a stolen or retired
-- docking PC): its token is refused from then on (evidock-server station
-- revoke). revoked_at is NULL while the station is active. The same meaning
-- as sqlite/migration/011_station_revocation.sql.
--
-- A revocation must hold: once set, revoked_at is never cleared (which
-- would let a stolen PC's token back in) nor changed (which would rewrite
-- when the token stopped counting). Stations are never deleted either:
-- clips and dock reports name them (Art. 17), and a deleted station's ID
-- could be taken again by another PC.

ALTER TABLE stations ADD COLUMN revoked_at timestamptz;

-- UPDATE per row, because setting revoked_at once is the change allowed
-- (an upsert's DO UPDATE fires it too).
CREATE FUNCTION stations_revocation_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
		RAISE EXCEPTION 'a station''s revocation is never cleared or changed' USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END;
$$;

CREATE TRIGGER stations_revocation_kept BEFORE UPDATE ON stations
	FOR EACH ROW EXECUTE FUNCTION stations_revocation_kept();

-- DELETE and TRUNCATE per statement, as for clips, so that even a DELETE
-- that matches nothing is refused.
CREATE FUNCTION stations_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'stations are never deleted: revoke one instead (evidock-server station revoke)' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER stations_never_deleted BEFORE DELETE ON stations
	FOR EACH STATEMENT EXECUTE FUNCTION stations_never_deleted();

CREATE TRIGGER stations_never_truncated BEFORE TRUNCATE ON stations
	FOR EACH STATEMENT EXECUTE FUNCTION stations_never_deleted();
