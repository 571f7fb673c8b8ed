// Command evidock-bridge talks to body-worn recorders (GA/T 947) on behalf of
// the evidock agent over their serial protocol (firmware-bridge/PROTOCOL.md),
// and simulates recorders where there is no hardware.
//
// Usage:
//
//	evidock-bridge <command> [flags]
//	evidock-bridge help [command]
//
// Commands:
//
//	ports       list serial ports with their USB IDs; mark recorders
//	info        identify a recorder: maker, model, serial, officer and unit,
//	            clock offset, battery, resolution, storage (warns at 90%)
//	set-info    write officer number and name, unit number and name (GBK)
//	sync-time   set the recorder clock to this PC's; print the offset
//	            before and after
//	msdc        switch the recorder to USB mass storage
//	list        list recordings: size, start, duration, important mark
//	pull        download recordings, each chunk CRC-checked, each file
//	            size-checked, fsynced and renamed into place; --resume
//	            continues after a broken link
//	sim         create a simulated recorder volume, as a recorder shows up
//	            when plugged in
//	sim-device  serve a simulated recorder on a new pseudo-terminal, with
//	            fault injection (garbled and dropped bytes, slow link,
//	            stall, clock drift, password behaviour)
//
// Passwords come from --password-file or EVIDOCK_RECORDER_PASSWORD, never
// from the command line, and are never printed or logged.
//
// Example:
//
//	evidock-bridge sim --into /tmp/DSJ0001 --serial DSJ0001 --officer 100234 --sizes 20MB,5MB
//	evidock-bridge sim-device --volume /tmp/DSJ0001 --password-file pw --clock-offset -90s &
//	evidock-bridge info --port /dev/pts/3
//	evidock-bridge sync-time --port /dev/pts/3 --password-file pw
//	evidock-bridge pull --port /dev/pts/3 --out /tmp/pulled
//
// Exit codes: 0 success (also for help), 1 failure while running, 2 usage
// error (unknown command, bad or missing flag, unreadable password file).
package main
