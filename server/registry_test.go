package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"evidock"
	"evidock/internal/s3test"
	"evidock/s3"
	"evidock/server"
	"evidock/server/sqlite"
	"evidock/server/storetest"
)

// fixture is a registry on a real SQLite database and a real S3-compatible
// store.
type fixture struct {
	reg   *server.Registry
	store *s3.Store
	db    *sqlite.DB
	reads *countingReader
}

func newFixture(t *testing.T, verify bool) *fixture {
	t.Helper()
	store := s3test.Start(t).MustOpen(t)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "evidock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reads := &countingReader{ObjectReader: store}
	return &fixture{reg: &server.Registry{Clips: db, Objects: reads, VerifyDigest: verify}, store: store, db: db, reads: reads}
}

// put stores body under key as the agent would.
func (f *fixture) put(t *testing.T, key string, body []byte, meta map[string]string) {
	t.Helper()
	if err := f.store.PutObject(context.Background(), key, bytes.NewReader(body), int64(len(body)), meta); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// countingReader counts the calls that reach the object store.
type countingReader struct {
	evidock.ObjectReader
	stats, opens atomic.Int32
}

func (c *countingReader) StatObject(ctx context.Context, key string) (evidock.ObjectInfo, error) {
	c.stats.Add(1)
	return c.ObjectReader.StatObject(ctx, key)
}

func (c *countingReader) OpenObject(ctx context.Context, key string) (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.ObjectReader.OpenObject(ctx, key)
}

var started = time.Date(2024, 5, 1, 9, 30, 0, 0, evidock.ChinaTime)

func TestRegistryRegistersVerifiedClip(t *testing.T) {
	f := newFixture(t, true)
	body := []byte("verified footage")
	c := storetest.NewClip(body, "A123456", "100001", started, 1)
	f.put(t, c.ObjectKey, body, map[string]string{evidock.MetaBLAKE3: c.Digest.String()})

	created, err := f.reg.RegisterClip(context.Background(), c)
	if err != nil || !created {
		t.Fatalf("RegisterClip = %v, %v; want true, nil", created, err)
	}
	if f.reads.opens.Load() != 1 {
		t.Fatalf("object read back %d times; want once", f.reads.opens.Load())
	}

	// A repeat returns the clip without going back to the store.
	stats := f.reads.stats.Load()
	again := storetest.NewClip(body, "A123456", "100001", started, 1)
	created, err = f.reg.RegisterClip(context.Background(), again)
	if err != nil || created || again.ID != c.ID {
		t.Fatalf("repeat RegisterClip = %v, %v, id %d; want false, nil, id %d", created, err, again.ID, c.ID)
	}
	if f.reads.stats.Load() != stats || f.reads.opens.Load() != 1 {
		t.Fatal("a repeat registration went back to the object store")
	}
}

func TestRegistryRefusesUnverifiedClips(t *testing.T) {
	body := []byte("the footage the station claims to have uploaded")
	for _, tt := range []struct {
		name   string
		verify bool
		setup  func(t *testing.T, f *fixture, c *evidock.Clip)
		want   string // code
		msg    []string
	}{
		{
			name:  "missing object",
			setup: func(t *testing.T, f *fixture, c *evidock.Clip) {},
			want:  evidock.EUNVERIFIED, msg: []string{"is missing from the store"},
		},
		{
			name: "wrong size",
			setup: func(t *testing.T, f *fixture, c *evidock.Clip) {
				f.put(t, c.ObjectKey, body[:10], nil)
			},
			want: evidock.EUNVERIFIED, msg: []string{"holds 10 bytes", fmt.Sprintf("states %d bytes", len(body))},
		},
		{
			name:   "wrong digest",
			verify: true,
			setup: func(t *testing.T, f *fixture, c *evidock.Clip) {
				// Same length, other bytes: only hashing can tell.
				f.put(t, c.ObjectKey, bytes.ToUpper(body), nil)
			},
			want: evidock.EUNVERIFIED, msg: []string{"has blake3", "but the clip states"},
		},
		{
			name: "wrong label",
			setup: func(t *testing.T, f *fixture, c *evidock.Clip) {
				other := storetest.NewClip([]byte("other"), "A123456", "100001", started, 2)
				f.put(t, c.ObjectKey, body, map[string]string{evidock.MetaBLAKE3: other.Digest.String()})
			},
			want: evidock.EUNVERIFIED, msg: []string{"is labelled blake3"},
		},
		{
			name: "invalid clip",
			setup: func(t *testing.T, f *fixture, c *evidock.Clip) {
				c.FileName = "holiday.mp4"
			},
			want: evidock.EINVALID,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.verify)
			c := storetest.NewClip(body, "A123456", "100001", started, 1)
			tt.setup(t, f, c)
			created, err := f.reg.RegisterClip(context.Background(), c)
			if evidock.ErrorCode(err) != tt.want || created {
				t.Fatalf("RegisterClip = %v, %v; want %s", created, err, tt.want)
			}
			for _, m := range tt.msg {
				if !strings.Contains(evidock.ErrorMessage(err), m) {
					t.Errorf("message %q does not say %q", evidock.ErrorMessage(err), m)
				}
			}
			if _, total, _ := f.db.FindClips(context.Background(), evidock.ClipFilter{}); total != 0 {
				t.Fatalf("an unverified clip was stored")
			}
		})
	}
}

// TestRegistryWithoutDigestCheck shows what VerifyDigest buys: without it, bytes
// of the right length under the right key pass.
func TestRegistryWithoutDigestCheck(t *testing.T) {
	f := newFixture(t, false)
	body := []byte("unchecked")
	c := storetest.NewClip(body, "A123456", "100001", started, 1)
	f.put(t, c.ObjectKey, bytes.ToUpper(body), nil)
	if _, err := f.reg.RegisterClip(context.Background(), c); err != nil {
		t.Fatalf("RegisterClip = %v; want success without the digest check", err)
	}
	if f.reads.opens.Load() != 0 {
		t.Fatal("object was read back although VerifyDigest is off")
	}
	// Without the read-back, a repeat is not looked up first: it costs one
	// HEAD, and returns the stored clip.
	stats := f.reads.stats.Load()
	again := storetest.NewClip(body, "A123456", "100001", started, 1)
	if created, err := f.reg.RegisterClip(context.Background(), again); err != nil || created || again.ID != c.ID {
		t.Fatalf("repeat RegisterClip = %v, %v, id %d; want false, nil, id %d", created, err, again.ID, c.ID)
	}
	if got := f.reads.stats.Load() - stats; got != 1 {
		t.Fatalf("a repeat made %d HEADs; want 1", got)
	}
}

func TestValidateStation(t *testing.T) {
	for id, ok := range map[string]bool{
		"dock-01": true, "Dock_2.a": true, "1": true,
		"": false, "-x": false, ".x": false, "a b": false, "站点": false, "a/b": false,
		strings.Repeat("a", server.MaxStationIDLen):   true,
		strings.Repeat("a", server.MaxStationIDLen+1): false,
	} {
		err := server.ValidateStation(&evidock.Station{ID: id})
		if (err == nil) != ok {
			t.Errorf("ValidateStation(%q) = %v; want ok=%v", id, err, ok)
		}
	}
}

// TestReadBackIsAFixityCheck shows that a registration that read the object
// back is recorded as the clip's first fixity check, so that the fixity job
// does not read it again until its interval has passed; without the
// read-back, the new clip is the job's first target.
func TestReadBackIsAFixityCheck(t *testing.T) {
	ctx := context.Background()
	for _, verify := range []bool{true, false} {
		t.Run(fmt.Sprintf("verify %v", verify), func(t *testing.T) {
			f := newFixture(t, verify)
			f.reg.Fixity = f.db
			c := storetest.NewClip([]byte("footage read back"), "A123456", "100001", time.Date(2024, 5, 1, 9, 0, 0, 0, evidock.ChinaTime), 1)
			f.put(t, c.ObjectKey, []byte("footage read back"), nil)
			if created, err := f.reg.RegisterClip(ctx, c); err != nil || !created {
				t.Fatalf("RegisterClip = %v, %v", created, err)
			}
			due, err := f.db.ClaimClips(ctx, "job", 10, time.Hour, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if verify && len(due) != 0 {
				t.Fatalf("clips due after a verified registration: %d; want none", len(due))
			}
			if !verify && (len(due) != 1 || due[0].ClipID != c.ID) {
				t.Fatalf("clips due after a registration that only looked at the size: %v; want the new clip", due)
			}
		})
	}
}
