-- 006: what the harness noticed about an experiment beyond its result, e.g.
-- untracked or ignored files (a .venv, notes) that its training deleted or
-- rewrote. Empty when there is nothing to say.
ALTER TABLE experiments ADD COLUMN notes TEXT NOT NULL DEFAULT '';
