-- 009: what each experiment was for is stored, set by the loop when the
-- experiment starts, instead of being read back from its description
-- (research.Kind). Rows written before this migration get the kind the
-- descriptions implied: the loop gave baselines, their repeats,
-- confirmations and retries fixed descriptions, and crash fixes an attempt
-- number. GLOB, unlike LIKE, is case-sensitive, as the old reading was.
ALTER TABLE experiments ADD COLUMN kind TEXT NOT NULL DEFAULT 'proposal'
	CHECK (kind IN ('baseline', 'baseline_repeat', 'proposal', 'confirmation', 'retry', 'fix'));

UPDATE experiments SET kind = CASE
	WHEN description = 'baseline' THEN 'baseline'
	WHEN description GLOB 'baseline (repeat ?*' THEN 'baseline_repeat'
	WHEN description GLOB 'confirm #?*' THEN 'confirmation'
	WHEN description GLOB 'retry #?*' OR description GLOB 'retry of the improvement ?*' THEN 'retry'
	WHEN attempt > 0 THEN 'fix'
	ELSE 'proposal'
END;
