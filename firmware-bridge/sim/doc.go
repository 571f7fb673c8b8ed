// Package sim simulates the storage volume of a body-worn recorder (GA/T 947),
// so that the agent's ingest path can be demonstrated and tested without
// hardware.
//
// A Volume is a device serial, an officer number and a list of recordings.
// Volume.Create writes it as a recorder exposes it over USB mass storage:
// footage under DCIM/100MEDIA/ named <serial>_<officer>_<YYYYMMDDhhmmss>_<seq>.MP4,
// each file's modification time at the recording's end. The whole tree is
// built in a hidden sibling directory and renamed into place, so a watcher of
// the parent sees it appear at once, as it would see a mount.
//
// The MP4 files are structurally valid (ftyp, moov/mvhd, mdat) but hold no
// playable media: the mdat is pseudo-random bytes drawn from a seed derived
// from the recording's identity, so that every recording has distinct bytes
// (downstream storage is content-addressed) and the same inputs always give
// the same bytes.
package sim
