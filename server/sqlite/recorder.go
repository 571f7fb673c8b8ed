package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"evidock"
)

const recorderColumns = `device_serial, manufacturer, model, firmware,
	officer_no, officer_name, unit_no, unit_name,
	last_docked_at, COALESCE(last_station_id, ''), battery_percent, storage_used_bytes, storage_total_bytes,
	clock_offset_ms, drift_per_day_ms, clock_drifted`

// ReportDock stores r as the recorder's current state, replacing the
// previous report of it, and adds it to the history of dock reports, which
// keeps every report. It then fills r with the stored form (times in
// evidock.ChinaTime, to the microsecond). It returns EINVALID for a
// malformed report or an unknown LastStationID, and EUNAVAILABLE if the
// database stays locked.
func (db *DB) ReportDock(ctx context.Context, r *evidock.Recorder) error {
	if err := r.Validate(); err != nil {
		return err
	}
	op := "report dock of recorder " + r.DeviceSerial
	station := sql.NullString{String: r.LastStationID, Valid: r.LastStationID != ""}
	docked := formatTime(r.LastDockedAt.Truncate(time.Microsecond)) // microseconds, as PostgreSQL keeps them
	args := []any{r.DeviceSerial, r.Manufacturer, r.Model, r.Firmware,
		r.OfficerNo, r.OfficerName, r.UnitNo, r.UnitName,
		docked, station, r.BatteryPercent, r.StorageUsed, r.StorageTotal,
		r.ClockOffsetMS, r.DriftPerDayMS, r.ClockDrifted}

	tx, err := db.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see the package comment
	if err != nil {
		return dbError(op, err)
	}
	defer tx.Rollback()
	// The current state first: the history refers to it.
	_, err = tx.ExecContext(ctx, `INSERT INTO recorders (device_serial, manufacturer, model, firmware,
		officer_no, officer_name, unit_no, unit_name,
		last_docked_at, last_station_id, battery_percent, storage_used_bytes, storage_total_bytes,
		clock_offset_ms, drift_per_day_ms, clock_drifted)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_serial) DO UPDATE SET
			manufacturer = excluded.manufacturer, model = excluded.model, firmware = excluded.firmware,
			officer_no = excluded.officer_no, officer_name = excluded.officer_name,
			unit_no = excluded.unit_no, unit_name = excluded.unit_name,
			last_docked_at = excluded.last_docked_at, last_station_id = excluded.last_station_id,
			battery_percent = excluded.battery_percent,
			storage_used_bytes = excluded.storage_used_bytes, storage_total_bytes = excluded.storage_total_bytes,
			clock_offset_ms = excluded.clock_offset_ms, drift_per_day_ms = excluded.drift_per_day_ms,
			clock_drifted = excluded.clock_drifted`, args...)
	if err != nil {
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
			return evidock.WrapError(evidock.EINVALID, err, "recorder: last_station_id %q is not a registered station", r.LastStationID)
		}
		return dbError(op, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO recorder_docks (device_serial, manufacturer, model, firmware,
		officer_no, officer_name, unit_no, unit_name,
		docked_at, station_id, battery_percent, storage_used_bytes, storage_total_bytes,
		clock_offset_ms, drift_per_day_ms, clock_drifted, reported_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(args, formatTime(db.now().Truncate(time.Microsecond)))...); err != nil {
		return dbError(op, err)
	}
	stored, err := scanRecorder(tx.QueryRowContext(ctx, "SELECT "+recorderColumns+" FROM recorders WHERE device_serial = ?", r.DeviceSerial))
	if err != nil {
		return dbError(op, err)
	}
	if err := tx.Commit(); err != nil {
		return dbError(op, err)
	}
	*r = *stored
	return nil
}

// FindRecorder returns the recorder with the device serial, or ENOTFOUND.
func (db *DB) FindRecorder(ctx context.Context, serial string) (*evidock.Recorder, error) {
	r, err := scanRecorder(db.db.QueryRowContext(ctx, "SELECT "+recorderColumns+" FROM recorders WHERE device_serial = ?", serial))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "recorder %s has never been reported by a docking station", serial)
	}
	if err != nil {
		return nil, dbError("find recorder "+serial, err)
	}
	return r, nil
}

// FindRecorders returns every recorder in device serial order, or, if
// officer is not empty, those bound to that officer; never a nil slice.
func (db *DB) FindRecorders(ctx context.Context, officer string) ([]*evidock.Recorder, error) {
	query, args := "SELECT "+recorderColumns+" FROM recorders", []any{}
	if officer != "" {
		query, args = query+" WHERE officer_no = ?", append(args, officer)
	}
	rows, err := db.db.QueryContext(ctx, query+" ORDER BY device_serial", args...)
	if err != nil {
		return nil, dbError("find recorders", err)
	}
	defer rows.Close()
	recs := []*evidock.Recorder{}
	for rows.Next() {
		r, err := scanRecorder(rows)
		if err != nil {
			return nil, dbError("find recorders", err)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("find recorders", err)
	}
	return recs, nil
}

// scanRecorder reads one row selected with recorderColumns.
func scanRecorder(s scanner) (*evidock.Recorder, error) {
	var (
		r      evidock.Recorder
		docked string
	)
	if err := s.Scan(&r.DeviceSerial, &r.Manufacturer, &r.Model, &r.Firmware,
		&r.OfficerNo, &r.OfficerName, &r.UnitNo, &r.UnitName,
		&docked, &r.LastStationID, &r.BatteryPercent, &r.StorageUsed, &r.StorageTotal,
		&r.ClockOffsetMS, &r.DriftPerDayMS, &r.ClockDrifted); err != nil {
		return nil, err
	}
	var err error
	if r.LastDockedAt, err = parseTime(docked); err != nil {
		return nil, fmt.Errorf("recorder %s: last_docked_at: %w", r.DeviceSerial, err)
	}
	return &r, nil
}
