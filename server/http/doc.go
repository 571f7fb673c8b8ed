// Package http is the case server's HTTP API and the Go client for it.
//
// The Server serves JSON under /api/v1 to docking stations (and, later, to
// people through the web UI); the Client speaks the same API for the agent and
// the operator CLI and implements evidock.ClipService and
// evidock.RecorderService, so that code using the registry does not care
// whether it sits in the server or across the network.
// Errors travel as {"error":{"code":...,"message":...}} and come back out of
// the Client as *evidock.Error with the same code.
//
// # Routes
//
// Every /api/v1 route needs a station token in the header
// "Authorization: Bearer <token>" (401 without a valid one), except the
// people routes (see people.go and Server.SetPeople), which take a user's
// session cookie instead; GET /api/v1/clips/{blake3} takes either, and a
// user's read of it is authorized by evidock.Authorize and audited.
//
//	GET  /healthz                   {"status":"ok"}; 503 if the database does not answer
//	POST /api/v1/clips              register a clip: 201 new, 200 registered before,
//	                                422 footage missing from the object store or different
//	GET  /api/v1/clips/{blake3}     one clip
//	GET  /api/v1/clips?officer=&recorder=&from=&to=&limit=&offset=
//	                                {"clips":[...],"total":N}, in corrected time order
//	PUT  /api/v1/recorders/{serial} report a dock: 200 with the recorder as stored
//	GET  /api/v1/recorders/{serial} one recorder
//	GET  /api/v1/recorders?officer= {"recorders":[...]}, in serial order
//	GET  /api/v1/status             version, database driver, bucket, object_lock
//	                                {enabled, retention_days} and fixity figures
//	GET  /api/v1/alarms?open=&limit=
//	                                {"alarms":[...]}, newest first; open=true keeps
//	                                those nobody has acknowledged
//	GET  /metrics                   Prometheus metrics (no token, like /healthz)
//	GET  /api/v1/log/checkpoint     the transparency log's latest signed checkpoint (text/plain note)
//	GET  /api/v1/log/key            the log's public verifier key (text/plain)
//	GET  /api/v1/log/proof/inclusion?index=&size=
//	                                {"index","size","hashes":[base64...]}
//	GET  /api/v1/log/proof/consistency?old=&new=
//	                                {"old","new","hashes":[base64...]}
//	GET  /api/v1/log/records?start=&count=
//	                                {"records":[{"index","record"}]}, at most 1000
//	GET  /api/v1/log/receipt/{blake3}
//	                                the clip's receipt against a checkpoint holding it
//
// With a log (Server.SetLog), both answers to POST /api/v1/clips carry the
// clip's "receipt" beside its fields: {"index","record","checkpoint",
// "inclusion_proof"} (evidock.Receipt), which a station checks with
// translog.VerifyReceipt before it clears the recorder. Without one, the log
// routes answer 501 and registrations carry no receipt.
//
// The case routes (units, officers, recorder assignments, cases, their
// activities and the links of clips to activities, with link suggestions
// and the missing mandatory recordings) are listed in case.go; they
// answer 501 on a server given no stores with Server.SetCases.
//
// # Clip times
//
// A clip's started_at is the recorder's clock, as in its file name, and is
// kept as written. clock_offset_ms is the recorder's clock minus the docking
// station's, and corrected_started_at is started_at minus clock_offset_ms:
// the true start, from which deadlines run and by which clips are linked to
// activities. A registration may leave corrected_started_at out, and the
// server computes it; one that sends it must send the same instant, or gets
// 400. important is the officer's one-key mark.
//
// The from and to of a clip listing bound corrected_started_at (from
// inclusive, to exclusive), and listings are ordered by it, then by
// registration. Each takes an RFC 3339 time or a date (YYYY-MM-DD, China
// time); a date as to includes that whole day.
//
// # Recorders
//
// A dock report's body is an evidock.Recorder; its device_serial must be the
// {serial} of the path, and last_station_id is set from the token, whatever
// the body says. An absent battery_percent is -1, unknown. Each report
// replaces the recorder's current state, and the server keeps every report
// besides.
//
// # Errors
//
// Each domain error code has one status: invalid 400, unauthorized 401,
// forbidden 403, not_found 404, conflict 409, unverified 422, internal 500,
// not_implemented 501, unavailable 503. Bodies are decoded strictly: unknown
// fields, a second JSON value and bodies over MaxClipBody or MaxRecorderBody
// are refused with 400 and a message naming the problem, as are unknown or
// repeated query parameters.
package http
