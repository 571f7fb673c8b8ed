// Package translog is the registry's transparency log: every registered clip
// is appended to an RFC 6962 Merkle tree (golang.org/x/mod/sumdb/tlog), and
// the server signs checkpoints of the tree with an Ed25519 note key
// (golang.org/x/mod/sumdb/note). A clip's receipt, its record with an
// inclusion proof to a signed checkpoint, and the log itself can then be
// checked by anyone holding the log's public verifier key and nothing else:
// a database row changed behind the server's back, a record rewritten, a
// forged checkpoint or a receipt shown for another clip all fail to verify.
//
// # Records
//
// A record is the canonical text of one registered clip, version 1. It is
// printable ASCII: a header line, then one line per field, in exactly this
// order, each "name", one space, the value, and a line feed (0x0A); nothing
// follows the last line.
//
//	evidock clip record v1
//	index 0
//	clip_id 1
//	blake3 6f2c...(64 lowercase hex digits)
//	size 17
//	object_key clips/6f/6f2c...
//	file_name A123456_100001_20240501093000_0001.MP4
//	device_serial A123456
//	officer_no 100001
//	started_at 2024-05-01T01:30:00.000000Z
//	clock_offset_ms 0
//	corrected_started_at 2024-05-01T01:30:00.000000Z
//	important false
//	seq 1
//	kind video
//	duration_ms 61500
//	station_id dock-01
//	ingested_at 2024-05-01T10:30:00.000000Z
//	registered_at 2024-05-01T10:31:02.123456Z
//
// index is the record's position in the log, from 0, so that a record
// cannot be shown at another position. Integers are decimal, with '-' for a
// negative number and no leading zeros or '+'. important is true or false.
// Times are UTC, in RFC 3339 with exactly six fractional digits: the stores
// keep microseconds, and registered_at is the store's clock. Text values
// (object_key, file_name, device_serial, officer_no, kind, station_id) are
// percent-encoded: the bytes 0x21 to 0x7E other than '%' stand for
// themselves, and every other byte (space, '%', control characters, every
// byte of a non-ASCII character) is written as '%' and two upper-case hex
// digits; an empty value leaves nothing after the space (station_id of a
// clip that came through no station). Every record is in this form and no
// other: ParseRecord refuses any text that would not encode back to the
// same bytes.
//
// The record's leaf hash is tlog.RecordHash(record), SHA-256 over 0x00 and
// the record bytes (RFC 6962); the tree's interior hashes are SHA-256 too.
// The clip's own BLAKE3 is inside the record.
//
// # Checkpoints
//
// A checkpoint is a note signed with the log's key whose text is a C2SP
// checkpoint (https://c2sp.org/tlog-checkpoint): three lines, the origin
// (the key's name, e.g. "evidock.example/registry"), the tree size in
// decimal and the root hash in standard base64. The Go checksum database's
// own header (tlog.FormatTree) is not used.
//
// # Storage
//
// A HashStore (server/sqlite and server/postgres, both from migration 004)
// keeps the records and the tlog stored hashes in append-only tables that
// refuse UPDATE and DELETE. The stores append a clip's entry (NewEntry) in
// the same transaction that inserts the clip, under the log's lock, so a
// clip is never registered without its log entry, nor the log appended out
// of order by two servers sharing one PostgreSQL; AppendMissingClips (run at
// start by Log.CatchUp) appends clips registered before the log existed.
package translog
