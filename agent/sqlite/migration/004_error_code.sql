-- The code of each recording's error note (agent.NoteCode), so that the dock
-- screen can say it in the officer's language; '' for notes written before.
ALTER TABLE recordings ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
