package evidock

import (
	"context"
	"io"
)

// ObjectKey returns the object-store key of footage with digest d. Keys derive
// from content alone, so two uploads of different bytes can never collide and
// an upload of the same bytes finds its object already there.
func ObjectKey(d Digest) string {
	h := d.String()
	return "clips/" + h[:2] + "/" + h
}

// Object metadata keys, stored as S3 user metadata (x-amz-meta-*).
const (
	MetaBLAKE3       = "blake3"
	MetaDeviceSerial = "device-serial"
	MetaOfficerNo    = "officer-no"
	MetaStartedAt    = "started-at"
	MetaFileName     = "file-name"
	MetaStationID    = "station-id"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key      string
	Size     int64
	Metadata map[string]string
}

// ObjectReader reads footage back from the object store.
type ObjectReader interface {
	// StatObject returns the object's size and metadata, or ENOTFOUND.
	StatObject(ctx context.Context, key string) (ObjectInfo, error)

	// OpenObject returns a reader of the object's bytes, or ENOTFOUND.
	OpenObject(ctx context.Context, key string) (io.ReadCloser, error)
}

// PrecomputedChecksum is implemented by an upload body that knows its
// checksums, computed while the caller read the bytes anyway, so that the
// store client sends them without reading the body an extra time. The
// store still checks the bytes against them.
type PrecomputedChecksum interface {
	// CRC32C returns the body's base64 CRC32C, or "" if not known.
	CRC32C() string
	// SHA256 returns the body's hex SHA-256, or "" if not known: a request
	// signed over plain HTTP must carry it (SigV4 payload signing).
	SHA256() string
}

// Part is one completed part of a multipart upload.
type Part struct {
	Number   int32  `json:"number"`
	Size     int64  `json:"size"`
	ETag     string `json:"etag"`
	Checksum string `json:"checksum"` // base64 CRC32C, as the store verified it
}

// ObjectStore is where footage is kept. Writes never overwrite: a put to a
// key that exists fails with ECONFLICT.
type ObjectStore interface {
	ObjectReader

	// PutObject stores size bytes from body under key with metadata in one
	// request, checksummed so that the store rejects damaged bytes.
	PutObject(ctx context.Context, key string, body io.ReadSeeker, size int64, meta map[string]string) error

	// CreateUpload starts a multipart upload and returns its ID.
	CreateUpload(ctx context.Context, key string, meta map[string]string) (uploadID string, err error)

	// UploadPart sends one part; number counts from 1.
	UploadPart(ctx context.Context, key, uploadID string, number int32, body io.ReadSeeker, size int64) (Part, error)

	// ListParts returns the parts the store holds for an upload, or ENOTFOUND
	// if the upload no longer exists.
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)

	// CompleteUpload joins parts into the object.
	CompleteUpload(ctx context.Context, key, uploadID string, parts []Part) error

	// AbortUpload discards an upload and its parts.
	AbortUpload(ctx context.Context, key, uploadID string) error

	// ListUploads returns the multipart uploads in progress under keys
	// starting with prefix, so that one begun just before a crash, whose ID
	// was never recorded, can be found and discarded.
	ListUploads(ctx context.Context, prefix string) ([]Upload, error)
}

// Upload is a multipart upload in progress.
type Upload struct {
	Key string
	ID  string
}
