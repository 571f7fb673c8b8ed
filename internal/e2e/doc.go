// Package e2e tests the whole path with real parts: a simulated recorder
// volume, the agent, a real S3-compatible server (versitygw) and the case
// server on SQLite. It holds tests only.
package e2e
