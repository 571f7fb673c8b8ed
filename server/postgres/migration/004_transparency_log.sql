-- 004: the registry's transparency log (issue 5; package server/translog);
-- the same meaning as server/sqlite/migration/004_transparency_log.sql.
--
-- Every registered clip is appended to an RFC 6962 Merkle tree: its record
-- (the canonical text of the clip, with its log index) goes to log_records,
-- and the tree's stored hashes (tlog.StoredHashes, at the dense indexes of
-- tlog.StoredHashIndex) to log_hashes. The store appends a clip's entry in
-- the transaction that inserts the clip, holding a transaction-level
-- advisory lock, so that servers sharing the database append one at a time
-- and the indexes have no gaps; a clip registered before this migration is
-- appended at the server's next start (AppendMissingClips), because SQL
-- cannot compute the hashes.
--
-- Like clips, the log is only ever added to: a checkpoint the server has
-- signed covers these rows, and any change to them makes the log fail to
-- verify against it. The triggers refuse the change in the first place.

CREATE TABLE log_records (
	idx     bigint PRIMARY KEY CHECK (idx >= 0), -- the log index, from 0, without gaps
	clip_id bigint NOT NULL UNIQUE REFERENCES clips (id),
	-- The clip's digest as in clips.blake3, so that a receipt is found
	-- without trusting the clips row.
	blake3  bytea NOT NULL UNIQUE CHECK (octet_length(blake3) = 32),
	record  text NOT NULL
);

CREATE TABLE log_hashes (
	id   bigint PRIMARY KEY CHECK (id >= 0), -- tlog.StoredHashIndex
	hash bytea NOT NULL CHECK (octet_length(hash) = 32)
);

-- Per statement, as for clips, so that an UPDATE or DELETE matching nothing
-- and a TRUNCATE are refused too.
CREATE FUNCTION log_never_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'the transparency log is never edited (%)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'the transparency log is never deleted from (%)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER log_records_never_updated BEFORE UPDATE ON log_records
	FOR EACH STATEMENT EXECUTE FUNCTION log_never_changed();
CREATE TRIGGER log_records_never_deleted BEFORE DELETE ON log_records
	FOR EACH STATEMENT EXECUTE FUNCTION log_never_changed();
CREATE TRIGGER log_records_never_truncated BEFORE TRUNCATE ON log_records
	FOR EACH STATEMENT EXECUTE FUNCTION log_never_changed();

CREATE TRIGGER log_hashes_never_updated BEFORE UPDATE ON log_hashes
	FOR EACH STATEMENT EXECUTE FUNCTION log_never_changed();
CREATE TRIGGER log_hashes_never_deleted BEFORE DELETE ON log_hashes
	FOR EACH STATEMENT EXECUTE FUNCTION log_never_changed();
CREATE TRIGGER log_hashes_never_truncated BEFORE TRUNCATE ON log_hashes
	FOR EACH STATEMENT EXECUTE FUNCTION log_never_changed();
