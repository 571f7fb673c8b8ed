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

  --server defaults to $EVIDOCK_SERVER and --token-file to
  $EVIDOCK_TOKEN_FILE. The token file holds a token written by
  'evidock-server station add'.

Exit codes:
  0  success
  1  failure: the server could not be reached, or the clip is not registered
  2  usage error: fix the command line, the token file or the filter
`
