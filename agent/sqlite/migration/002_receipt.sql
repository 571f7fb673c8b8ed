-- The case server's answer to each registration, kept as received.
ALTER TABLE recordings ADD COLUMN receipt TEXT NOT NULL DEFAULT '';
