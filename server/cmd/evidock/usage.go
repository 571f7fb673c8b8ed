package main

const usage = `evidock is the operator CLI of the evidock case server.

Usage:
  evidock clips [--server URL] [--token-file FILE] [--officer NO] [--recorder SERIAL]
                [--from DATE] [--to DATE] [--limit N] [--json]
      List registered clips in recording order, as a table with the columns
      FILE, SIZE, BLAKE3, OBJECT KEY and REGISTERED AT (China time).
      --from and --to take a date (2024-05-01, China time) or an RFC 3339
      time; a date as --to includes that whole day. Order and span are by
      the corrected start time: the recorder's clock corrected by its
      offset at the dock. --limit 0 (the
      default) lists every match.

  evidock clip [--server URL] [--token-file FILE] [--json] BLAKE3
      Show one clip, found by its BLAKE3 digest.

  evidock recorders [--server URL] [--token-file FILE] [--officer NO] [--json]
      List the recorders docking stations have reported, by serial, as a
      table with the columns SERIAL, OFFICER (the recorder's own binding),
      LAST DOCK (China time), STATION, BATTERY, STORAGE (used/total),
      CLOCK OFFSET (the recorder's clock minus the station's at that dock,
      before the station set it right) and DRIFT ("yes" when the clock
      drifts more than 3 s a day). --officer keeps one officer's recorders.

  evidock verify-log [--server URL] [--token-file FILE] --key PUBKEY_FILE
                     [--clips FILE] [--state FILE]
      Check the server's transparency log with the log's public key
      alone (from 'evidock-server log keygen'; the server's word is not
      taken for it): the latest checkpoint's signature; that all its
      records hash to the signed root; that every registered clip has a
      record, the same in every field, and every record a clip. --clips
      names a file of BLAKE3 digests (one a line; '#' comments; b3sum
      output works) whose clips must each be in the log with a valid
      inclusion proof. --state names a file that remembers the last
      checkpoint verified: the next run demands a consistency proof from
      it, so a rewritten history is caught; it is updated only when
      everything verifies. Each failed check is printed as a line starting
      with FAIL, naming the clip or record.

  evidock status [--server URL] [--token-file FILE] [--json]
      Show the server's condition: version, database, bucket, whether the
      bucket has Object Lock (and the retention), and fixity: how many
      clips were read back and found ok, missing, changed or unreachable
      by their latest check, since when every clip has been checked, and
      how many alarms are open.

  evidock alarms [--server URL] [--token-file FILE] [--all] [--json]
      List the open alarms, newest first, as a table with the columns ID,
      OPENED AT (China time), KIND, SUBJECT (for fixity alarms the clip's
      BLAKE3) and MESSAGE. --all lists acknowledged alarms too, with who
      acknowledged them. object_missing and object_changed alarms mean
      stored footage is gone or damaged: restore it from a backup copy.

  --server defaults to $EVIDOCK_SERVER and --token-file to
  $EVIDOCK_TOKEN_FILE. The token file holds a token written by
  'evidock-server station add'.

Exit codes:
  0  success
  1  failure: the server could not be reached, the clip is not registered,
     or (verify-log) a check failed
  2  usage error: fix the command line, the token file or the filter
`
