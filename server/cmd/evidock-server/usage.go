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

  evidock-server station revoke [--config FILE] --id ID
      Revoke a docking station (a stolen or retired docking PC): its token
      is refused from now on, and the time of the revocation is printed.
      Revoking a revoked station prints the first revocation's time. The
      station and its clips are kept; a revocation cannot be undone, so a
      docking PC that should work again needs a new station (station add).

  evidock-server unit add [--config FILE] --code CODE --level LEVEL [--parent CODE] [--name NAME]
      Add a unit to the bureau's tree: LEVEL is bureau (no --parent),
      district (--parent the bureau) or unit (--parent a district). Codes
      never change, and units are never deleted or moved. Use it to create
      the bureau (and the units roles are held in) before the first user.

  evidock-server user add [--config FILE] --login LOGIN --role ROLE --unit UNIT
                         [--role ROLE --unit UNIT ...] [--name NAME] [--officer-no NNNNNN]
                         [--password-file PATH]
      Create a user who logs in with a password, read from PATH or from the
      first line of standard input (never from the command line). ROLE is
      officer, archivist, supervisor, legal_reviewer, department_head or
      administrator; UNIT the unit's path: the codes of the units from the
      bureau down to it, e.g. CZ/CZ-TN/CZ-TN-1, which must be units of the
      tree, each the parent of the next ('unit add' prints a new unit's
      path). The role reaches the units below it. Use it to create the
      first administrator; the creation is audited.

  evidock-server audit verify [--config FILE] [--checkpoint CP [--key PUB]]
      Recompute the hash chain of the audit log of people's actions from the
      database and report the first event that does not match (a changed,
      removed or inserted row). With --checkpoint, also check that the log
      passes through a checkpoint signed earlier, which catches a log
      rewritten with every hash recomputed; the checkpoint's signature is
      checked with PUB, or the key of log.signing_key_file.

  evidock-server audit checkpoint [--config FILE] --checkpoint CP
      Verify the audit log and write a checkpoint of it (its number of
      events and last hash), signed with log.signing_key_file, to CP, which
      must not exist yet. Keep checkpoints where the database's
      administrators cannot change them.

  evidock-server log keygen --origin ORIGIN --private-key-file PATH [--public-key-file PUB]
      Make the key that signs the registry's transparency log: the
      private signing key goes to PATH (mode 0600, which must not exist
      yet; it is never printed), the public verifier key to PUB (default
      PATH.pub) and to the output. ORIGIN names the log, e.g.
      evidock.bureau.example/registry. Point log.signing_key_file at PATH;
      give the public key to docking stations and auditors (evidock
      verify-log --key).

  evidock-server backup [--config FILE] --to PATH
      Copy the SQLite registry to PATH, which must not exist yet, while
      the server goes on serving: the copy holds every registration
      committed before the backup started. The copy is checked (SQLite's
      integrity check; its transparency log's hashes against its records
      and against the live log) before it gets its name, so a file at PATH
      is a whole, checked backup. Back PostgreSQL up with its own tools.

  evidock-server version
      Print the version.

Configuration:
  --config FILE is YAML (see configs/server.yaml). Without it the
  defaults apply: listen 127.0.0.1:8440, SQLite at var/server/evidock.db,
  S3 at http://127.0.0.1:7070 bucket footage, verify_digest true. The S3
  credentials come from the file or from EVIDOCK_S3_ACCESS_KEY_ID and
  EVIDOCK_S3_SECRET_ACCESS_KEY.

  Every registered clip is appended to a transparency log whose
  checkpoints are signed with the key in log.signing_key_file (default
  var/server/log.key). With log.create_key (the default) serve creates the
  key, and its public key beside it as .pub, if the file is missing; set
  create_key false in production, so that a lost key stops the server.

  database.driver postgres keeps the registry in PostgreSQL instead, so that
  several servers can share it behind a load balancer. Its connection
  string comes from EVIDOCK_DATABASE_DSN, database.dsn_file or database.dsn,
  in that order.

  serve reads stored footage back on a schedule and checks it against the
  registry (fixity.enabled, default true): each clip every fixity.interval
  (default 720h), at most fixity.bytes_per_second (default 50000000) per
  server. A missing or changed object opens an alarm (evidock alarms) and
  is logged at ERROR as "ALARM". At start serve says whether the bucket has
  Object Lock (a warning if not). GET /api/v1/status and GET /metrics report
  both.

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
