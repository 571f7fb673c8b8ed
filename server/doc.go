// Package server is the case server's service layer: the rules that sit
// between the HTTP API and storage and that no storage backend should have to
// repeat.
//
// The Registry checks that footage a docking station claims to have uploaded
// really is in the object store, with the stated size and digest, before the
// clip is registered. Station tokens are made and hashed here so that every
// StationService backend (SQLite and PostgreSQL) issues and checks them
// the same way, and ValidateClip adds to the domain's check of a clip the
// limits that storage needs (a clock offset within a century), so that both
// stores refuse the same clips.
//
// The subpackages follow the standard package layout: sqlite (embedded, one
// server) and postgres (one database shared by several servers) store the
// registry and what docking stations report about recorders, translog
// keeps the registry's transparency log (signed checkpoints and Merkle
// proofs that need only the log's public key), auth logs people in
// (passwords, sessions, limits on failed logins), audit keeps the hash chain
// of people's actions, http serves them, storetest is the test suite every store must pass, and cmd holds
// the binaries that wire them together.
package server
