package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"evidock/agent"
	"evidock/agent/bridge"
	"evidock/firmware-bridge/device"
	"evidock/firmware-bridge/protocol"
)

// TestDockThroughBridge docks a simulated recorder over its serial protocol:
// the agent identifies it and its officer from the device, measures and
// flags its clock drift, sets its clock, reports it to the case server, and
// switches it to mass storage; its recordings are then ingested marked ones
// first, each with the clock offset, and the server corrects their times.
func TestDockThroughBridge(t *testing.T) {
	e := newEnv(t)
	built := filepath.Join(t.TempDir(), "BRG0001")
	v := shiftVolume("BRG0001")
	files, err := v.Create(context.Background(), built)
	must(t, err)
	marked := filepath.Base(files[3].Path)
	const slow = -90 * time.Second // the recorder's clock is 90 s behind
	dev, err := device.New(device.Config{
		Dir:      built,
		Info:     protocol.Info{DeviceSerial: "BRG0001", OfficerNo: "100234", OfficerName: "张三", UnitNo: "U01", UnitName: "劳动监察一大队"},
		Password: "s3cret",
		Clock:    device.NewClock(slow, 0, nil),
		Battery:  76,
		// Nearly full: the dock must warn before loop recording overwrites.
		StorageTotal: 19 << 20,
		Important:    []string{marked},
	})
	must(t, err)
	// Last synced by this station 10 days ago: 9 s a day of drift.
	must(t, e.state.RecordDock(context.Background(), agent.RecorderDock{
		DeviceSerial: "BRG0001", DockedAt: time.Now().Add(-240 * time.Hour), SyncedAt: time.Now().Add(-240 * time.Hour)}))

	// Over a real pseudo-terminal, as over a recorder's USB serial port.
	dock := &bridge.Dock{Password: "s3cret", State: e.state, Recorders: e.client, Logger: e.agent.Logger,
		Options: protocol.ClientOptions{LineRate: 10 << 20}}
	res, err := dock.Handle(context.Background(), serveOnPTY(t, dev))
	must(t, err)
	if !res.Synced || !res.MassStorage || !res.StorageAlarm || res.Reported != nil {
		t.Errorf("dock result %+v", res)
	}
	if off := dev.Clock().Time().Sub(time.Now()); off > time.Second || off < -time.Second {
		t.Errorf("recorder clock still off by %v after the dock", off)
	}

	// The server learnt the recorder from the device.
	got, err := e.client.FindRecorder(context.Background(), "BRG0001")
	must(t, err)
	if got.OfficerNo != "100234" || got.OfficerName != "张三" || got.UnitName != "劳动监察一大队" || got.BatteryPercent != 76 ||
		got.LastStationID != "dock-01" || !got.ClockDrifted || got.ClockOffsetMS > -89000 || got.ClockOffsetMS < -91000 {
		t.Errorf("server's recorder %+v", got)
	}

	// Mass storage: the volume mounts and is ingested.
	must(t, os.Rename(built, filepath.Join(e.mountRoot, "BRG0001")))
	e.start()
	recs := e.waitSettled(len(files))
	var first *agent.Recording
	for _, r := range recs {
		if r.State != agent.StateCleared {
			t.Errorf("%s: %s %q", r.FileName, r.State, r.Error)
		}
		if r.ClockOffsetMS > -89000 || r.ClockOffsetMS < -91000 {
			t.Errorf("%s: clock offset %d ms, want about -90000", r.FileName, r.ClockOffsetMS)
		}
		if r.Important != (r.FileName == marked) {
			t.Errorf("%s: important %v", r.FileName, r.Important)
		}
		if first == nil || r.IngestedAt.Before(first.IngestedAt) {
			first = r
		}
		clip, err := e.client.FindClipByDigest(context.Background(), r.Digest)
		must(t, err)
		if clip.ClockOffsetMS != r.ClockOffsetMS || !clip.CorrectedStartedAt.Equal(clip.StartedAt.Add(-time.Duration(r.ClockOffsetMS)*time.Millisecond)) ||
			clip.Important != r.Important {
			t.Errorf("%s: server clip offset %d, corrected %v (started %v), important %v", r.FileName, clip.ClockOffsetMS,
				clip.CorrectedStartedAt, clip.StartedAt, clip.Important)
		}
	}
	if first == nil || first.FileName != marked {
		t.Errorf("first ingested %v, want the marked %s", first, marked)
	}
}
