package main

import "runtime/debug"

const usage = `evidock-server keeps the registry of body-worn recorder footage and serves
its HTTP API to docking stations.

Usage:
  evidock-server serve [--config FILE]
      Open the database (creating and migrating it), check the S3 store,
      and serve the API until interrupted (SIGINT or SIGTERM), finishing
      requests in progress before exiting.

  evidock-server station add [--config FILE] --id ID [--name NAME] --token-file PATH
      Register a docking station and write its new token to PATH (mode
      0600, which must not exist yet). The token is never printed: copy the
      file to the docking PC. Only the token's hash is stored.

  evidock-server version
      Print the version.

Configuration:
  --config FILE is YAML (see configs/server.yaml). Without it the
  defaults apply: listen 127.0.0.1:8440, SQLite at var/server/evidock.db,
  S3 at http://127.0.0.1:7070 bucket footage, verify_digest true. The S3
  credentials come from the file or from EVIDOCK_S3_ACCESS_KEY_ID and
  EVIDOCK_S3_SECRET_ACCESS_KEY.

  database.driver postgres keeps the registry in PostgreSQL instead, so that
  several servers can share it behind a load balancer. Its connection
  string comes from EVIDOCK_DATABASE_DSN, database.dsn_file or database.dsn,
  in that order.

Exit codes:
  0  success
  1  failure: the work could not be done (database, store or network)
  2  usage or configuration error: fix the command line or the config file
`

// buildVersion is set at build time with -ldflags "-X main.buildVersion=...".
var buildVersion string

// version returns buildVersion, or what the Go toolchain recorded.
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "devel-" + s.Value[:12]
			}
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "devel"
}
