-- 003: what docking stations report about recorders (issue 4).
--
-- recorders holds each recorder's latest report: a view of its current
-- state, which every report replaces. recorder_docks keeps every report ever
-- made, so that nothing a station read from a recorder is lost; like clips,
-- it is only ever added to.

CREATE TABLE recorders (
	device_serial       TEXT PRIMARY KEY CHECK (length(device_serial) = 7),
	manufacturer        TEXT NOT NULL,
	model               TEXT NOT NULL,
	firmware            TEXT NOT NULL,
	officer_no          TEXT NOT NULL, -- the device's own binding; '' if it has none
	officer_name        TEXT NOT NULL,
	unit_no             TEXT NOT NULL,
	unit_name           TEXT NOT NULL,
	last_docked_at      TEXT NOT NULL,
	-- NULL for a report that came through no station.
	last_station_id     TEXT REFERENCES stations (id),
	battery_percent     INTEGER NOT NULL CHECK (battery_percent BETWEEN -1 AND 100),
	storage_used_bytes  INTEGER NOT NULL CHECK (storage_used_bytes >= 0),
	storage_total_bytes INTEGER NOT NULL CHECK (storage_total_bytes >= 0),
	clock_offset_ms     INTEGER NOT NULL,
	drift_per_day_ms    INTEGER NOT NULL,
	clock_drifted       INTEGER NOT NULL CHECK (clock_drifted IN (0, 1))
) STRICT;

CREATE INDEX recorders_officer ON recorders (officer_no, device_serial);

CREATE TABLE recorder_docks (
	id                  INTEGER PRIMARY KEY,
	device_serial       TEXT NOT NULL REFERENCES recorders (device_serial),
	manufacturer        TEXT NOT NULL,
	model               TEXT NOT NULL,
	firmware            TEXT NOT NULL,
	officer_no          TEXT NOT NULL,
	officer_name        TEXT NOT NULL,
	unit_no             TEXT NOT NULL,
	unit_name           TEXT NOT NULL,
	docked_at           TEXT NOT NULL,
	station_id          TEXT REFERENCES stations (id),
	battery_percent     INTEGER NOT NULL CHECK (battery_percent BETWEEN -1 AND 100),
	storage_used_bytes  INTEGER NOT NULL CHECK (storage_used_bytes >= 0),
	storage_total_bytes INTEGER NOT NULL CHECK (storage_total_bytes >= 0),
	clock_offset_ms     INTEGER NOT NULL,
	drift_per_day_ms    INTEGER NOT NULL,
	clock_drifted       INTEGER NOT NULL CHECK (clock_drifted IN (0, 1)),
	-- When the server received the report, by the server's clock.
	reported_at         TEXT NOT NULL
) STRICT;

CREATE INDEX recorder_docks_recorder ON recorder_docks (device_serial, docked_at);

CREATE TRIGGER recorder_docks_never_updated BEFORE UPDATE ON recorder_docks
BEGIN
	SELECT RAISE(ABORT, 'dock reports are never edited');
END;

CREATE TRIGGER recorder_docks_never_deleted BEFORE DELETE ON recorder_docks
BEGIN
	SELECT RAISE(ABORT, 'dock reports are never deleted');
END;
