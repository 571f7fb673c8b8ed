package e2e_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"evidock"
	"evidock/agent"
	"evidock/firmware-bridge/sim"
)

// crashingStore is the real store, but the agent "dies" (its context is
// cancelled) as it starts sending part crashAt of any upload.
type crashingStore struct {
	evidock.ObjectStore
	crashAt int32
	crash   func()
	mu      sync.Mutex
	parts   []int32
}

func (c *crashingStore) UploadPart(ctx context.Context, key, id string, n int32, body io.ReadSeeker, size int64) (evidock.Part, error) {
	if n == c.crashAt && c.crash != nil {
		c.crash()
		return evidock.Part{}, context.Canceled
	}
	c.mu.Lock()
	c.parts = append(c.parts, n)
	c.mu.Unlock()
	return c.ObjectStore.UploadPart(ctx, key, id, n, body, size)
}

// TestUploadResumesAfterCrash stops the agent in the middle of a multipart
// upload; the restarted agent sends only the parts the store does not hold.
func TestUploadResumesAfterCrash(t *testing.T) {
	e := newEnv(t)
	recs, _ := sim.Consecutive(time.Date(2026, 11, 25, 8, 0, 0, 0, evidock.ChinaTime), 0, 1, []int64{23 << 20}, []time.Duration{time.Minute})
	e.dock("DSJ0004", sim.Volume{DeviceSerial: "DSJ0004", OfficerNo: "100234", Recordings: recs})

	crashing := &crashingStore{ObjectStore: e.store, crashAt: 3}
	e.agent.Objects = crashing
	ctx, cancel := context.WithCancel(context.Background())
	crashing.crash = cancel
	if err := e.agent.Run(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e.state.FindRecordings(context.Background(), agent.RecordingFilter{})
	if err != nil || len(got) != 1 || got[0].State != agent.StateUploading || len(got[0].Parts) != 2 || got[0].UploadID == "" {
		t.Fatalf("after crash: %+v, %v; want uploading with 2 parts recorded", got[0], err)
	}

	// Restart: parts 1 and 2 are in the store, so only 3, 4 and 5 are sent.
	crashing.crash, crashing.parts = nil, nil
	e.start()
	r := e.waitSettled(1)[0]
	if r.State != agent.StateCleared {
		t.Fatalf("after restart: %s %s", r.State, r.Error)
	}
	if want := []int32{3, 4, 5}; !equal(crashing.parts, want) {
		t.Errorf("parts sent after restart %v, want %v", crashing.parts, want)
	}
	if ups, _ := e.store.ListUploads(context.Background(), ""); len(ups) != 0 {
		t.Errorf("uploads left: %v", ups)
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
