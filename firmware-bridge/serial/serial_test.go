package serial

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseUSBIDs(t *testing.T) {
	ids, err := ParseUSBIDs(" 1a86:7523, 0x10C4:0xEA60 ,")
	if err != nil || len(ids) != 2 || ids[0] != (USBID{0x1a86, 0x7523}) || ids[1] != (USBID{0x10c4, 0xea60}) {
		t.Fatalf("ParseUSBIDs = %v, %v", ids, err)
	}
	if s := ids[1].String(); s != "10c4:ea60" {
		t.Errorf("String = %s", s)
	}
	for _, bad := range []string{"1a86", "1a86:", "xyz:1", "12345:1", "1a86:7523:1"} {
		if _, err := ParseUSBIDs(bad); err == nil {
			t.Errorf("ParseUSBIDs(%q) = nil error", bad)
		}
	}
}

func TestListPorts(t *testing.T) {
	// Whatever the machine has; this checks only that listing works.
	ports, err := ListPorts([]USBID{{0x1a86, 0x7523}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if p.Recorder && p.ID != (USBID{0x1a86, 0x7523}) {
			t.Errorf("%s marked as recorder with ID %s", p.Name, p.ID)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	name := filepath.Join(t.TempDir(), "ttyNONE")
	_, err := Open(name, 0)
	if err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("Open(%s) = %v, want an error naming the port", name, err)
	}
}
