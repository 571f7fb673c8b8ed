// Package agent is the docking-station pipeline: it notices a docked
// recorder, copies each recording to staging while hashing it (one pass),
// uploads it to the object store and registers it with the case server.
//
// Every step is a transition of a Recording's State stored in a StateStore
// before the next step starts, so that a crash or power cut at any instant
// loses nothing and repeats nothing that is already done.
//
// Subpackages implement the agent's dependencies: sqlite holds the durable
// state; the object store is evidock/s3 and the case server client is
// evidock/server/http.
package agent
