-- 010: a clip gets its fixity schedule row when it is registered, in the
-- same transaction, rather than from a sweep over every clip at every claim
-- (which read all clips, under the write lock, each time a checker claimed
-- a batch).

INSERT INTO fixity_state (clip_id)
	SELECT id FROM clips WHERE id NOT IN (SELECT clip_id FROM fixity_state);

CREATE TRIGGER clips_scheduled_for_fixity AFTER INSERT ON clips
BEGIN
	INSERT INTO fixity_state (clip_id) VALUES (NEW.id);
END;
