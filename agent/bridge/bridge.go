// Package bridge is the agent's side of the firmware bridge. When a
// recorder appears on a serial port, a Dock identifies it and its officer
// from the device itself (never from whoever is logged in at the dock),
// measures its clock against the station's and sets it right, notes the
// recordings the officer marked important and how full its storage is,
// reports all that to the case server, and switches the recorder to mass
// storage so that its volume mounts and the pipeline ingests it.
package bridge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"evidock"
	"evidock/agent"
	"evidock/firmware-bridge/protocol"
)

// StorageWarnFraction is how full a recorder's storage may get before the
// dock warns that loop recording will soon overwrite footage.
const StorageWarnFraction = 0.9

// Dock handles recorders that appear on serial ports.
type Dock struct {
	// Password opens the recorder's clock and mass-storage switch; it is
	// never logged.
	Password  string
	State     agent.StateStore        // where offsets and marks are kept for ingest
	Recorders evidock.RecorderService // the case server
	Logger    *slog.Logger
	Now       func() time.Time // the station's clock; time.Now when nil
	Options   protocol.ClientOptions
	// SpoolDir receives the recordings of recorders without mass storage,
	// pulled over serial; each recorder's folder is then ingested as a
	// volume. Empty: such recorders are only identified.
	SpoolDir string
}

// Result is what one dock learnt.
type Result struct {
	Recorder     evidock.Recorder
	Synced       bool   // the clock was set right
	MassStorage  bool   // the recorder was switched to mass storage
	Spool        string // the volume pulled over serial, when it has no mass storage
	StorageAlarm bool   // the storage is nearly full
	Reported     error
}

// Handle talks to the recorder on port and closes it. It returns an error
// naming the step that failed; a failed report to the case server is not
// an error (it is in Result.Reported, and the next dock reports again).
func (d *Dock) Handle(ctx context.Context, port io.ReadWriteCloser) (*Result, error) {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.Default()
	}
	c := protocol.NewClient(port, d.Options)
	defer c.Close()

	id, err := c.Identify(ctx)
	if err != nil {
		return nil, fmt.Errorf("identify recorder: %w", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read recorder info of %s: %w", id.DeviceSerial, err)
	}
	status, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("read status of %s: %w", id.DeviceSerial, err)
	}
	offset, _, err := c.ClockOffset(ctx)
	if err != nil {
		return nil, fmt.Errorf("read clock of %s: %w", id.DeviceSerial, err)
	}
	entries, err := c.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list recordings of %s: %w", id.DeviceSerial, err)
	}
	dockedAt := now()
	res := &Result{Recorder: evidock.Recorder{
		DeviceSerial: id.DeviceSerial, Manufacturer: id.Manufacturer, Model: id.Model, Firmware: id.Firmware,
		OfficerNo: info.OfficerNo, OfficerName: info.OfficerName, UnitNo: info.UnitNo, UnitName: info.UnitName,
		LastDockedAt: dockedAt, BatteryPercent: status.Battery,
		StorageUsed: status.StorageUsed, StorageTotal: status.StorageTotal,
		ClockOffsetMS: offset.Milliseconds(),
	}}
	rec := &res.Recorder

	// Drift since our last sync of this recorder, against the GA/T 947
	// tolerance of 3 s a day.
	prev, err := d.State.LastDock(ctx, id.DeviceSerial)
	if err != nil && evidock.ErrorCode(err) != evidock.ENOTFOUND {
		return nil, err
	}
	if days := dockedAt.Sub(prev.SyncedAt).Hours() / 24; !prev.SyncedAt.IsZero() && days > 0 {
		rec.DriftPerDayMS = int64(float64(offset.Milliseconds()) / days)
		perDay := time.Duration(rec.DriftPerDayMS) * time.Millisecond
		rec.ClockDrifted = perDay > evidock.MaxClockDriftPerDay || perDay < -evidock.MaxClockDriftPerDay
	}
	if rec.ClockDrifted {
		logger.Warn("recorder clock drifts beyond 3 s a day", "recorder", id.DeviceSerial, "offset", offset, "per_day_ms", rec.DriftPerDayMS)
	}

	syncedAt := prev.SyncedAt
	if _, after, err := c.SyncTime(ctx, d.Password); err != nil {
		logger.Error("could not set the recorder's clock", "recorder", id.DeviceSerial, "err", err)
	} else {
		res.Synced, syncedAt = true, now()
		logger.Info("recorder clock set", "recorder", id.DeviceSerial, "was_off_by", offset, "now_off_by", after)
	}

	var marked []string
	for _, e := range entries {
		if e.Important() {
			marked = append(marked, e.Name)
		}
	}
	if err := d.State.RecordDock(ctx, agent.RecorderDock{
		DeviceSerial: id.DeviceSerial, DockedAt: dockedAt, ClockOffset: offset, SyncedAt: syncedAt, Important: marked,
	}); err != nil {
		return nil, err
	}
	if rec.StorageTotal > 0 && float64(rec.StorageUsed) >= StorageWarnFraction*float64(rec.StorageTotal) {
		res.StorageAlarm = true
		logger.Warn("recorder storage nearly full: loop recording will soon overwrite footage", "recorder", id.DeviceSerial,
			"used", rec.StorageUsed, "total", rec.StorageTotal)
	}
	if res.Reported = d.Recorders.ReportDock(ctx, rec); res.Reported != nil {
		logger.Warn("could not report the dock to the case server; the next dock reports again", "recorder", id.DeviceSerial, "err", res.Reported)
	}
	logger.Info("recorder docked over the bridge", "recorder", id.DeviceSerial, "officer", info.OfficerNo,
		"battery", status.Battery, "recordings", len(entries), "marked", len(marked), "clock_offset", offset)

	switch {
	case id.Capabilities&protocol.CapMassStorage != 0:
		if err := c.EnterMassStorage(ctx, d.Password); err != nil {
			return res, fmt.Errorf("switch %s to mass storage: %w", id.DeviceSerial, err)
		}
		res.MassStorage = true
	case id.Capabilities&protocol.CapDownload != 0 && d.SpoolDir != "":
		res.Spool, err = d.pull(ctx, c, id.DeviceSerial, entries)
		return res, err
	}
	return res, nil
}
