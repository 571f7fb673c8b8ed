-- 010: a clip gets its fixity schedule row when it is registered, in the
-- same transaction, rather than from a sweep over every clip at every claim
-- (which read all clips each time a checker claimed a batch). The same
-- meaning as sqlite/migration/010_fixity_schedule.sql.

INSERT INTO fixity_state (clip_id)
	SELECT c.id FROM clips c WHERE NOT EXISTS (SELECT 1 FROM fixity_state f WHERE f.clip_id = c.id);

CREATE FUNCTION clips_schedule_fixity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO fixity_state (clip_id) VALUES (NEW.id);
	RETURN NULL;
END;
$$;

CREATE TRIGGER clips_scheduled_for_fixity AFTER INSERT ON clips
	FOR EACH ROW EXECUTE FUNCTION clips_schedule_fixity();
