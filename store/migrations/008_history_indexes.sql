-- 008: the repeat check looks up the experiments of a run made on one
-- parent commit (ExperimentDiffsOn); without this index every proposal
-- scanned the run's whole history. Queries by number use UNIQUE (run_id, number).
CREATE INDEX IF NOT EXISTS experiments_run_parent ON experiments (run_id, parent_commit);
