-- 005: every LLM call's token usage, also of calls that made no experiment
-- (failed or refused proposals, condensing old history into lessons), so
-- budgets, status and the digest count what was really spent, across
-- restarts. Experiments keep their own token columns (what their proposal
-- cost); this table is the total.
CREATE TABLE llm_calls (
	id                INTEGER PRIMARY KEY,
	run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	at                DATETIME NOT NULL,
	purpose           TEXT NOT NULL,
	number            INTEGER NOT NULL DEFAULT 0,
	prompt_tokens     INTEGER NOT NULL CHECK (prompt_tokens >= 0),
	completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
	failed            BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX llm_calls_run ON llm_calls (run_id, at);
CREATE INDEX llm_calls_at ON llm_calls (at);
-- Runs recorded before this table: their experiments' proposals are what is known.
INSERT INTO llm_calls (run_id, at, purpose, number, prompt_tokens, completion_tokens)
	SELECT run_id, started_at, 'propose', number, prompt_tokens, completion_tokens
	FROM experiments WHERE prompt_tokens > 0 OR completion_tokens > 0;
