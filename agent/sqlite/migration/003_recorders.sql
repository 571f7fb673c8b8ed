-- What recorders said over the firmware bridge: clock offset and the
-- officer's important marks, stamped on their recordings.
ALTER TABLE recordings ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recordings ADD COLUMN important INTEGER NOT NULL DEFAULT 0;

CREATE TABLE recorders (
	device_serial   TEXT PRIMARY KEY,
	docked_at       TEXT    NOT NULL,
	clock_offset_ms INTEGER NOT NULL,
	synced_at       TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE recorder_marks (
	device_serial TEXT NOT NULL,
	file_name     TEXT NOT NULL,
	PRIMARY KEY (device_serial, file_name)
);
