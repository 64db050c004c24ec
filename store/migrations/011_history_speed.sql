-- 011: the lean reads of a run's experiments (ExperimentsBrief: resume,
-- status, results, digest) are served from this covering index instead of
-- the table. In the table every column stored after the diff and the log
-- tail (gpu, the timings, the tokens, started_at, finished_at, notes, kind) sits
-- behind those kilobytes in overflow pages, so reading it walked them for
-- every row: 10,000 experiments took ~0.3 s of page reads. The index holds
-- every column but those two, in (run_id, number) order.
CREATE INDEX IF NOT EXISTS experiments_lean ON experiments (run_id, number,
	id, attempt, parent_commit, commit_hash, description, status, reason,
	val_bpb, training_seconds, summary_total_seconds, peak_vram_mb, mfu_percent, total_tokens_m,
	num_steps, num_params_m, depth, diff_stat, log_path, gpu,
	propose_seconds, train_seconds, total_seconds, prompt_tokens, completion_tokens,
	tsv_written, started_at, finished_at, notes, kind);
