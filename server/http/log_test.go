package http_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"evidock"
	"evidock/server"
	evhttp "evidock/server/http"
	"evidock/server/storetest"
	"evidock/server/translog"
)

// newLogEnv is newEnv with the server keeping a transparency log; it
// returns the log's verifier key too.
func newLogEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := newEnv(t)
	skey, vkey := storetest.MustLogKey(t)
	srv := evhttp.NewServer(&server.Registry{Clips: e.db, Objects: e.store, VerifyDigest: true}, e.db, e.db, e.db.Ping,
		slog.New(slog.NewTextHandler(e.log, nil)))
	srv.SetLog(storetest.MustLog(t, e.db, skey))
	e.ts = httptest.NewServer(srv)
	t.Cleanup(e.ts.Close)
	e.client = evhttp.NewClient(e.ts.URL, e.token)
	return e, vkey
}

func TestRegisterClipWithReceipt(t *testing.T) {
	ctx := context.Background()
	e, vkey := newLogEnv(t)
	var sent []*evidock.Clip
	for i := 1; i <= 3; i++ {
		c := e.uploaded(t, "footage with a receipt "+string(rune('0'+i)), i)
		want := *c
		created, receipt, err := e.client.RegisterClipWithReceipt(ctx, c)
		if err != nil || !created || receipt == nil {
			t.Fatalf("RegisterClipWithReceipt = %v, %v, %v", created, receipt, err)
		}
		want.StationID = "dock-01" // the station the token says
		rec, err := translog.VerifyReceipt(vkey, receipt, &want)
		if err != nil || rec.Index != int64(i-1) || rec.Clip.ID != c.ID {
			t.Fatalf("receipt %d: %+v, %v", i, rec, err)
		}
		sent = append(sent, &want)
	}
	// A repeat (200) carries a receipt too, against the current tree.
	again := *sent[0]
	created, receipt, err := e.client.RegisterClipWithReceipt(ctx, &again)
	if err != nil || created {
		t.Fatalf("repeat = %v, %v", created, err)
	}
	if _, err := translog.VerifyReceipt(vkey, receipt, sent[0]); err != nil || !strings.Contains(receipt.Checkpoint, "\n3\n") {
		t.Fatalf("repeat's receipt: %v\n%s", err, receipt.Checkpoint)
	}
	// The plain RegisterClip still works on the same answer.
	plain := *sent[1]
	if created, err := e.client.RegisterClip(ctx, &plain); err != nil || created || plain.ID == 0 {
		t.Fatalf("RegisterClip = %v, %v", created, err)
	}
	// The raw answer: the clip's fields and "receipt" beside them.
	resp, body := e.do(t, http.MethodPost, "/api/v1/clips", e.token, strings.NewReader(clipJSON(t, sent[2])))
	var raw map[string]json.RawMessage
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &raw) != nil || raw["blake3"] == nil || raw["receipt"] == nil {
		t.Fatalf("answer %d: %s", resp.StatusCode, body)
	}
}

func TestLogRoutes(t *testing.T) {
	ctx := context.Background()
	e, vkey := newLogEnv(t)
	var clips []*evidock.Clip
	for i := 1; i <= 5; i++ {
		c := e.uploaded(t, "logged footage "+string(rune('0'+i)), i)
		if _, err := e.client.RegisterClip(ctx, c); err != nil {
			t.Fatal(err)
		}
		clips = append(clips, c)
	}

	resp, body := e.do(t, http.MethodGet, "/api/v1/log/checkpoint", e.token, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("checkpoint: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	cp, err := translog.OpenCheckpoint(vkey, body)
	if err != nil || cp.Size != 5 {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	if got, err := e.client.LogVerifierKey(ctx); err != nil || got != vkey {
		t.Fatalf("LogVerifierKey = %q, %v; want %q", got, err, vkey)
	}

	records, err := e.client.LogRecords(ctx, 0, evidock.MaxLogRecords)
	if err != nil || len(records) != 5 {
		t.Fatalf("LogRecords = %v, %v", records, err)
	}
	var tree translog.Tree
	for _, r := range records {
		tree.Append([]byte(r.Record))
	}
	if root, _ := tree.Root(5); root != cp.Root {
		t.Fatalf("records give root %s; checkpoint says %s", root, cp.Root)
	}
	if page, err := e.client.LogRecords(ctx, 3, 10); err != nil || len(page) != 2 || page[0].Index != 3 {
		t.Fatalf("LogRecords(3, 10) = %v, %v", page, err)
	}
	for i := int64(0); i < 5; i++ {
		proof, err := e.client.LogInclusionProof(ctx, i, 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := translog.VerifyInclusion(cp, i, []byte(records[i].Record), proof); err != nil {
			t.Fatalf("inclusion of %d: %v", i, err)
		}
	}
	root2, _ := tree.Root(2)
	proof, err := e.client.LogConsistencyProof(ctx, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := translog.CheckConsistency(translog.Checkpoint{Origin: cp.Origin, Size: 2, Root: root2}, cp, proof); err != nil {
		t.Fatalf("consistency 2 to 5: %v", err)
	}
	r, err := e.client.LogReceipt(ctx, clips[3].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := translog.VerifyReceipt(vkey, r, clips[3]); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		path string
		code string
	}{
		{"/api/v1/log/proof/inclusion?index=5&size=5", evidock.EINVALID},
		{"/api/v1/log/proof/inclusion?index=0", evidock.EINVALID},
		{"/api/v1/log/proof/inclusion?index=-1&size=5", evidock.EINVALID},
		{"/api/v1/log/proof/inclusion?index=0&size=5&extra=1", evidock.EINVALID},
		{"/api/v1/log/proof/inclusion?index=0&index=1&size=5", evidock.EINVALID},
		{"/api/v1/log/proof/consistency?old=0&new=5", evidock.EINVALID},
		{"/api/v1/log/proof/consistency?old=3&new=9", evidock.EINVALID},
		{"/api/v1/log/records?count=0", evidock.EINVALID},
		{"/api/v1/log/records?count=1001", evidock.EINVALID},
		{"/api/v1/log/records?start=x", evidock.EINVALID},
		{"/api/v1/log/checkpoint?size=3", evidock.EINVALID},
		{"/api/v1/log/receipt/nothex", evidock.EINVALID},
		{"/api/v1/log/receipt/" + strings.Repeat("ab", 32), evidock.ENOTFOUND},
	} {
		resp, body := e.do(t, http.MethodGet, tt.path, e.token, nil)
		if code, _ := apiError(t, body); code != tt.code || resp.StatusCode != evhttp.StatusOf(tt.code) {
			t.Errorf("GET %s = %d %s; want %s", tt.path, resp.StatusCode, body, tt.code)
		}
	}
	// Station tokens, as for the other reads.
	if resp, _ := e.do(t, http.MethodGet, "/api/v1/log/checkpoint", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("checkpoint without a token: %d; want 401", resp.StatusCode)
	}
}

func TestLogRoutesWithoutLog(t *testing.T) {
	e := newEnv(t)
	if _, err := e.client.LogCheckpoint(context.Background()); evidock.ErrorCode(err) != evidock.ENOTIMPLEMENTED {
		t.Fatalf("LogCheckpoint of a server without a log = %v; want ENOTIMPLEMENTED", err)
	}
	c := e.uploaded(t, "no log", 1)
	created, receipt, err := e.client.RegisterClipWithReceipt(context.Background(), c)
	if err != nil || !created || receipt != nil {
		t.Fatalf("RegisterClipWithReceipt = %v, %v, %v; want a registration without a receipt", created, receipt, err)
	}
	if _, err := translog.VerifyReceipt("x+00000000+AQ==", receipt, c); evidock.ErrorCode(err) != evidock.EUNVERIFIED {
		t.Fatalf("VerifyReceipt(nil) = %v; want EUNVERIFIED", err)
	}
}
