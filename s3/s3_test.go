package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/s3"

	"golang.org/x/time/rate"
)

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

// TestStore runs the object store's operations against versitygw over
// plain HTTP and over https (a certificate of a private CA, trusted through
// s3.ca_file).
func TestStore(t *testing.T) {
	t.Run("http", func(t *testing.T) { testStore(t, s3test.Start(t)) })
	t.Run("https", func(t *testing.T) { testStore(t, s3test.StartTLS(t)) })
}

func testStore(t *testing.T, srv *s3test.Server) {
	store := srv.MustOpen(t)
	ctx := context.Background()

	t.Run("PutStatOpen", func(t *testing.T) {
		body := randomBytes(1<<20, 1)
		d, _, _ := evidock.DigestOf(bytes.NewReader(body))
		key := evidock.ObjectKey(d)
		meta := map[string]string{evidock.MetaBLAKE3: d.String()}
		if err := store.PutObject(ctx, key, bytes.NewReader(body), int64(len(body)), meta); err != nil {
			t.Fatal(err)
		}
		info, err := store.StatObject(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(body)) || info.Metadata[evidock.MetaBLAKE3] != d.String() {
			t.Fatalf("stat = %+v", info)
		}
		rc, err := store.OpenObject(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, body) {
			t.Fatal("bytes read back differ")
		}
		// Never overwrite: a second put to the key fails with ECONFLICT.
		err = store.PutObject(ctx, key, bytes.NewReader([]byte("other")), 5, nil)
		if evidock.ErrorCode(err) != evidock.ECONFLICT {
			t.Fatalf("overwrite: got %v, want conflict", err)
		}
	})

	t.Run("StatOddKeys", func(t *testing.T) {
		// Keys the registry never makes, but a store must still sign and
		// escape right.
		for _, key := range []string{"odd/a b+c=d", "odd/录像 1.mp4", "odd/~x_y-z.(1)"} {
			if err := store.PutObject(ctx, key, bytes.NewReader([]byte(key)), int64(len(key)), map[string]string{"Officer-No": "100234"}); err != nil {
				t.Fatalf("put %q: %v", key, err)
			}
			info, err := store.StatObject(ctx, key)
			if err != nil || info.Size != int64(len(key)) || info.Metadata["officer-no"] != "100234" {
				t.Fatalf("stat %q = %+v, %v", key, info, err)
			}
		}
	})

	t.Run("StatMissing", func(t *testing.T) {
		_, err := store.StatObject(ctx, "clips/00/missing")
		if evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("got %v, want not_found", err)
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		const partSize = 5 << 20
		body := randomBytes(2*partSize+123, 2)
		key := "clips/mp/test"
		id, err := store.CreateUpload(ctx, key, map[string]string{"k": "v"})
		if err != nil {
			t.Fatal(err)
		}
		var parts []evidock.Part
		for i, off := int32(1), 0; off < len(body); i, off = i+1, off+partSize {
			end := min(off+partSize, len(body))
			p, err := store.UploadPart(ctx, key, id, i, bytes.NewReader(body[off:end]), int64(end-off))
			if err != nil {
				t.Fatal(err)
			}
			if p.Checksum == "" {
				t.Fatal("part has no checksum")
			}
			parts = append(parts, p)
		}
		listed, err := store.ListParts(ctx, key, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != len(parts) || listed[1].Checksum != parts[1].Checksum || listed[2].Size != 123 {
			t.Fatalf("listed parts %+v, uploaded %+v", listed, parts)
		}
		if ups, _ := store.ListUploads(ctx, ""); len(ups) != 1 {
			t.Fatalf("uploads in progress = %v", ups)
		}
		if err := store.CompleteUpload(ctx, key, id, listed); err != nil {
			t.Fatal(err)
		}
		rc, err := store.OpenObject(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, body) {
			t.Fatal("multipart bytes differ")
		}
		if ups, _ := store.ListUploads(ctx, ""); len(ups) != 0 {
			t.Fatalf("uploads left = %v", ups)
		}
	})

	t.Run("AbortAndListMissing", func(t *testing.T) {
		id, err := store.CreateUpload(ctx, "clips/mp/abort", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.AbortUpload(ctx, "clips/mp/abort", id); err != nil {
			t.Fatal(err)
		}
		if _, err := store.ListParts(ctx, "clips/mp/abort", id); evidock.ErrorCode(err) != evidock.ENOTFOUND {
			t.Fatalf("list parts of aborted upload: %v", err)
		}
	})

	t.Run("WrongSecret", func(t *testing.T) {
		cfg := srv.Config()
		cfg.SecretAccessKey = "wrong"
		_, err := s3.Open(ctx, cfg)
		if evidock.ErrorCode(err) != evidock.EFORBIDDEN {
			t.Fatalf("got %v, want forbidden", err)
		}
	})

	t.Run("Unreachable", func(t *testing.T) {
		cfg := srv.Config()
		cfg.Endpoint = strings.Split(cfg.Endpoint, "//")[0] + "//127.0.0.1:1" // nothing listens on port 1
		_, err := s3.Open(ctx, cfg)
		if evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
			t.Fatalf("got %v, want unavailable", err)
		}
	})
}

// TestStoreTLS checks what is particular to https: a wrong checksum is
// still refused (the signature is not all that guards the bytes), and a
// store whose CA is not trusted fails to open with a message that says
// which setting to use.
func TestStoreTLS(t *testing.T) {
	srv := s3test.StartTLS(t)
	store := srv.MustOpen(t)
	ctx := context.Background()
	body := randomBytes(4096, 3)
	if err := store.PutObject(ctx, "clips/bad/crc", wrongCRC{bytes.NewReader(body)}, int64(len(body)), nil); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
		t.Fatalf("put with a wrong CRC32C over https: %v, want unverified", err)
	}

	cfg := srv.Config()
	cfg.CAFile = ""
	if _, err := s3.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "set s3.ca_file") {
		t.Errorf("open without the CA: %v; want an error that says to set s3.ca_file", err)
	} else {
		t.Log(err)
	}
	cfg.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := s3.Open(ctx, cfg); evidock.ErrorCode(err) != evidock.EINVALID || !strings.Contains(err.Error(), "s3.ca_file") {
		t.Errorf("open with a missing CA file: %v; want EINVALID naming s3.ca_file", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := s3.Config{Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s", RetentionDays: 1}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*s3.Config){
		"s3.endpoint":                  func(c *s3.Config) { c.Endpoint = "" },
		"http://":                      func(c *s3.Config) { c.Endpoint = "127.0.0.1:7070" },
		"s3.bucket":                    func(c *s3.Config) { c.Bucket = "" },
		"s3.access_key_id":             func(c *s3.Config) { c.AccessKeyID = "" },
		"EVIDOCK_S3_SECRET_ACCESS_KEY": func(c *s3.Config) { c.SecretAccessKey = "" },
		"s3.ca_file":                   func(c *s3.Config) { c.CAFile = "/etc/evidock/ca.pem" }, // with an http endpoint
	} {
		c := good
		mut(&c)
		err := c.Validate()
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(name)) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// TestObjectLock checks that a bucket with Object Lock (as CreateBucket
// makes it) gets COMPLIANCE retention on every object, single or multipart.
func TestObjectLock(t *testing.T) {
	srv := s3test.Start(t)
	store := srv.MustOpen(t)
	if !store.Locked() {
		t.Fatal("bucket created by Open has no Object Lock")
	}
	ctx := context.Background()
	body := randomBytes(1000, 7)
	must(t, store.PutObject(ctx, "clips/lock/single", bytes.NewReader(body), int64(len(body)), nil))
	id, err := store.CreateUpload(ctx, "clips/lock/multi", nil)
	must(t, err)
	p, err := store.UploadPart(ctx, "clips/lock/multi", id, 1, bytes.NewReader(body), int64(len(body)))
	must(t, err)
	must(t, store.CompleteUpload(ctx, "clips/lock/multi", id, []evidock.Part{p}))
	for _, key := range []string{"clips/lock/single", "clips/lock/multi"} {
		mode, until, err := store.ObjectRetention(ctx, key)
		if err != nil || mode != "COMPLIANCE" || time.Until(until) < store.Retention()-time.Hour {
			t.Errorf("%s: retention %q until %v, %v; want COMPLIANCE for %v", key, mode, until, err, store.Retention())
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUploadLimiter checks that uploads keep to the limiter's pace.
func TestUploadLimiter(t *testing.T) {
	srv := s3test.Start(t)
	limiter := rate.NewLimiter(rate.Limit(4<<20), 256<<10) // 4 MiB/s
	store, err := s3.Open(context.Background(), srv.Config(), s3.WithUploadLimiter(limiter))
	must(t, err)
	body := randomBytes(2<<20, 9)
	start := time.Now()
	must(t, store.PutObject(context.Background(), "clips/slow/one", bytes.NewReader(body), int64(len(body)), nil))
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("2 MiB at 4 MiB/s took %v, want about 0.5 s", took)
	}
	limiter.SetLimit(rate.Inf)
	start = time.Now()
	must(t, store.PutObject(context.Background(), "clips/slow/two", bytes.NewReader(body), int64(len(body)), nil))
	if took := time.Since(start); took > 400*time.Millisecond {
		t.Errorf("unlimited 2 MiB took %v", took)
	}
}

// wrongCRC is a body that claims a CRC32C its bytes do not have.
type wrongCRC struct{ *bytes.Reader }

func (wrongCRC) CRC32C() string { return "AAAAAA==" }
func (wrongCRC) SHA256() string { return "" }

// TestPrecomputedChecksumChecked sends a body whose stated CRC32C is wrong:
// the store must refuse it, so bytes damaged after hashing never land.
func TestPrecomputedChecksumChecked(t *testing.T) {
	srv := s3test.Start(t)
	store := srv.MustOpen(t)
	body := randomBytes(4096, 11)
	err := store.PutObject(context.Background(), "clips/bad/crc", wrongCRC{bytes.NewReader(body)}, int64(len(body)), nil)
	if evidock.ErrorCode(err) != evidock.EUNVERIFIED {
		t.Fatalf("put with a wrong CRC32C: %v, want unverified", err)
	}
	if _, err := store.StatObject(context.Background(), "clips/bad/crc"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("object stored despite a wrong checksum: %v", err)
	}
}

// knownSums is a body that states its checksums and counts the bytes read
// from it; it offers Read and Seek only, so every byte is counted.
type knownSums struct {
	r        *bytes.Reader
	crc, sha string
	read     *int64
}

func (k knownSums) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	*k.read += int64(n)
	return n, err
}
func (k knownSums) Seek(off int64, whence int) (int64, error) { return k.r.Seek(off, whence) }
func (k knownSums) CRC32C() string                            { return k.crc }
func (k knownSums) SHA256() string                            { return k.sha }

// TestPrecomputedPayloadHash sends bodies that state their SHA-256: the
// request is signed with it without the client reading the body to hash
// it (the body is read once, to send it), and a wrong one is refused by the
// store, so the hash really is what the signature covers.
func TestPrecomputedPayloadHash(t *testing.T) {
	srv := s3test.Start(t)
	store := srv.MustOpen(t)
	ctx := context.Background()
	body := randomBytes(1<<20, 12)
	crc := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))
	crcB64 := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	sum := sha256.Sum256(body)

	var read int64
	err := store.PutObject(ctx, "clips/sha/right", knownSums{bytes.NewReader(body), crcB64, hex.EncodeToString(sum[:]), &read}, int64(len(body)), nil)
	if err != nil {
		t.Fatalf("put with the right SHA-256: %v", err)
	}
	if read != int64(len(body)) {
		t.Errorf("body read %d bytes for %d: the client hashed it again", read, len(body))
	}
	read = 0
	if err := store.PutObject(ctx, "clips/sha/unknown", knownSums{bytes.NewReader(body), crcB64, "", &read}, int64(len(body)), nil); err != nil {
		t.Fatalf("put without a SHA-256: %v", err)
	}
	if read != 2*int64(len(body)) {
		t.Errorf("without a stated SHA-256 the body was read %d bytes for %d; want twice (hash, then send), or this test shows nothing", read, len(body))
	}

	wrong := sha256.Sum256([]byte("other bytes"))
	err = store.PutObject(ctx, "clips/sha/wrong", knownSums{bytes.NewReader(body), crcB64, hex.EncodeToString(wrong[:]), new(int64)}, int64(len(body)), nil)
	if evidock.ErrorCode(err) != evidock.EUNVERIFIED {
		t.Fatalf("put with a wrong SHA-256: %v, want unverified", err)
	}
	if _, err := store.StatObject(ctx, "clips/sha/wrong"); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("object stored despite a wrong SHA-256: %v", err)
	}
}

func TestOpenObjectRange(t *testing.T) {
	srv := s3test.Start(t)
	store := srv.MustOpen(t)
	ctx := context.Background()
	body := randomBytes(100000, 13)
	must(t, store.PutObject(ctx, "clips/range/one", bytes.NewReader(body), int64(len(body)), nil))
	rc, err := store.OpenObjectRange(ctx, "clips/range/one", 99000)
	must(t, err)
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body[99000:]) {
		t.Fatalf("range read %d bytes, want the last 1000", len(got))
	}
	if _, err := store.OpenObjectRange(ctx, "clips/range/none", 0); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("missing object: %v", err)
	}
}
