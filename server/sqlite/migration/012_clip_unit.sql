-- 012: a clip belongs to the unit its officer was in when it was
-- registered, not to the officer's unit of today: a transfer must not carry
-- an officer's earlier footage away from the unit that recorded it, nor
-- hand it to the new unit's supervisors (Art. 19).
--
-- unit_code is stamped by the INSERT that registers a clip, from the
-- officers table; it is NULL when the clip's officer is not in that table,
-- and such a clip belongs to no unit (only a grant opens it). Clips
-- registered before this migration are stamped with their officer's unit
-- of now, the best the registry knows: until now that is where they were
-- filed.
--
-- The stamping of those clips is an UPDATE, which clips_never_updated
-- refuses, rightly. So the trigger is dropped for that one statement and
-- created again, exactly as 002 made it, in the migration's one
-- transaction: no other connection can write clips while it holds the
-- write lock, so none ever meets clips unguarded, and a failure anywhere
-- rolls the drop back with the rest. The new column is the only one the
-- UPDATE sets; nothing a clip was registered with changes (Art. 17).

ALTER TABLE clips ADD COLUMN unit_code TEXT REFERENCES units (code);

DROP TRIGGER clips_never_updated;

UPDATE clips SET unit_code = (SELECT o.unit_code FROM officers o WHERE o.officer_no = clips.officer_no);

-- Art. 17: original footage is never cut, edited, deleted or destroyed. The
-- registry is its record, so the database itself refuses to change a clip,
-- whatever code or person issues the statement. (As in 001.)
CREATE TRIGGER clips_never_updated BEFORE UPDATE ON clips
BEGIN
	SELECT RAISE(ABORT, 'clips are never edited (Art. 17)');
END;

-- Users list the clips of the units they reach in corrected start order
-- (ClipFilter.Access), as supervisors list an officer's: the same order as
-- clips_officer_corrected (the rowid, id, ends every SQLite index).
CREATE INDEX clips_unit_corrected ON clips (unit_code, corrected_started_at);
