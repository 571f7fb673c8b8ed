-- 012: a clip belongs to the unit its officer was in when it was
-- registered, not to the officer's unit of today; the same meaning as
-- server/sqlite/migration/012_clip_unit.sql. A transfer must not carry an
-- officer's earlier footage away from the unit that recorded it, nor hand
-- it to the new unit's supervisors (Art. 19).
--
-- unit_code is stamped by the INSERT that registers a clip, from the
-- officers table; it is NULL when the clip's officer is not in that table,
-- and such a clip belongs to no unit (only a grant opens it). Clips
-- registered before this migration are stamped with their officer's unit
-- of now, the best the registry knows: until now that is where they were
-- filed.
--
-- The stamping of those clips is an UPDATE, which clips_never_updated
-- refuses, rightly. As in 002, the trigger is disabled for that one
-- statement and enabled again, all inside the migration's transaction:
-- ALTER TABLE takes a lock that keeps every other session from writing
-- clips until the transaction ends, and the change to the trigger is never
-- seen outside it, so no other statement ever meets clips unguarded, and a
-- failure anywhere rolls the trigger back to enabled with the rest. The new
-- column is the only one the UPDATE sets; nothing a clip was registered
-- with changes (Art. 17).

ALTER TABLE clips ADD COLUMN unit_code text REFERENCES units (code);

ALTER TABLE clips DISABLE TRIGGER clips_never_updated;
UPDATE clips SET unit_code = o.unit_code FROM officers o WHERE o.officer_no = clips.officer_no;
ALTER TABLE clips ENABLE TRIGGER clips_never_updated;

-- Users list the clips of the units they reach in corrected start order,
-- then id (ClipFilter.Access): one index range per unit, already in the
-- order of the page.
CREATE INDEX clips_unit_corrected ON clips (unit_code, corrected_started_at, id);
