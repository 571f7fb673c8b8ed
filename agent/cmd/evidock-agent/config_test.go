package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evidock/internal/cli"
	serverhttp "evidock/server/http"
	"evidock/server/translog"
)

func TestSampleConfigLoads(t *testing.T) {
	t.Setenv("EVIDOCK_S3_SECRET_ACCESS_KEY", "secret")
	t.Setenv(EnvStationToken, "token")
	// The sample names the log key's installed path; point it at a real key.
	_, vkey, err := translog.GenerateKey("evidock.example/registry")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "log.key.pub")
	sample, err := os.ReadFile("../../../configs/agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyFile, []byte(vkey+"\n"), 0o644)
	config := filepath.Join(dir, "agent.yaml")
	os.WriteFile(config, bytes.ReplaceAll(sample, []byte("/etc/evidock/log.key.pub"), []byte(keyFile)), 0o600)
	c, err := LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	if c.StationID != "dock-01" || c.S3.Bucket != "footage" || c.Server.Token != "token" || c.Upload.PartSizeMiB != 16 ||
		c.ClearAfter != "registered" || !c.ReverifySource || c.StagingReserveMiB != 512 ||
		c.DockScreen.Listen != "127.0.0.1:8441" || c.DockScreen.AllowRemote {
		t.Fatalf("loaded %+v", c)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Setenv("EVIDOCK_S3_SECRET_ACCESS_KEY", "secret")
	base := `station_id: dock-01
mount_root: /media/evidock
staging_dir: /tmp/staging
state_path: /tmp/agent.db
server: {url: "http://127.0.0.1:1", token_file: TOKEN}
s3: {endpoint: "http://127.0.0.1:2", bucket: footage, access_key_id: a}
`
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("tok\n"), 0o600)
	base = strings.Replace(base, "TOKEN", token, 1)
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	tlsServer.Close() // only its certificate is wanted
	caPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsServer.Certificate().Raw}), 0o644)
	withCA := func(file string) string {
		return strings.Replace(base, "token_file: "+token+"}", "token_file: "+token+", ca_file: "+file+"}", 1)
	}
	for name, tt := range map[string]struct{ yaml, want string }{
		"ok":              {base, ""},
		"unknown key":     {base + "stationid: x\n", `unknown key "stationid"`},
		"no station":      {strings.Replace(base, "station_id: dock-01", "", 1), "station_id is empty"},
		"short part":      {base + "upload: {part_size_mib: 1}\n", "upload.part_size_mib 1"},
		"bad level":       {base + "log_level: loud\n", `log_level "loud"`},
		"bad endpoint":    {strings.Replace(base, `"http://127.0.0.1:2"`, "s3.local", 1), "s3.endpoint"},
		"missing token":   {strings.Replace(base, token, filepath.Join(dir, "nope"), 1), "server.token_file"},
		"not yaml":        {"station_id: [", "config"},
		"bad mode":        {base + "detect: {mode: usb}\n", `detect.mode "usb"`},
		"mounts no ids":   {base + "detect: {mode: mounts}\n", "detect.recorder_usb_ids is empty"},
		"bad usb id":      {base + "detect: {mode: mounts, recorder_usb_ids: [\"zz:1\"]}\n", "detect.recorder_usb_ids"},
		"bridge no pw":    {base + "bridge: {enabled: true, serial_usb_ids: [\"2e3c:5741\"], spool_dir: /tmp/s}\n", "recorder password is missing"},
		"bridge no spool": {base + "bridge: {enabled: true, serial_usb_ids: [\"2e3c:5741\"]}\n", "bridge.spool_dir is empty"},
		"bad window":      {base + "upload: {bandwidth: {windows: [{from: \"8am\", to: \"18:00\"}]}}\n", "upload.bandwidth.windows[0].from"},
		"bad clear":       {base + "clear_after: sometimes\n", `clear_after "sometimes"`},
		"bad settle":      {base + "settle: 1ms\n", "settle 1ms is too short"},
		"threshold<part":  {base + "upload: {multipart_threshold_mib: 8, part_size_mib: 16}\n", "multipart_threshold_mib 8"},
		"screen off":      {base + "dock_screen: {listen: \"\"}\n", ""},
		"screen v6":       {base + "dock_screen: {listen: \"[::1]:8441\"}\n", ""},
		"screen named":    {base + "dock_screen: {listen: \"localhost:8441\"}\n", ""},
		"screen remote":   {base + "dock_screen: {listen: \"0.0.0.0:8441\"}\n", `dock_screen.listen "0.0.0.0:8441" is not a loopback address`},
		"screen all":      {base + "dock_screen: {listen: \":8441\"}\n", "set dock_screen.allow_remote: true"},
		"screen lan":      {base + "dock_screen: {listen: \"192.168.1.20:8441\"}\n", "not a loopback address"},
		"screen allowed":  {base + "dock_screen: {listen: \"0.0.0.0:8441\", allow_remote: true}\n", ""},
		"screen no port":  {base + "dock_screen: {listen: \"127.0.0.1\"}\n", "dock_screen.listen \"127.0.0.1\": want host:port"},
		"screen port 0":   {base + "dock_screen: {listen: \"127.0.0.1:0\"}\n", "port must be a number from 1 to 65535"},
		"screen port":     {base + "dock_screen: {listen: \"127.0.0.1:http\"}\n", "port must be a number"},
		"screen key":      {base + "dock_screen: {listen: \"127.0.0.1:8441\", allowremote: true}\n", `unknown key "allowremote"`},
		"ca on http":      {withCA(caPEM), "server.ca_file is set, but server.url"},
		"ca missing":      {withCA(filepath.Join(dir, "nope.pem")), "server.ca_file"},
		"ca not pem":      {withCA(token), "server.ca_file"},
	} {
		p := filepath.Join(dir, "agent.yaml")
		os.WriteFile(p, []byte(tt.yaml), 0o600)
		_, err := LoadConfig(p)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error containing %q", name, err, tt.want)
		case tt.want != "" && cli.ExitCode(err) != cli.ExitUsage:
			t.Errorf("%s: exit code %d, want %d", name, cli.ExitCode(err), cli.ExitUsage)
		}
	}
}

func TestDockScreenDefaultsAndURL(t *testing.T) {
	if got := DefaultConfig().DockScreen; got.Listen != DefaultDockScreenListen || got.AllowRemote {
		t.Errorf("default dock screen %+v", got)
	}
	for listen, want := range map[string]string{
		"127.0.0.1:8441": "http://127.0.0.1:8441",
		"localhost:9000": "http://localhost:9000",
		"[::1]:8441":     "http://[::1]:8441",
		":8441":          "http://127.0.0.1:8441",
		"0.0.0.0:8441":   "http://127.0.0.1:8441",
		"[::]:8441":      "http://127.0.0.1:8441",
		"":               "",
	} {
		if got := (DockScreenConfig{Listen: listen}).URL(); got != want {
			t.Errorf("URL of %q = %q, want %q", listen, got, want)
		}
	}
}

// TestServerCA talks to a case server over https whose certificate comes
// from a CA the machine does not trust: with server.ca_file naming it, the
// agent's client (set up as Run sets it up) gets through; without it, the
// error says what to set.
func TestServerCA(t *testing.T) {
	t.Setenv("EVIDOCK_S3_SECRET_ACCESS_KEY", "secret")
	t.Setenv(EnvStationToken, "token")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	for _, caFile := range []string{ca, ""} {
		yaml := fmt.Sprintf(`station_id: dock-01
mount_root: /media/evidock
staging_dir: /tmp/staging
state_path: /tmp/agent.db
server: {url: %q, ca_file: %q}
s3: {endpoint: "http://127.0.0.1:2", bucket: footage, access_key_id: a}
`, srv.URL, caFile)
		p := filepath.Join(dir, "agent.yaml")
		os.WriteFile(p, []byte(yaml), 0o600)
		c, err := LoadConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		client := serverhttp.NewClient(c.Server.URL, c.Server.Token)
		client.UseTLS(c.Server.TLS)
		err = client.Health(context.Background())
		switch {
		case caFile != "" && err != nil:
			t.Errorf("with server.ca_file: %v", err)
		case caFile == "" && (err == nil || !strings.Contains(err.Error(), "server.ca_file")):
			t.Errorf("without server.ca_file: %v; want an error that names server.ca_file", err)
		}
	}
}
