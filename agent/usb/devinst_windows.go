package usb

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// golang.org/x/sys/windows (v0.49.0) wraps SetupDiGetClassDevsEx,
// SetupDiEnumDeviceInfo, SetupDiGetDeviceInstanceId and
// CM_Get_Device_Interface_List, but not CM_Get_Parent or CM_Get_Device_ID,
// nor the disk interface GUID and the storage IOCTL; those are declared
// here from the Windows SDK headers (cfgmgr32.h, ntddstor.h, winioctl.h).
var (
	modcfgmgr32           = windows.NewLazySystemDLL("cfgmgr32.dll")
	procCM_Get_Parent     = modcfgmgr32.NewProc("CM_Get_Parent")
	procCM_Get_Device_IDW = modcfgmgr32.NewProc("CM_Get_Device_IDW")
)

// guidDevinterfaceDisk is GUID_DEVINTERFACE_DISK, the device interface of
// every disk: {53F56307-B6BF-11D0-94F2-00A0C91EFB8B}.
var guidDevinterfaceDisk = windows.GUID{
	Data1: 0x53f56307, Data2: 0xb6bf, Data3: 0x11d0,
	Data4: [8]byte{0x94, 0xf2, 0x00, 0xa0, 0xc9, 0x1e, 0xfb, 0x8b},
}

// ioctlStorageGetDeviceNumber is IOCTL_STORAGE_GET_DEVICE_NUMBER:
// CTL_CODE(IOCTL_STORAGE_BASE 0x2d, 0x0420, METHOD_BUFFERED, FILE_ANY_ACCESS),
// so a handle opened without read or write access may ask it.
const ioctlStorageGetDeviceNumber = 0x2d<<16 | 0x0420<<2

// storageDeviceNumber is STORAGE_DEVICE_NUMBER.
type storageDeviceNumber struct {
	DeviceType      uint32 // FILE_DEVICE_DISK, FILE_DEVICE_CD_ROM, …
	DeviceNumber    uint32 // N of \\.\PhysicalDriveN
	PartitionNumber uint32
}

// driveUSB returns the USB device holding the volume of drive root (E:\),
// and the device instance IDs from its disk up: the volume's disk number
// (IOCTL_STORAGE_GET_DEVICE_NUMBER on \\.\E:), the disk devnode with the
// same number (SetupAPI over GUID_DEVINTERFACE_DISK), then its parents
// (CM_Get_Parent) up to the first whole USB device, read by
// USBFromDeviceChain. Only device handles opened without read or write
// access are used: nothing on the volume is read.
//
// It returns nil and no error if the disk is not on USB; an error if the
// volume spans no single disk or is gone, if no disk has its number, or if
// the device tree cannot be read.
func driveUSB(root string) (*Device, []string, error) {
	if len(root) < 2 || root[1] != ':' {
		return nil, nil, fmt.Errorf("USB device of %s: not a drive letter", root)
	}
	num, err := deviceNumber(`\\.\` + root[:2])
	if err != nil {
		return nil, nil, fmt.Errorf("USB device of %s: %w", root, err)
	}
	disk, err := diskDevInst(num)
	if err != nil {
		return nil, nil, fmt.Errorf("USB device of %s: %w", root, err)
	}
	chain, err := deviceChain(disk)
	if err != nil {
		return nil, chain, fmt.Errorf("USB device of %s: %w", root, err)
	}
	dev, err := USBFromDeviceChain(chain)
	if err != nil {
		return nil, chain, fmt.Errorf("USB device of %s: %w", root, err)
	}
	return dev, chain, nil
}

// deviceNumber asks the volume or disk at path which disk it is.
func deviceNumber(path string) (storageDeviceNumber, error) {
	var n storageDeviceNumber
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return n, err
	}
	h, err := windows.CreateFile(p, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return n, fmt.Errorf("open %s: %w", path, err)
	}
	defer windows.CloseHandle(h)
	var got uint32
	err = windows.DeviceIoControl(h, ioctlStorageGetDeviceNumber, nil, 0,
		(*byte)(unsafe.Pointer(&n)), uint32(unsafe.Sizeof(n)), &got, nil)
	if err != nil {
		// A volume spanning disks (dynamic disks) has no one number.
		return n, fmt.Errorf("storage device number of %s: %w", path, err)
	}
	if got < uint32(unsafe.Sizeof(n)) {
		return n, fmt.Errorf("storage device number of %s: %d bytes", path, got)
	}
	return n, nil
}

// diskDevInst returns the devnode of the present disk whose device number
// is num's: the number is not in the disk's IDs, so each disk's interface
// is opened and asked.
func diskDevInst(num storageDeviceNumber) (windows.DEVINST, error) {
	set, err := windows.SetupDiGetClassDevsEx(&guidDevinterfaceDisk, "", 0,
		windows.DIGCF_PRESENT|windows.DIGCF_DEVICEINTERFACE, 0, "")
	if err != nil {
		return 0, fmt.Errorf("list disks: %w", err)
	}
	defer set.Close()
	for i := 0; ; i++ {
		data, err := set.EnumDeviceInfo(i)
		if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
			return 0, fmt.Errorf("no present disk has device number %d", num.DeviceNumber)
		}
		if err != nil {
			return 0, fmt.Errorf("list disks: %w", err)
		}
		id, err := set.DeviceInstanceID(data)
		if err != nil {
			continue // unplugged while listing
		}
		paths, err := windows.CM_Get_Device_Interface_List(id, &guidDevinterfaceDisk, windows.CM_GET_DEVICE_INTERFACE_LIST_PRESENT)
		if err != nil {
			continue
		}
		for _, p := range paths {
			n, err := deviceNumber(p)
			if err == nil && n.DeviceType == num.DeviceType && n.DeviceNumber == num.DeviceNumber {
				return data.DevInst, nil
			}
		}
	}
}

// deviceChain returns the device instance IDs of dev and its parents, up
// to the first whole USB device (not one function of a composite one), or
// to the root of the device tree, or to one more than USBFromDeviceChain
// takes.
func deviceChain(dev windows.DEVINST) ([]string, error) {
	if err := procCM_Get_Parent.Find(); err != nil {
		return nil, err
	}
	if err := procCM_Get_Device_IDW.Find(); err != nil {
		return nil, err
	}
	var chain []string
	for len(chain) <= maxDeviceChain {
		id, err := deviceID(dev)
		if err != nil {
			return chain, err
		}
		chain = append(chain, id)
		if d, err := ParseDeviceInstanceID(id); err == nil && d.USB && d.Interface < 0 {
			return chain, nil
		}
		var parent windows.DEVINST
		r, _, _ := procCM_Get_Parent.Call(uintptr(unsafe.Pointer(&parent)), uintptr(dev), 0)
		switch ret := windows.CONFIGRET(r); ret {
		case windows.CR_SUCCESS:
			dev = parent
		case windows.CR_NO_SUCH_DEVNODE:
			return chain, nil // the root has no parent
		default:
			return chain, fmt.Errorf("parent of %s: %w", id, ret)
		}
	}
	return chain, nil
}

// deviceID returns the device instance ID of dev.
func deviceID(dev windows.DEVINST) (string, error) {
	// MAX_DEVICE_ID_LEN holds the longest ID without its terminating NUL.
	var buf [windows.MAX_DEVICE_ID_LEN + 1]uint16
	r, _, _ := procCM_Get_Device_IDW.Call(uintptr(dev), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
	if ret := windows.CONFIGRET(r); ret != windows.CR_SUCCESS {
		return "", fmt.Errorf("device instance ID: %w", ret)
	}
	return windows.UTF16ToString(buf[:]), nil
}
