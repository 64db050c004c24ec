-- GPU telemetry: one row per experiment that was watched while it trained.
CREATE TABLE experiment_telemetry (
	experiment_id    INTEGER PRIMARY KEY REFERENCES experiments (id) ON DELETE CASCADE,
	samples          INTEGER NOT NULL DEFAULT 0,
	mean_util_pct    REAL NOT NULL DEFAULT 0,
	peak_memory_mb   REAL NOT NULL DEFAULT 0,
	max_temp_c       REAL NOT NULL DEFAULT 0,
	mean_power_w     REAL NOT NULL DEFAULT 0,
	max_sm_clock_mhz REAL NOT NULL DEFAULT 0,
	throttled        INTEGER NOT NULL DEFAULT 0,
	throttle_reasons TEXT NOT NULL DEFAULT '', -- comma-separated: hw_slowdown,sw_thermal,...
	shared           INTEGER NOT NULL DEFAULT 0,
	shared_by        TEXT NOT NULL DEFAULT '', -- newline-separated: "pid 4242 (python3)"
	recorded_at      DATETIME NOT NULL
);
