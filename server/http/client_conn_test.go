package http_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"evidock"
	"evidock/server"
	evhttp "evidock/server/http"
)

// TestClientReusesConnections registers clips one after another and checks
// they all went over one connection: a client that leaves the end of an
// answer unread opens a new connection for every request.
func TestClientReusesConnections(t *testing.T) {
	e := newEnv(t)
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(evhttp.NewServer(&server.Registry{Clips: e.db, Objects: e.store}, e.db, e.db, e.db.Ping, slog.New(slog.DiscardHandler)))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	client := evhttp.NewClient(ts.URL, e.token)
	ctx := context.Background()
	const n = 10
	for i := range n {
		c := e.uploaded(t, "reuse "+string(rune('a'+i)), i+1)
		if created, err := client.RegisterClip(ctx, c); err != nil || !created {
			t.Fatalf("register %d: created %v, %v", i, created, err)
		}
		if _, err := client.FindClipByDigest(ctx, c.Digest); err != nil {
			t.Fatalf("find %d: %v", i, err)
		}
	}
	// An error answer is read to its end too.
	if _, err := client.FindClipByDigest(ctx, evidock.Digest{1}); evidock.ErrorCode(err) != evidock.ENOTFOUND {
		t.Fatalf("find a missing clip: %v; want ENOTFOUND", err)
	}
	if _, _, err := client.FindClips(ctx, evidock.ClipFilter{}); err != nil {
		t.Fatal(err)
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("%d requests one after another opened %d connections; want 1", 2*n+2, got)
	}
}
