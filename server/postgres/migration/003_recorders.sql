-- 003: what docking stations report about recorders (issue 4); the same
-- meaning as server/sqlite/migration/003_recorders.sql.
--
-- recorders holds each recorder's latest report: a view of its current
-- state, which every report replaces. recorder_docks keeps every report ever
-- made, so that nothing a station read from a recorder is lost; like clips,
-- it is only ever added to.

CREATE TABLE recorders (
	device_serial       text PRIMARY KEY CHECK (length(device_serial) = 7),
	manufacturer        text NOT NULL,
	model               text NOT NULL,
	firmware            text NOT NULL,
	officer_no          text NOT NULL, -- the device's own binding; '' if it has none
	officer_name        text NOT NULL,
	unit_no             text NOT NULL,
	unit_name           text NOT NULL,
	last_docked_at      timestamptz NOT NULL,
	-- NULL for a report that came through no station.
	last_station_id     text REFERENCES stations (id),
	battery_percent     integer NOT NULL CHECK (battery_percent BETWEEN -1 AND 100),
	storage_used_bytes  bigint NOT NULL CHECK (storage_used_bytes >= 0),
	storage_total_bytes bigint NOT NULL CHECK (storage_total_bytes >= 0),
	clock_offset_ms     bigint NOT NULL,
	drift_per_day_ms    bigint NOT NULL,
	clock_drifted       boolean NOT NULL
);

CREATE INDEX recorders_officer ON recorders (officer_no, device_serial);

CREATE TABLE recorder_docks (
	id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device_serial       text NOT NULL REFERENCES recorders (device_serial),
	manufacturer        text NOT NULL,
	model               text NOT NULL,
	firmware            text NOT NULL,
	officer_no          text NOT NULL,
	officer_name        text NOT NULL,
	unit_no             text NOT NULL,
	unit_name           text NOT NULL,
	docked_at           timestamptz NOT NULL,
	station_id          text REFERENCES stations (id),
	battery_percent     integer NOT NULL CHECK (battery_percent BETWEEN -1 AND 100),
	storage_used_bytes  bigint NOT NULL CHECK (storage_used_bytes >= 0),
	storage_total_bytes bigint NOT NULL CHECK (storage_total_bytes >= 0),
	clock_offset_ms     bigint NOT NULL,
	drift_per_day_ms    bigint NOT NULL,
	clock_drifted       boolean NOT NULL,
	-- When the server received the report, by the database's clock.
	reported_at         timestamptz NOT NULL DEFAULT statement_timestamp()
);

CREATE INDEX recorder_docks_recorder ON recorder_docks (device_serial, docked_at);

-- Per statement, as for clips, so that an UPDATE or DELETE matching nothing
-- and a TRUNCATE are refused too.
CREATE FUNCTION recorder_docks_never_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		RAISE EXCEPTION 'dock reports are never edited' USING ERRCODE = 'restrict_violation';
	END IF;
	RAISE EXCEPTION 'dock reports are never deleted' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER recorder_docks_never_updated BEFORE UPDATE ON recorder_docks
	FOR EACH STATEMENT EXECUTE FUNCTION recorder_docks_never_changed();

CREATE TRIGGER recorder_docks_never_deleted BEFORE DELETE ON recorder_docks
	FOR EACH STATEMENT EXECUTE FUNCTION recorder_docks_never_changed();

CREATE TRIGGER recorder_docks_never_truncated BEFORE TRUNCATE ON recorder_docks
	FOR EACH STATEMENT EXECUTE FUNCTION recorder_docks_never_changed();
