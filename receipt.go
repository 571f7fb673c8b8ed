package evidock

import (
	"context"
	"encoding/base64"
)

// LogHashSize is the length in bytes of a node hash of the transparency log:
// SHA-256, as RFC 6962 Merkle trees use. Clips are identified by their
// BLAKE3 inside the log's records; the tree over the records stays SHA-256
// so that any RFC 6962 verifier can check it.
const LogHashSize = 32

// LogHash is a hash of the transparency log's Merkle tree: a record (leaf)
// hash, an interior node or a root. In JSON and in checkpoints it is written
// in standard base64.
type LogHash [LogHashSize]byte

// String returns h in standard base64.
func (h LogHash) String() string { return base64.StdEncoding.EncodeToString(h[:]) }

// MarshalText encodes h in standard base64.
func (h LogHash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes standard base64 of exactly 32 bytes; it returns an
// EINVALID error otherwise.
func (h *LogHash) UnmarshalText(b []byte) error {
	v, err := ParseLogHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// ParseLogHash decodes a log hash written in standard base64. It returns an
// EINVALID error naming what is wrong with s.
func ParseLogHash(s string) (LogHash, error) {
	var h LogHash
	// Strict: one hash has one spelling, so that signed text cannot be
	// varied without changing what it says.
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return h, Errorf(EINVALID, "log hash %q is not canonical base64: %v", s, err)
	}
	if len(b) != LogHashSize {
		return h, Errorf(EINVALID, "log hash %q is %d bytes, not %d", s, len(b), LogHashSize)
	}
	copy(h[:], b)
	return h, nil
}

// Receipt is the case server's signed answer to a registration: proof that a
// clip is in the registry's append-only transparency log. A docking station
// checks it, with the server's public key alone, before it clears a
// recorder; an archivist can keep it beside the footage, and anyone can
// check it offline later.
//
// The checkpoint is a signed note (golang.org/x/mod/sumdb/note) whose text
// is a C2SP checkpoint: the log's origin, the tree size and the base64 root
// hash, one per line. The record is the log's canonical text of the clip
// (see package evidock/server/translog for its format), and the inclusion
// proof is the RFC 6962 audit path from the record's hash to that root.
type Receipt struct {
	// Index is the record's position in the log, counting from 0.
	Index int64 `json:"index"`
	// Record is the log record of the clip, byte for byte as it was hashed.
	Record string `json:"record"`
	// Checkpoint is the signed note of a tree that holds the record.
	Checkpoint string `json:"checkpoint"`
	// InclusionProof is the audit path from the record's hash to the
	// checkpoint's root.
	InclusionProof []LogHash `json:"inclusion_proof"`
}

// LogRecord is one record of the transparency log, as served to auditors.
type LogRecord struct {
	Index  int64  `json:"index"`
	Record string `json:"record"` // byte for byte as it was hashed
}

// MaxLogRecords bounds how many records one request for log records returns.
const MaxLogRecords = 1000

// LogService is the registry's transparency log: every registered clip is
// appended to it, and it proves so with signed checkpoints and Merkle
// proofs that need only the log's public key to check.
type LogService interface {
	// LogCheckpoint returns the signed checkpoint of the log as it is now.
	LogCheckpoint(ctx context.Context) ([]byte, error)

	// LogReceipt returns the receipt of the clip with digest d against the
	// current checkpoint, or ENOTFOUND if the clip is not in the log.
	LogReceipt(ctx context.Context, d Digest) (*Receipt, error)

	// LogInclusionProof returns the proof that the record at index is in
	// the tree of size records. It returns EINVALID unless
	// 0 <= index < size <= the log's size.
	LogInclusionProof(ctx context.Context, index, size int64) ([]LogHash, error)

	// LogConsistencyProof returns the proof that the tree of size newSize
	// holds the tree of size oldSize as its prefix. It returns EINVALID
	// unless 0 < oldSize <= newSize <= the log's size.
	LogConsistencyProof(ctx context.Context, oldSize, newSize int64) ([]LogHash, error)

	// LogRecords returns up to count records from index start on (fewer
	// at the end of the log). It returns EINVALID for a negative start or
	// a count outside 1..MaxLogRecords.
	LogRecords(ctx context.Context, start int64, count int) ([]LogRecord, error)

	// LogVerifierKey returns the note verifier key that checks the log's
	// checkpoints: its name is the log's origin.
	LogVerifierKey(ctx context.Context) (string, error)
}
