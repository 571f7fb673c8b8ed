package s3

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"evidock"
)

// TestHeadAnswers covers the answers a real store gives only under faults
// (refused credentials, an overloaded store), from a stand-in server.
func TestHeadAnswers(t *testing.T) {
	var status int
	var seen *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.Header().Set("X-Amz-Meta-Blake3", "abc")
		w.Header().Set("Content-Length", "42")
		w.WriteHeader(status)
	}))
	defer srv.Close()
	h, err := newHeader(Config{Endpoint: srv.URL, Bucket: "footage", Region: "us-east-1", AccessKeyID: "id", SecretAccessKey: "secret"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		status int
		want   string
	}{
		{http.StatusOK, ""},
		{http.StatusNotFound, evidock.ENOTFOUND},
		{http.StatusForbidden, evidock.EFORBIDDEN},
		{http.StatusServiceUnavailable, evidock.EUNAVAILABLE},
	} {
		status = tt.status
		info, err := h.stat(context.Background(), "clips/ab/a b+c")
		if got := evidock.ErrorCode(err); got != tt.want {
			t.Errorf("status %d: error %v; want code %q", tt.status, err, tt.want)
		}
		if tt.status == http.StatusOK && (info.Size != 42 || info.Metadata["blake3"] != "abc") {
			t.Errorf("status 200: info %+v; want size 42 and blake3 abc", info)
		}
	}
	if seen.Method != http.MethodHead || seen.URL.EscapedPath() != "/footage/clips/ab/a%20b%2Bc" ||
		!strings.HasPrefix(seen.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=id/") {
		t.Errorf("request: %s %s, Authorization %q", seen.Method, seen.URL.EscapedPath(), seen.Header.Get("Authorization"))
	}
	srv.Close()
	if _, err := h.stat(context.Background(), "k"); evidock.ErrorCode(err) != evidock.EUNAVAILABLE {
		t.Errorf("store down: %v; want unavailable", err)
	}
}
