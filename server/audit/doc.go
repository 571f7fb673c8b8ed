// Package audit keeps the audit log of people's actions tamper-evident: every
// event's hash covers its own content and the hash of the event before it, so
// the log is a hash chain, and the chain's head can be signed as a checkpoint
// with the registry's log key (package translog).
//
// # Why a chain, not the registry's Merkle tree
//
// The registry's transparency log is an RFC 6962 tree because a single clip's
// receipt must be checkable on its own, offline, by a docking station or a
// court: that needs inclusion proofs. Nobody needs to prove one audit event in
// isolation; the question put to the audit log is "is the whole record, from
// the first event, as it was written?", and a chain answers it by reading the
// log once, with no stored interior hashes to keep in step. What the tree
// adds, signed checkpoints, the chain has too: the signed head (Checkpoint)
// pins the chain at a size, so that a database administrator who rewrites
// events and recomputes every later hash is still caught by any checkpoint
// saved before the rewrite.
//
// # Events
//
// An event's hash is SHA-256 over its canonical text, version 1: printable
// ASCII, a header line and one line per field in exactly this order, each
// "name", one space, the value and a line feed.
//
//	evidock audit event v1
//	seq 17
//	time 2024-05-01T01:30:00.123456Z
//	actor user:zhang.wei
//	action view_clip
//	object clip:6f2c...
//	unit city/d1/t2
//	reason supervisor@city/d1
//	remote_addr 10.0.0.7:53122
//	user_agent Mozilla/5.0%20(X11)
//	outcome allowed
//	prev 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
//
// seq counts from 1 without gaps. time is UTC with six fractional digits
// (the stores keep microseconds). Text values are percent-encoded as in the
// registry's records: the bytes 0x21 to 0x7E other than '%' stand for
// themselves, every other byte is '%' and two upper-case hex digits. prev is
// the base64 hash of event seq-1, and 32 zero bytes for event 1.
//
// # Checkpoints
//
// A checkpoint is a signed note (golang.org/x/mod/sumdb/note) by the log key
// whose text is four lines: "evidock audit chain", the key's name, the number
// of events and the base64 hash of the last one. The registry's checkpoints
// have three lines, so neither can pass for the other.
//
// # Storage
//
// The stores (server/sqlite and server/postgres, migration 007) append an
// event with Link while holding the database's write lock (SQLite) or an
// advisory lock (PostgreSQL), in the transaction of the action it records
// where there is one (an access decision and its event commit together), and
// triggers refuse UPDATE and DELETE of audit_events. VerifyStore reads the
// chain back and recomputes it.
package audit
