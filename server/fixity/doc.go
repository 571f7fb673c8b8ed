// Package fixity re-reads stored footage on a schedule and checks it against
// the registry, so that footage lost or damaged between upload and storage
// is found by the system, not by a prosecutor.
//
// A Checker walks the registered clips, oldest-checked first, reads each
// clip's object back from the object store at a limited byte rate, and
// compares its size and BLAKE3 with the registry. Every result (ok, missing,
// changed, unreachable) is recorded in the history of checks, which is only
// ever added to. A missing or changed object opens an alarm that stays open
// until a supervisor acknowledges it; alarms are never deleted. An object
// store that cannot be reached is no verdict on the footage: the clip is
// retried later, and the outage shows in the status, but no alarm opens.
//
// # Scheduling
//
// The schedule lives in the database, not in a job library. Each clip has
// a "last checked" marker and a lease, kept beside the clips (the clips
// table itself is never changed). A Checker claims a batch of due clips by
// setting their lease in one statement, renews the lease of the clip it is
// reading, and gives the rest back when it stops; another Checker skips
// leased clips. So any number of server instances sharing one PostgreSQL
// divide the work without checking a clip twice at once, and one instance
// on SQLite runs the same code path. Times of leases and checks are the
// database's clock, so instances with skewed clocks agree.
//
// A job library (github.com/riverqueue/river has PostgreSQL and SQLite
// drivers) was weighed and not taken: the work here is one periodic sweep
// with one lease per clip, which the lease columns express in a few
// statements, whereas river would bring its own schema and migrations
// beside ours, a job table per clip check, and a large dependency tree into
// a server whose every rule is meant to be readable in its own SQL.
//
// # Rate
//
// Re-reading footage competes with stations uploading it. The Checker reads
// through a token bucket (golang.org/x/time/rate) of BytesPerSecond per
// server instance; see NewLimiter.
package fixity
