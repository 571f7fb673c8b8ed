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
		cfg.S3.Bucket != "footage" || cfg.S3.SecretAccessKeyFile != "/etc/evidock/s3.secret" || !cfg.VerifyDigest ||
		cfg.Log != (LogConfig{Origin: "evidock.bureau.example/registry", SigningKeyFile: "/etc/evidock/log.key"}) {
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
			AccessKeyID: "AKID", SecretAccessKeyFile: secret, SecretAccessKey: "s3cr3t", RetentionDays: s3.DefaultRetentionDays},
		VerifyDigest: false,
		LogLevel:     "debug",
		Log:          DefaultConfig().Log,
		Fixity:       DefaultConfig().Fixity,
		Auth:         DefaultConfig().Auth,
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
	pg := valid()
	pg.Database = DatabaseConfig{Driver: "postgres", DSN: "postgres://evidock@db.internal/evidock"}
	if err := pg.Validate(); err != nil {
		t.Fatalf("valid postgres config: %v", err)
	}
	for _, tt := range []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"no listen", func(c *Config) { c.Listen = "" }, "listen is empty: set it to host:port"},
		{"listen without port", func(c *Config) { c.Listen = "localhost" }, `listen "localhost" is not host:port`},
		{"no driver", func(c *Config) { c.Database.Driver = "" }, "database.driver is empty: set it to sqlite or postgres"},
		{"unknown driver", func(c *Config) { c.Database.Driver = "mysql" }, `database.driver "mysql" is unknown: use sqlite or postgres`},
		{"postgresql", func(c *Config) { c.Database.Driver = "postgresql" }, `database.driver "postgresql" is unknown: use sqlite or postgres`},
		{"no path", func(c *Config) { c.Database.Path = "" }, "database.path is empty: set it to the SQLite file, e.g. var/server/evidock.db"},
		{"sqlite with dsn", func(c *Config) { c.Database.DSN = "postgres://db/evidock" }, "database.dsn is set, but database.driver is sqlite: remove it, or set database.driver: postgres"},
		{"sqlite with dsn_file", func(c *Config) { c.Database.DSNFile = "/etc/evidock/dsn" }, "database.dsn_file is set, but database.driver is sqlite"},
		{"postgres without dsn", func(c *Config) { c.Database = DatabaseConfig{Driver: "postgres"} },
			"database.dsn is empty: with driver postgres set database.dsn_file (or EVIDOCK_DATABASE_DSN, or database.dsn if it holds no password)"},
		{"postgres with path", func(c *Config) {
			c.Database = DatabaseConfig{Driver: "postgres", Path: "x.db", DSN: "postgres://db/evidock"}
		},
			"database.path is for sqlite: remove it"},
		{"no endpoint", func(c *Config) { c.S3.Endpoint = "" }, "s3.endpoint is empty"},
		{"no bucket", func(c *Config) { c.S3.Bucket = "" }, "s3.bucket is empty"},
		{"no secret", func(c *Config) { c.S3.SecretAccessKey = "" }, "s3 secret key is missing"},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, `log_level "verbose" is unknown: use debug, info, warn or error`},
		{"no log key file", func(c *Config) { c.Log.SigningKeyFile = "" }, "log.signing_key_file is empty"},
		{"log origin with space", func(c *Config) { c.Log.Origin = "my registry" }, "log.origin: "},
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

func TestReadConfigPostgres(t *testing.T) {
	t.Setenv(EnvDatabaseDSN, "")
	for _, tt := range []struct {
		name, yaml string
		want       DatabaseConfig
	}{
		{"dsn", "database:\n  driver: postgres\n  dsn: postgres://evidock@db.internal/evidock\n",
			DatabaseConfig{Driver: "postgres", DSN: "postgres://evidock@db.internal/evidock"}},
		{"dsn_file", "database:\n  driver: postgres\n  dsn_file: /etc/evidock/database.dsn\n",
			DatabaseConfig{Driver: "postgres", DSNFile: "/etc/evidock/database.dsn"}},
		// The SQLite default path is not left behind for postgres.
		{"driver only", "database:\n  driver: postgres\n", DatabaseConfig{Driver: "postgres"}},
		{"sqlite without path", "database:\n  driver: sqlite\n", DatabaseConfig{Driver: "sqlite", Path: DefaultDBPath}},
		{"no database", "listen: 127.0.0.1:8440\n", DatabaseConfig{Driver: "sqlite", Path: DefaultDBPath}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ReadConfig(writeFile(t, "server.yaml", tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Database != tt.want {
				t.Fatalf("database = %+v; want %+v", cfg.Database, tt.want)
			}
		})
	}
}

func TestResolveDatabaseSecrets(t *testing.T) {
	const fromFile, fromEnv = "postgres://evidock:from-file@db.internal/evidock", "postgres://evidock:from-env@db.internal/evidock"
	dsnFile := writeFile(t, "database.dsn", "\n"+fromFile+"\n")
	for _, tt := range []struct {
		name    string
		env     string
		db      DatabaseConfig
		wantDSN string
		wantErr string // in the error of ResolveSecrets, or else of ValidateDatabase
	}{
		{name: "dsn", db: DatabaseConfig{Driver: "postgres", DSN: "postgres://db/evidock"}, wantDSN: "postgres://db/evidock"},
		{name: "dsn_file", db: DatabaseConfig{Driver: "postgres", DSNFile: dsnFile}, wantDSN: fromFile},
		{name: "environment", env: fromEnv, db: DatabaseConfig{Driver: "postgres"}, wantDSN: fromEnv},
		{name: "environment over dsn_file", env: fromEnv, db: DatabaseConfig{Driver: "postgres", DSNFile: dsnFile}, wantDSN: fromEnv},
		{name: "environment over dsn", env: fromEnv, db: DatabaseConfig{Driver: "postgres", DSN: "postgres://db/evidock"}, wantDSN: fromEnv},
		{name: "both in the file", db: DatabaseConfig{Driver: "postgres", DSN: "postgres://db/evidock", DSNFile: dsnFile},
			wantErr: "database.dsn and database.dsn_file are both set: keep one"},
		{name: "missing dsn_file", db: DatabaseConfig{Driver: "postgres", DSNFile: filepath.Join(t.TempDir(), "absent.dsn")},
			wantErr: "database.dsn_file: open "},
		{name: "empty dsn_file", db: DatabaseConfig{Driver: "postgres", DSNFile: writeFile(t, "empty.dsn", "\n")},
			wantErr: "is empty: write the PostgreSQL connection string into it"},
		{name: "environment with sqlite", env: fromEnv, db: DatabaseConfig{Driver: "sqlite", Path: "x.db"},
			wantErr: "EVIDOCK_DATABASE_DSN is set, but database.driver is sqlite: remove it, or set database.driver: postgres"},
		{name: "dsn_file with sqlite", db: DatabaseConfig{Driver: "sqlite", Path: "x.db", DSNFile: dsnFile},
			wantErr: "database.dsn_file is set, but database.driver is sqlite"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvDatabaseDSN, tt.env)
			cfg := Config{Database: tt.db}
			err := cfg.Database.ResolveSecrets()
			if err == nil {
				err = cfg.ValidateDatabase()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				for _, secret := range []string{"from-file", "from-env"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q shows the connection string", err)
					}
				}
				return
			}
			if err != nil || cfg.Database.DSN != tt.wantDSN {
				t.Fatalf("DSN = %q, %v; want %q", cfg.Database.DSN, err, tt.wantDSN)
			}
		})
	}
}
