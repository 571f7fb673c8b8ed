-- 011: an administrator can revoke a docking station (a stolen or retired
-- docking PC): its token is refused from then on (evidock-server station
-- revoke). revoked_at is NULL while the station is active.
--
-- A revocation must hold: once set, revoked_at is never cleared (which
-- would let a stolen PC's token back in) nor changed (which would rewrite
-- when the token stopped counting). Stations are never deleted either:
-- clips and dock reports name them (Art. 17), and a deleted station's ID
-- could be taken again by another PC.

ALTER TABLE stations ADD COLUMN revoked_at TEXT;

CREATE TRIGGER stations_revocation_kept BEFORE UPDATE OF revoked_at ON stations
WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at
BEGIN
	SELECT RAISE(ABORT, 'a station''s revocation is never cleared or changed');
END;

-- With recursive_triggers on (sqlite.Open sets it), this fires for the
-- rows an INSERT OR REPLACE would remove as well.
CREATE TRIGGER stations_never_deleted BEFORE DELETE ON stations
BEGIN
	SELECT RAISE(ABORT, 'stations are never deleted: revoke one instead (evidock-server station revoke)');
END;
