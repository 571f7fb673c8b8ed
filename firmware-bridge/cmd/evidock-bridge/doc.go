// Command evidock-bridge talks to body-worn recorders (GA/T 947) on behalf of
// the evidock agent, and simulates them where there is no hardware.
//
// Usage:
//
//	evidock-bridge <command> [flags]
//	evidock-bridge help [command]
//
// Commands:
//
//	sim    create a simulated recorder volume, as a recorder shows up when
//	       plugged in: footage under DCIM/100MEDIA, built aside and renamed
//	       into place so that it appears at once
//
// Planned, not yet implemented: ports, info, set-info, sync-time, msdc, list,
// pull.
//
// Example:
//
//	evidock-bridge sim --into /media/evidock/DSJ0001 --serial DSJ0001 \
//	    --officer 100234 --start 2026-11-25T09:00:00+08:00 \
//	    --sizes 200MB,30MB,20MB,10MB,5MB,5MB
//
// Exit codes: 0 success (also for help), 1 failure while running, 2 usage
// error (unknown command, bad or missing flag).
package main
