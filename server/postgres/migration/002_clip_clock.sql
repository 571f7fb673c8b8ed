-- 002: the recorder's clock offset, the corrected start time and the
-- officer's important mark on every clip (issue 4); the same meaning as
-- server/sqlite/migration/002_clip_clock.sql.
--
-- corrected_started_at is started_at minus clock_offset_ms: the time that
-- deadlines and the linking of clips to activities use. started_at stays as
-- the recorder wrote it. Clips registered before this migration have no
-- known offset, so theirs is 0 and their corrected time is started_at.
--
-- Filling in corrected_started_at for those clips is an UPDATE, which
-- clips_never_updated refuses, rightly. The trigger is disabled for that one
-- statement and enabled again, all inside the migration's transaction:
-- ALTER TABLE takes a lock that keeps every other session from writing
-- clips until the transaction ends, and the change to the trigger is never
-- seen outside it, so no other statement ever meets clips unguarded, and a
-- failure anywhere rolls the trigger back to enabled with the rest.

ALTER TABLE clips
	ADD COLUMN clock_offset_ms bigint NOT NULL DEFAULT 0,
	ADD COLUMN corrected_started_at timestamptz,
	ADD COLUMN important boolean NOT NULL DEFAULT false;

ALTER TABLE clips DISABLE TRIGGER clips_never_updated;
UPDATE clips SET corrected_started_at = started_at;
ALTER TABLE clips ENABLE TRIGGER clips_never_updated;

ALTER TABLE clips ALTER COLUMN corrected_started_at SET NOT NULL;

-- Supervisors ask per officer and per recorder over a time span (Art. 16,
-- 23), and deadlines run from the corrected time, so the indexes are on it;
-- nothing asks by the recorder's uncorrected time any more.
DROP INDEX clips_officer_started;
DROP INDEX clips_recorder_started;
DROP INDEX clips_started;
CREATE INDEX clips_officer_corrected ON clips (officer_no, corrected_started_at);
CREATE INDEX clips_recorder_corrected ON clips (device_serial, corrected_started_at);
CREATE INDEX clips_corrected ON clips (corrected_started_at);
