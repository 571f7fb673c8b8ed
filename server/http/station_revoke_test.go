package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"evidock"
)

// TestRevokedStation shows that once its station is revoked, a docking PC's
// registration is refused with 401 saying that the token was revoked, when,
// and what to do, both to a raw request and through the agent's client;
// nothing is registered, and the clip registered before stays.
func TestRevokedStation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	before := e.uploaded(t, "registered before the theft", 1)
	if _, err := e.client.RegisterClip(ctx, before); err != nil {
		t.Fatal(err)
	}
	at, err := e.db.RevokeStation(ctx, "dock-01")
	if err != nil {
		t.Fatal(err)
	}
	when := at.In(evidock.ChinaTime).Format(time.RFC3339)

	c := e.uploaded(t, "footage from a stolen dock", 2)
	resp, b := e.do(t, "POST", "/api/v1/clips", e.token, strings.NewReader(clipJSON(t, c)))
	code, msg := apiError(t, b)
	if resp.StatusCode != http.StatusUnauthorized || code != evidock.EUNAUTHORIZED {
		t.Fatalf("POST from a revoked station = %s %s; want 401", resp.Status, b)
	}
	for _, want := range []string{"dock-01", "revoked", when, "ask the administrator for a new station: evidock-server station add"} {
		if !strings.Contains(msg, want) {
			t.Errorf("401 message %q does not say %q", msg, want)
		}
	}
	if strings.Contains(string(b), e.token) || strings.Contains(e.log.String(), e.token) {
		t.Error("the token reached the answer or the log")
	}

	// The agent's client reads the same code and words.
	_, err = e.client.RegisterClip(ctx, c)
	if evidock.ErrorCode(err) != evidock.EUNAUTHORIZED || !strings.Contains(evidock.ErrorMessage(err), when) {
		t.Fatalf("client RegisterClip from a revoked station = %v; want EUNAUTHORIZED naming %s", err, when)
	}

	if _, total, _ := e.db.FindClips(ctx, evidock.ClipFilter{}); total != 1 {
		t.Fatalf("%d clips stored; want the one registered before the revocation", total)
	}
	if got, err := e.db.FindClipByDigest(ctx, before.Digest); err != nil || got.StationID != "dock-01" {
		t.Fatalf("clip registered before the revocation = %+v, %v; want it kept, from dock-01", got, err)
	}
}
