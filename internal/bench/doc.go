// Command bench is evidock's speed report (make bench). It measures the
// agent's ingest (copy + BLAKE3 + fsync), its hashing, its upload stage and
// its idle cost, each side by side with a peer run in the same process on
// the same files: cp + sync, b3sum, rclone and a bare aws-sdk-go-v2 loop
// against the same loopback versitygw. It prints a Markdown table of each
// figure, the peer's, their ratio and the goal from issue 3.
//
//	go run ./internal/bench [-size-gib 2] [-out FILE] [-readme README.md] [-quick]
//	                        [-reps 2] [-transfers 4] [-only hash,ingest,upload,idle]
//
// It installs nothing: a missing peer (b3sum, rclone, cp, sync, versitygw)
// is named with the command that installs it, and its rows are reported as
// skipped. Speed is never asserted here; the table is for people. With
// -readme, the summary replaces the text between <!-- bench:begin --> and
// <!-- bench:end --> in that file, so that the README shows the latest run.
//
// Exit codes: 0 the report was written (rows below goal included); 1 the
// benchmark could not run, or a section or side failed (the report, with
// its error rows, is still printed; the README is left alone); 2 bad flags.
package main
