-- 004: the registry's transparency log (issue 5; package server/translog).
--
-- Every registered clip is appended to an RFC 6962 Merkle tree: its record
-- (the canonical text of the clip, with its log index) goes to log_records,
-- and the tree's stored hashes (tlog.StoredHashes, at the dense indexes of
-- tlog.StoredHashIndex) to log_hashes. The store appends a clip's entry in
-- the transaction that inserts the clip; a clip registered before this
-- migration is appended at the server's next start (AppendMissingClips),
-- because SQL cannot compute the hashes.
--
-- Like clips, the log is only ever added to: a checkpoint the server has
-- signed covers these rows, and any change to them makes the log fail to
-- verify against it. The triggers refuse the change in the first place.

CREATE TABLE log_records (
	idx     INTEGER PRIMARY KEY CHECK (idx >= 0), -- the log index, from 0, without gaps
	clip_id INTEGER NOT NULL UNIQUE REFERENCES clips (id),
	-- The clip's digest as in clips.blake3, so that a receipt is found
	-- without trusting the clips row.
	blake3  TEXT NOT NULL UNIQUE CHECK (length(blake3) = 64),
	record  TEXT NOT NULL
) STRICT;

CREATE TABLE log_hashes (
	id   INTEGER PRIMARY KEY CHECK (id >= 0), -- tlog.StoredHashIndex
	hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE TRIGGER log_records_never_updated BEFORE UPDATE ON log_records
BEGIN
	SELECT RAISE(ABORT, 'log records are never edited');
END;

CREATE TRIGGER log_records_never_deleted BEFORE DELETE ON log_records
BEGIN
	SELECT RAISE(ABORT, 'log records are never deleted');
END;

CREATE TRIGGER log_hashes_never_updated BEFORE UPDATE ON log_hashes
BEGIN
	SELECT RAISE(ABORT, 'log hashes are never edited');
END;

CREATE TRIGGER log_hashes_never_deleted BEFORE DELETE ON log_hashes
BEGIN
	SELECT RAISE(ABORT, 'log hashes are never deleted');
END;
