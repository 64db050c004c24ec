-- 001: the initial schema. Times are UTC text written by the driver with
-- _time_format=sqlite ("2006-01-02 15:04:05.999999999+00:00"); NULL means unset.

CREATE TABLE runs (
	id           INTEGER PRIMARY KEY,
	tag          TEXT NOT NULL UNIQUE,
	branch       TEXT NOT NULL DEFAULT '',
	repo_dir     TEXT NOT NULL DEFAULT '',
	base_commit  TEXT NOT NULL DEFAULT '',
	best_commit  TEXT NOT NULL DEFAULT '',
	best_val_bpb REAL NOT NULL DEFAULT 0,
	state        TEXT NOT NULL DEFAULT 'active',
	started_by   TEXT NOT NULL DEFAULT '',
	proposer     TEXT NOT NULL DEFAULT '',
	model        TEXT NOT NULL DEFAULT '',
	gpu          TEXT NOT NULL DEFAULT '',
	noise        REAL NOT NULL DEFAULT 0,
	created_at   DATETIME NOT NULL,
	updated_at   DATETIME NOT NULL
);

CREATE TABLE experiments (
	id                    INTEGER PRIMARY KEY,
	run_id                INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	number                INTEGER NOT NULL,
	attempt               INTEGER NOT NULL DEFAULT 0,
	parent_commit         TEXT NOT NULL DEFAULT '',
	commit_hash           TEXT NOT NULL DEFAULT '',
	description           TEXT NOT NULL DEFAULT '',
	status                TEXT NOT NULL,
	reason                TEXT NOT NULL DEFAULT '',

	val_bpb               REAL NOT NULL DEFAULT 0,
	training_seconds      REAL NOT NULL DEFAULT 0,
	summary_total_seconds REAL NOT NULL DEFAULT 0,
	peak_vram_mb          REAL NOT NULL DEFAULT 0,
	mfu_percent           REAL NOT NULL DEFAULT 0,
	total_tokens_m        REAL NOT NULL DEFAULT 0,
	num_steps             INTEGER NOT NULL DEFAULT 0,
	num_params_m          REAL NOT NULL DEFAULT 0,
	depth                 INTEGER NOT NULL DEFAULT 0,

	diff                  TEXT NOT NULL DEFAULT '',
	diff_stat             TEXT NOT NULL DEFAULT '',
	log_path              TEXT NOT NULL DEFAULT '',
	log_tail              TEXT NOT NULL DEFAULT '',
	gpu                   TEXT NOT NULL DEFAULT '',

	propose_seconds       REAL NOT NULL DEFAULT 0,
	train_seconds         REAL NOT NULL DEFAULT 0,
	total_seconds         REAL NOT NULL DEFAULT 0,
	prompt_tokens         INTEGER NOT NULL DEFAULT 0,
	completion_tokens     INTEGER NOT NULL DEFAULT 0,

	tsv_written           INTEGER NOT NULL DEFAULT 0,
	started_at            DATETIME NOT NULL,
	finished_at           DATETIME,

	UNIQUE (run_id, number)
);
CREATE INDEX experiments_status ON experiments (status);
CREATE INDEX experiments_finished_at ON experiments (finished_at);

CREATE TABLE ideas (
	id          INTEGER PRIMARY KEY,
	text        TEXT NOT NULL,
	author      TEXT NOT NULL DEFAULT '',
	source      TEXT NOT NULL DEFAULT '',
	thread_ts   TEXT NOT NULL DEFAULT '',
	message_ts  TEXT NOT NULL DEFAULT '',
	from_exp    INTEGER NOT NULL DEFAULT 0,
	consumed_by INTEGER REFERENCES experiments (id) ON DELETE SET NULL,
	unpinned    INTEGER NOT NULL DEFAULT 0,
	created_at  DATETIME NOT NULL
);
CREATE INDEX ideas_consumed_by ON ideas (consumed_by);
CREATE INDEX ideas_message_ts ON ideas (message_ts) WHERE message_ts <> '';

CREATE TABLE program_edits (
	id          INTEGER PRIMARY KEY,
	run_id      INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	author      TEXT NOT NULL DEFAULT '',
	kind        TEXT NOT NULL,
	text        TEXT NOT NULL DEFAULT '',
	commit_hash TEXT NOT NULL DEFAULT '',
	diff        TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	created_at  DATETIME NOT NULL,
	applied_at  DATETIME
);

CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	key        TEXT NOT NULL DEFAULT '',
	kind       TEXT NOT NULL DEFAULT '',
	channel    TEXT NOT NULL DEFAULT '',
	thread_key TEXT NOT NULL DEFAULT '',
	payload    BLOB NOT NULL DEFAULT x'',
	ts         TEXT NOT NULL DEFAULT '',
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	next_try   DATETIME NOT NULL,
	created_at DATETIME NOT NULL,
	sent_at    DATETIME
);
CREATE INDEX outbox_pending ON outbox (next_try) WHERE sent_at IS NULL;
CREATE INDEX outbox_key ON outbox (key) WHERE key <> '';

CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at DATETIME NOT NULL
);
