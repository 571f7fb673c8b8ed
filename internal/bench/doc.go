// Command bench is evidock's speed report (make bench). It measures the
// agent's ingest (copy + BLAKE3 + fsync), its hashing, its upload stage and
// its idle cost, each side by side with a peer run in the same process on
// the same files: cp + sync, b3sum, rclone and a bare aws-sdk-go-v2 loop
// against the same loopback versitygw. It prints a Markdown table of each
// figure, the peer's, their ratio and the goal from issue 3.
//
//	go run ./internal/bench [-size-gib 2] [-out FILE] [-quick] [-only ingest,hash,upload,idle]
//
// It installs nothing: a missing peer (b3sum, rclone, cp, sync, versitygw)
// is named with the command that installs it, and its rows are reported as
// skipped. Speed is never asserted here; the table is for people.
//
// Exit codes: 0 the report was written (rows below goal included), 1 the
// benchmark could not run (no room for the test data, a side failed), 2 bad
// flags.
package main
