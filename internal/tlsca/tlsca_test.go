package tlsca

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad checks that a client trusts a server whose CA is in the file,
// and only with it.
func TestLoad(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	get := func(file string) error {
		cfg, err := Load(file)
		if err != nil {
			t.Fatalf("Load(%q): %v", file, err)
		}
		resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(ca); err != nil {
		t.Errorf("with the CA file: %v", err)
	}
	if err := get(""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA file: %v; want a certificate error", err)
	}

	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{garbage, filepath.Join(dir, "missing.pem")} {
		if _, err := Load(file); err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("Load(%q) = %v; want an error naming the file", file, err)
		}
	}
}
