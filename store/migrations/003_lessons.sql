-- 003: lessons. The model condenses a range of a run's older experiments
-- (from_num..to_num, experiment numbers within the run) into what was
-- learned, so the prompt stays within its budget on long runs. A later lesson
-- whose range contains an earlier one's supersedes it (a consolidation); both
-- are kept.
CREATE TABLE lessons (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	from_num   INTEGER NOT NULL CHECK (from_num >= 1),
	to_num     INTEGER NOT NULL CHECK (to_num >= from_num),
	text       TEXT NOT NULL,
	created_at DATETIME NOT NULL
);
CREATE INDEX lessons_run ON lessons (run_id, id);
