package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"evidock/s3"
)

// writeFile writes content to name in a temporary directory and returns the
// path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadConfigSample(t *testing.T) {
	cfg, err := ReadConfig("../../../configs/server.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8440" || cfg.Database.Path != "/var/lib/evidock/server.db" ||
		cfg.S3.Bucket != "footage" || cfg.S3.SecretAccessKeyFile != "/etc/evidock/s3.secret" || !cfg.VerifyDigest {
		t.Fatalf("sample config read as %+v", cfg)
	}
}

func TestReadConfigGood(t *testing.T) {
	secret := writeFile(t, "secret", "s3cr3t\n")
	path := writeFile(t, "server.yaml", `
listen: 0.0.0.0:9000
database:
  driver: sqlite
  path: /srv/evidock/evidock.db
s3:
  endpoint: https://s3.example.internal
  bucket: bodycam
  access_key_id: AKID
  secret_access_key_file: `+secret+`
verify_digest: false
log_level: debug
`)
	cfg, err := ReadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(s3.EnvAccessKeyID, "")
	t.Setenv(s3.EnvSecretAccessKey, "")
	if err := cfg.S3.ResolveSecrets(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := Config{
		Listen:   "0.0.0.0:9000",
		Database: DatabaseConfig{Driver: "sqlite", Path: "/srv/evidock/evidock.db"},
		S3: s3.Config{Endpoint: "https://s3.example.internal", Region: "us-east-1", Bucket: "bodycam",
			AccessKeyID: "AKID", SecretAccessKeyFile: secret, SecretAccessKey: "s3cr3t"},
		VerifyDigest: false,
		LogLevel:     "debug",
	}
	if cfg != want {
		t.Fatalf("config =\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestReadConfigDefaults(t *testing.T) {
	for _, content := range []string{"", "# nothing set\n", "listen: 127.0.0.1:8440\n"} {
		cfg, err := ReadConfig(writeFile(t, "server.yaml", content))
		if err != nil {
			t.Fatalf("ReadConfig(%q): %v", content, err)
		}
		if cfg != DefaultConfig() {
			t.Fatalf("ReadConfig(%q) = %+v; want the defaults", content, cfg)
		}
	}
	if cfg, err := ReadConfig(""); err != nil || cfg != DefaultConfig() {
		t.Fatalf("ReadConfig(\"\") = %+v, %v; want the defaults", cfg, err)
	}
}

func TestReadConfigBad(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "listen: 127.0.0.1:8440\nlisten_addr: x\n", []string{`config `, `line 2`, `unknown key "listen_addr"`}},
		{"unknown nested key", "database:\n  driver: sqlite\n  pth: x.db\n", []string{`line 3`, `unknown key "pth"`}},
		{"unknown s3 key", "s3:\n  secret_access_key: hunter2\n", []string{`unknown key "secret_access_key"`}},
		{"wrong type", "verify_digest: sometimes\n", []string{"line 1", "sometimes"}},
		{"not YAML", "listen: [\n", []string{"config "}},
		{"two documents", "listen: a:1\n---\nlisten: b:2\n", []string{"more than one YAML document"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "server.yaml", tt.yaml)
			_, err := ReadConfig(path)
			if err == nil {
				t.Fatal("ReadConfig succeeded")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := ReadConfig(filepath.Join(t.TempDir(), "absent.yaml")); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		c := DefaultConfig()
		c.S3.AccessKeyID, c.S3.SecretAccessKey = "AKID", "secret"
		return c
	}
	if c := valid(); c.Validate() != nil {
		t.Fatalf("valid config: %v", c.Validate())
	}
	for _, tt := range []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"no listen", func(c *Config) { c.Listen = "" }, "listen is empty: set it to host:port"},
		{"listen without port", func(c *Config) { c.Listen = "localhost" }, `listen "localhost" is not host:port`},
		{"no driver", func(c *Config) { c.Database.Driver = "" }, "database.driver is empty: set it to sqlite"},
		{"postgres", func(c *Config) { c.Database.Driver = "postgres" }, "database.driver postgres is not supported yet"},
		{"unknown driver", func(c *Config) { c.Database.Driver = "mysql" }, `database.driver "mysql" is unknown`},
		{"no path", func(c *Config) { c.Database.Path = "" }, "database.path is empty: set it to the SQLite file, e.g. var/server/evidock.db"},
		{"no endpoint", func(c *Config) { c.S3.Endpoint = "" }, "s3.endpoint is empty"},
		{"no bucket", func(c *Config) { c.S3.Bucket = "" }, "s3.bucket is empty"},
		{"no secret", func(c *Config) { c.S3.SecretAccessKey = "" }, "s3 secret key is missing"},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, `log_level "verbose" is unknown: use debug, info, warn or error`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.modify(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v; want %q", err, tt.want)
			}
		})
	}
}
