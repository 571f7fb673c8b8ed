package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

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
// database cannot be reached.
func (db *DB) ReportDock(ctx context.Context, r *evidock.Recorder) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var station any // NULL for a report that came through no station
	if r.LastStationID != "" {
		station = r.LastStationID
	}
	args := []any{r.DeviceSerial, r.Manufacturer, r.Model, r.Firmware,
		r.OfficerNo, r.OfficerName, r.UnitNo, r.UnitName,
		toDB(r.LastDockedAt), station, r.BatteryPercent, r.StorageUsed, r.StorageTotal,
		r.ClockOffsetMS, r.DriftPerDayMS, r.ClockDrifted}
	var stored *evidock.Recorder
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// The current state first: the history refers to it. Reports of
		// one recorder from two servers at once serialise on its row.
		var err error
		stored, err = scanRecorder(tx.QueryRow(ctx, `INSERT INTO recorders (device_serial, manufacturer, model, firmware,
			officer_no, officer_name, unit_no, unit_name,
			last_docked_at, last_station_id, battery_percent, storage_used_bytes, storage_total_bytes,
			clock_offset_ms, drift_per_day_ms, clock_drifted)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (device_serial) DO UPDATE SET
				manufacturer = excluded.manufacturer, model = excluded.model, firmware = excluded.firmware,
				officer_no = excluded.officer_no, officer_name = excluded.officer_name,
				unit_no = excluded.unit_no, unit_name = excluded.unit_name,
				last_docked_at = excluded.last_docked_at, last_station_id = excluded.last_station_id,
				battery_percent = excluded.battery_percent,
				storage_used_bytes = excluded.storage_used_bytes, storage_total_bytes = excluded.storage_total_bytes,
				clock_offset_ms = excluded.clock_offset_ms, drift_per_day_ms = excluded.drift_per_day_ms,
				clock_drifted = excluded.clock_drifted
			RETURNING `+recorderColumns, args...))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO recorder_docks (device_serial, manufacturer, model, firmware,
			officer_no, officer_name, unit_no, unit_name,
			docked_at, station_id, battery_percent, storage_used_bytes, storage_total_bytes,
			clock_offset_ms, drift_per_day_ms, clock_drifted)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, args...)
		return err
	})
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return evidock.WrapError(evidock.EINVALID, err, "recorder: last_station_id %q is not a registered station", r.LastStationID)
	case err != nil:
		return dbError("report dock of recorder "+r.DeviceSerial, err)
	}
	*r = *stored
	return nil
}

// FindRecorder returns the recorder with the device serial, ENOTFOUND, or
// EUNAVAILABLE if the database cannot be reached.
func (db *DB) FindRecorder(ctx context.Context, serial string) (*evidock.Recorder, error) {
	r, err := scanRecorder(db.pool.QueryRow(ctx, "SELECT "+recorderColumns+" FROM recorders WHERE device_serial = $1", serial))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, evidock.Errorf(evidock.ENOTFOUND, "recorder %s has never been reported by a docking station", serial)
	}
	if err != nil {
		return nil, dbError("find recorder "+serial, err)
	}
	return r, nil
}

// FindRecorders returns every recorder in device serial order, or, if
// officer is not empty, those bound to that officer; never a nil slice. It
// returns EUNAVAILABLE if the database cannot be reached.
func (db *DB) FindRecorders(ctx context.Context, officer string) ([]*evidock.Recorder, error) {
	query, args := "SELECT "+recorderColumns+" FROM recorders", []any{}
	if officer != "" {
		query, args = query+" WHERE officer_no = $1", append(args, officer)
	}
	rows, err := db.pool.Query(ctx, query+" ORDER BY device_serial", args...)
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
func scanRecorder(row pgx.Row) (*evidock.Recorder, error) {
	var (
		r      evidock.Recorder
		docked time.Time
	)
	if err := row.Scan(&r.DeviceSerial, &r.Manufacturer, &r.Model, &r.Firmware,
		&r.OfficerNo, &r.OfficerName, &r.UnitNo, &r.UnitName,
		&docked, &r.LastStationID, &r.BatteryPercent, &r.StorageUsed, &r.StorageTotal,
		&r.ClockOffsetMS, &r.DriftPerDayMS, &r.ClockDrifted); err != nil {
		return nil, err
	}
	r.LastDockedAt = fromDB(docked)
	return &r, nil
}
