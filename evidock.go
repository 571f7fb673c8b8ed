// Package evidock holds the domain of the evidock system: the types that every
// program shares (clips, recordings, stations, digests) and the interfaces that
// the storage and transport packages implement.
//
// It imports only the standard library and BLAKE3, so that the agent, the case
// server, the firmware bridge and the operator CLI can all depend on it without
// dragging in each other's dependencies.
package evidock

import "time"

// ChinaTime is the zone of recorder clocks and of every working-day deadline:
// Asia/Shanghai, which has kept UTC+8 without daylight saving since 1991. A
// fixed zone avoids depending on a tz database, which Windows docking PCs lack.
var ChinaTime = time.FixedZone("CST", 8*60*60)
