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

  evidock cases [--server URL] [--token-file FILE] [--unit CODE] [--kind KIND]
                [--stage STAGE] [--officer NO] [--from DATE] [--to DATE]
                [--limit N] [--json]
      List enforcement cases, latest filed first, as a table with the
      columns NUMBER, KIND, STAGE, UNIT, FILED (China time), TITLE and
      PARTIES. --unit keeps the cases of that unit and every unit below it
      (a district's code lists the district's cases). --kind is one of
      administrative_penalty (行政处罚), administrative_handling (行政处理),
      administrative_inspection (行政检查) or labour_dispute_mediation
      (简易劳资纠纷调处); --stage one of filed, decided, served, executed,
      closed or archived (the furthest Art. 20 date recorded); --officer
      keeps cases with an activity that officer took part in; --from and
      --to bound the filing date as for clips. --limit 0 (the default)
      lists every match.

  evidock case [--server URL] [--token-file FILE] [--margin DURATION] [--json]
               NUMBER
      Show one case: its parties and Art. 20 dates, then each activity
      with its officers, whether audio-video recording of it is mandatory
      and under which article (Art. 12, 14), the clips linked to it, the
      clips the server suggests for it (the officers' clips whose
      clock-corrected time overlaps the activity, within --margin, 30m by
      default) and those rejected or unlinked; and last the mandatory
      activities that have no confirmed clip, which the legal review
      (Art. 10(7)) must find complete. Asking records the server's new
      suggestions in the link history; it never confirms anything.

  evidock export [--server URL] --login NAME --password-file FILE
                 (--case NUMBER | --clips FILE) --reason TEXT -o FILE.tar
                 [--key PUBKEY_FILE]
      Export footage for others (a court, a disc), as the user NAME, whose
      role or Art. 19 grant must allow export of every clip: all of them or
      none. --case exports the clips confirmed as linked to the case's
      activities; --clips names a file of BLAKE3 digests (one a line, as
      for verify-log). --reason is required and audited with the export.
      The password is the first line of --password-file ("-" reads standard
      input); --login and --password-file default to $EVIDOCK_LOGIN and
      $EVIDOCK_PASSWORD_FILE. The tar holds manifest.json (each clip's
      BLAKE3, size, file name, officer, recorded and corrected times, links
      and transparency-log receipt), README.txt and each clip's original
      bytes under clips/<blake3>/<file name>. It is written to a temporary
      file beside FILE.tar, every clip re-hashed as it arrives and checked
      against the manifest (and, with --key, every receipt against the
      log's public key), and renamed to FILE.tar only when complete and
      verified: a refused, cut-off or altered export leaves no file.

  evidock verify-export --key PUBKEY_FILE FILE.tar
      Check an export offline with the log's public key alone (from the
      bureau, not from the export): every clip hashes to the manifest's
      BLAKE3 and size, every receipt's checkpoint is signed by the key, its
      inclusion proof leads to the signed root, and the logged record is of
      the same clip. Prints an OK line per clip, or FAIL and the problem.

  --server defaults to $EVIDOCK_SERVER and --token-file to
  $EVIDOCK_TOKEN_FILE. The token file holds a token written by
  'evidock-server station add'. --ca-file (default $EVIDOCK_CA_FILE)
  names the certificate (PEM) of the bureau's CA, for an https server
  whose certificate this machine's trust store does not accept.

Exit codes:
  0  success
  1  failure: the server could not be reached, the clip or case does not
     exist, the export was refused or cut off, or (verify-log,
     verify-export) a check failed
  2  usage error: fix the command line, the token file or the filter
`
