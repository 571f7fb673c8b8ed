// Package s3 stores footage in an S3-compatible object store with
// aws-sdk-go-v2. It implements evidock.ObjectStore.
//
// The client is built from evidock's own Config alone, never from ambient AWS
// environment variables or shared config files: a docking PC must upload to
// the store its config names, whatever else is set on the machine.
package s3

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"evidock"
	"evidock/internal/tlsca"
)

var _ evidock.ObjectStore = (*Store)(nil)

// Environment variables that override the credentials in a Config, so that
// secrets need not be written into config files.
const (
	EnvAccessKeyID     = "EVIDOCK_S3_ACCESS_KEY_ID"
	EnvSecretAccessKey = "EVIDOCK_S3_SECRET_ACCESS_KEY"
)

// Config says where footage is stored and how to authenticate.
type Config struct {
	Endpoint            string `yaml:"endpoint"` // e.g. http://127.0.0.1:7070
	Region              string `yaml:"region"`
	Bucket              string `yaml:"bucket"`
	AccessKeyID         string `yaml:"access_key_id"`
	SecretAccessKeyFile string `yaml:"secret_access_key_file"`
	// SecretAccessKey is read from EVIDOCK_S3_SECRET_ACCESS_KEY or from
	// SecretAccessKeyFile, never from the config file itself.
	SecretAccessKey string `yaml:"-"`
	// CreateBucket creates the bucket, with Object Lock, at start if it is
	// missing (demo and tests; production buckets are made by the storage
	// administrator).
	CreateBucket bool `yaml:"create_bucket"`
	// RetentionDays is the COMPLIANCE retention set on every object written
	// to a bucket with Object Lock: nobody, not even the store's root, can
	// delete or overwrite footage before it ends (Art. 17).
	RetentionDays int `yaml:"retention_days"`
	// CAFile holds PEM certificates to trust for an https endpoint, besides
	// the machine's own roots: the bureau's private CA.
	CAFile string `yaml:"ca_file"`
}

// DefaultRetentionDays is ten years.
const DefaultRetentionDays = 3650

// DefaultConfig returns the settings every deployment shares.
func DefaultConfig() Config { return Config{Region: "us-east-1", RetentionDays: DefaultRetentionDays} }

// ResolveSecrets fills the credentials from the environment and the secret
// file. It returns an error naming the file that cannot be read.
func (c *Config) ResolveSecrets() error {
	if v := os.Getenv(EnvAccessKeyID); v != "" {
		c.AccessKeyID = v
	}
	if v := os.Getenv(EnvSecretAccessKey); v != "" {
		c.SecretAccessKey = v
		return nil
	}
	if c.SecretAccessKeyFile != "" {
		b, err := os.ReadFile(c.SecretAccessKeyFile)
		if err != nil {
			return fmt.Errorf("s3.secret_access_key_file: %w", err)
		}
		c.SecretAccessKey = strings.TrimSpace(string(b))
	}
	return nil
}

// Validate returns an error naming the first bad field of c (prefixed "s3.")
// and how to fix it.
func (c *Config) Validate() error {
	switch {
	case c.Endpoint == "":
		return errors.New("s3.endpoint is empty: set it to the store's URL, e.g. http://127.0.0.1:7070")
	case !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://"):
		return fmt.Errorf("s3.endpoint %q must start with http:// or https://", c.Endpoint)
	case c.Bucket == "":
		return errors.New("s3.bucket is empty: name the bucket footage is stored in")
	case c.Region == "":
		return errors.New("s3.region is empty: use us-east-1 unless the store says otherwise")
	case c.AccessKeyID == "":
		return fmt.Errorf("s3.access_key_id is empty: set it in the config or in %s", EnvAccessKeyID)
	case c.SecretAccessKey == "":
		return fmt.Errorf("s3 secret key is missing: set s3.secret_access_key_file or %s", EnvSecretAccessKey)
	case c.CAFile != "" && !strings.HasPrefix(c.Endpoint, "https://"):
		return fmt.Errorf("s3.ca_file is set, but s3.endpoint %q is not https: use https, or drop ca_file", c.Endpoint)
	case c.RetentionDays < 1:
		return fmt.Errorf("s3.retention_days %d: set at least 1 (default %d)", c.RetentionDays, DefaultRetentionDays)
	}
	return nil
}

// Store is a bucket in an S3-compatible object store.
type Store struct {
	client    *s3.Client
	head      *header // StatObject's HEAD
	bucket    string
	locked    bool          // the bucket has Object Lock enabled
	retention time.Duration // set on every write when locked
}

// Open validates cfg and returns a Store for its bucket, creating the bucket
// when cfg.CreateBucket is set. It returns EUNAVAILABLE if the store cannot
// be reached and ENOTFOUND if the bucket does not exist.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	tlsConfig, err := tlsca.Load(cfg.CAFile)
	if err != nil {
		return nil, evidock.WrapError(evidock.EINVALID, err, "s3.ca_file: %v", err)
	}
	// A transport of our own: no proxy or CA bundle from the environment.
	var transport http.RoundTripper = &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
	}
	if o.limiter != nil {
		transport = &throttledTransport{next: transport, limiter: o.limiter}
	}
	httpClient := &http.Client{Transport: transport}
	awsCfg := aws.Config{
		Region:           cfg.Region,
		Credentials:      credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		HTTPClient:       httpClient,
		RetryMaxAttempts: 5,
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	head, err := newHeader(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	s := &Store{client: client, head: head, bucket: cfg.Bucket, retention: time.Duration(cfg.RetentionDays) * 24 * time.Hour}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		err = mapError("head bucket "+s.bucket, err)
		if !cfg.CreateBucket || evidock.ErrorCode(err) != evidock.ENOTFOUND {
			return nil, err
		}
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.bucket, ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
			return nil, mapError("create bucket "+s.bucket, err)
		}
	}
	out, err := client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &s.bucket})
	switch err = mapError("object lock of "+s.bucket, err); {
	case err == nil:
		s.locked = out.ObjectLockConfiguration != nil && out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled
	case evidock.ErrorCode(err) != evidock.ENOTFOUND:
		return nil, err
	}
	return s, nil
}

// Bucket returns the name of the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// Locked reports whether the bucket has Object Lock, so that every object
// written gets COMPLIANCE retention; Retention says for how long.
func (s *Store) Locked() bool { return s.locked }

// Retention returns the COMPLIANCE retention set on new objects when Locked.
func (s *Store) Retention() time.Duration { return s.retention }

// lock returns the retention settings for a new object: COMPLIANCE until
// now plus the configured retention, or none for a bucket without Object
// Lock. A bucket's default retention is not relied on: some stores
// (versitygw) do not apply it per object.
func (s *Store) lock() (types.ObjectLockMode, *time.Time) {
	if !s.locked {
		return "", nil
	}
	until := time.Now().Add(s.retention).UTC().Truncate(time.Second)
	return types.ObjectLockModeCompliance, &until
}

// ObjectRetention returns the Object Lock mode and retain-until date of an
// object, or ENOTFOUND if it has none.
func (s *Store) ObjectRetention(ctx context.Context, key string) (string, time.Time, error) {
	out, err := s.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return "", time.Time{}, mapError("retention of "+key, err)
	}
	if out.Retention == nil {
		return "", time.Time{}, evidock.Errorf(evidock.ENOTFOUND, "s3: %s has no retention", key)
	}
	return string(out.Retention.Mode), aws.ToTime(out.Retention.RetainUntilDate), nil
}

// StatObject returns the object's size and metadata, or ENOTFOUND.
func (s *Store) StatObject(ctx context.Context, key string) (evidock.ObjectInfo, error) {
	return s.head.stat(ctx, key)
}

// OpenObject returns a reader of the object's bytes, or ENOTFOUND.
func (s *Store) OpenObject(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, mapError("get "+key, err)
	}
	return out.Body, nil
}

// OpenObjectRange returns a reader of the object's bytes from offset to the
// end (an HTTP range GET), so that playback can seek without reading what
// comes before; it returns ENOTFOUND for a missing object.
func (s *Store) OpenObjectRange(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key, Range: aws.String(fmt.Sprintf("bytes=%d-", offset))})
	if err != nil {
		return nil, mapError("get "+key, err)
	}
	return out.Body, nil
}

// PutObject stores body under key in one request with a CRC32C checksum that
// the store verifies. It returns ECONFLICT if the key exists (If-None-Match),
// and EUNVERIFIED if the store received damaged bytes.
func (s *Store) PutObject(ctx context.Context, key string, body io.ReadSeeker, size int64, meta map[string]string) error {
	mode, until := s.lock()
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		ChecksumCRC32C:            precomputed(body),
		ObjectLockMode:            mode,
		ObjectLockRetainUntilDate: until,
		Bucket:                    &s.bucket,
		Key:                       &key,
		Body:                      body,
		ContentLength:             aws.Int64(size),
		Metadata:                  meta,
		ChecksumAlgorithm:         types.ChecksumAlgorithmCrc32c,
		IfNoneMatch:               aws.String("*"),
	}, payloadHash(body)...)
	return mapError("put "+key, err)
}

// CreateUpload starts a multipart upload whose parts carry CRC32C checksums.
func (s *Store) CreateUpload(ctx context.Context, key string, meta map[string]string) (string, error) {
	mode, until := s.lock()
	out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		ObjectLockMode:            mode,
		ObjectLockRetainUntilDate: until,
		Bucket:                    &s.bucket,
		Key:                       &key,
		Metadata:                  meta,
		ChecksumAlgorithm:         types.ChecksumAlgorithmCrc32c,
	})
	if err != nil {
		return "", mapError("create upload "+key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart sends one part with its CRC32C; the store rejects a part whose
// bytes do not match it (EUNVERIFIED).
func (s *Store) UploadPart(ctx context.Context, key, uploadID string, number int32, body io.ReadSeeker, size int64) (evidock.Part, error) {
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		ChecksumCRC32C:    precomputed(body),
		Bucket:            &s.bucket,
		Key:               &key,
		UploadId:          &uploadID,
		PartNumber:        aws.Int32(number),
		Body:              body,
		ContentLength:     aws.Int64(size),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}, payloadHash(body)...)
	if err != nil {
		return evidock.Part{}, mapError(fmt.Sprintf("upload part %d of %s", number, key), err)
	}
	return evidock.Part{Number: number, Size: size, ETag: aws.ToString(out.ETag), Checksum: aws.ToString(out.ChecksumCRC32C)}, nil
}

// ListParts returns the parts the store holds for an upload, or ENOTFOUND.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]evidock.Part, error) {
	var parts []evidock.Part
	var marker *string
	for {
		out, err := s.client.ListParts(ctx, &s3.ListPartsInput{
			Bucket: &s.bucket, Key: &key, UploadId: &uploadID, PartNumberMarker: marker,
		})
		if err != nil {
			return nil, mapError("list parts of "+key, err)
		}
		for _, p := range out.Parts {
			parts = append(parts, evidock.Part{
				Number:   aws.ToInt32(p.PartNumber),
				Size:     aws.ToInt64(p.Size),
				ETag:     aws.ToString(p.ETag),
				Checksum: aws.ToString(p.ChecksumCRC32C),
			})
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil {
			return parts, nil
		}
		marker = out.NextPartNumberMarker
	}
}

// CompleteUpload joins parts into the object; it returns ECONFLICT if the key
// already holds an object.
func (s *Store) CompleteUpload(ctx context.Context, key, uploadID string, parts []evidock.Part) error {
	completed := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		completed[i] = types.CompletedPart{
			PartNumber:     aws.Int32(p.Number),
			ETag:           aws.String(p.ETag),
			ChecksumCRC32C: aws.String(p.Checksum),
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             &key,
		UploadId:        &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
		IfNoneMatch:     aws.String("*"),
	})
	return mapError("complete upload of "+key, err)
}

// AbortUpload discards an upload and its parts; an upload that is already
// gone is not an error.
func (s *Store) AbortUpload(ctx context.Context, key, uploadID string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: &uploadID})
	if err = mapError("abort upload of "+key, err); evidock.ErrorCode(err) == evidock.ENOTFOUND {
		return nil
	}
	return err
}

// ListUploads returns the multipart uploads in progress under prefix ("" for
// all of them).
func (s *Store) ListUploads(ctx context.Context, prefix string) ([]evidock.Upload, error) {
	var ups []evidock.Upload
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapError("list uploads", err)
		}
		for _, u := range out.Uploads {
			ups = append(ups, evidock.Upload{Key: aws.ToString(u.Key), ID: aws.ToString(u.UploadId)})
		}
	}
	return ups, nil
}

// precomputed returns the body's own CRC32C if it knows it, or nil for the
// SDK to compute.
func precomputed(body io.Reader) *string {
	if c, ok := body.(evidock.PrecomputedChecksum); ok && c.CRC32C() != "" {
		return aws.String(c.CRC32C())
	}
	return nil
}

// payloadHash returns the per-request option that hands the request
// signer the body's own SHA-256, if it knows it: the SDK signs the payload
// of requests over plain HTTP, and would otherwise read the whole body once
// more to hash it. Over HTTPS the signature then covers the payload too.
// The store checks the bytes against it (XAmzContentSHA256Mismatch).
func payloadHash(body io.Reader) []func(*s3.Options) {
	c, ok := body.(evidock.PrecomputedChecksum)
	if !ok || c.SHA256() == "" {
		return nil
	}
	hash := c.SHA256()
	set := middleware.FinalizeMiddlewareFunc("evidockPayloadSHA256", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		return next.HandleFinalize(v4.SetPayloadHash(ctx, hash), in)
	})
	return []func(*s3.Options){func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			// Before the signer's hashing step, which keeps a hash it finds.
			return stack.Finalize.Insert(set, "ComputePayloadHash", middleware.Before)
		})
	}}
}

// mapError turns an SDK error into a domain error with op as context.
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchUpload", "ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration":
			return evidock.WrapError(evidock.ENOTFOUND, err, "s3: %s: %s", op, api.ErrorCode())
		case "PreconditionFailed", "ConditionalRequestConflict":
			return evidock.WrapError(evidock.ECONFLICT, err, "s3: %s: object exists", op)
		case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidPart":
			return evidock.WrapError(evidock.EUNVERIFIED, err, "s3: %s: store rejected the bytes (%s)", op, api.ErrorCode())
		case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return evidock.WrapError(evidock.EFORBIDDEN, err, "s3: %s: %s (check the access key and secret)", op, api.ErrorCode())
		}
		return fmt.Errorf("s3: %s: %w", op, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("s3: %s: %w", op, err)
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return evidock.WrapError(evidock.EUNAVAILABLE, err, "s3: %s: the store's certificate is from a CA this machine does not trust: set s3.ca_file to the CA's certificate (%v)", op, err)
	}
	return evidock.WrapError(evidock.EUNAVAILABLE, err, "s3: %s: store unreachable: %v", op, err)
}
