// Package usb notices recorders being docked and undocked, and decides which
// of the volumes that appear may be read at all.
//
// A Watcher reports Mounted and Unmounted events for volumes below the
// configured mount roots. On Linux it watches /proc/self/mountinfo (the
// kernel wakes poll(2) with POLLPRI when the mount table changes), with
// fsnotify on the roots as a second signal, and maps each mount through
// sysfs to the USB device it lives on (vendor and product ID, serial
// number). On Windows it polls for new removable drive letters and maps each
// through its disk number and the device tree (SetupAPI, CM_Get_Parent) to
// the USB device, whose instance ID holds the vendor and product ID and the
// serial number (ParseDeviceInstanceID, USBFromDeviceChain).
//
// A Policy admits a volume only if its USB ID is on the allowlist (or, when
// configured, if it is not on USB at all) and it has a recorder's layout: a
// DCIM directory holding a footage file with a recorder's name. The ID check
// comes first and needs no access to the volume, so a private USB stick is
// never read, not even its directory listing.
package usb
