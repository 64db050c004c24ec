-- 007: a program.md edit records the version (a short hash of the text) it
-- was made against, so an edit made against a text that changed since (an
-- edit applied or queued in between) is refused instead of silently undoing
-- that change. Appends leave it empty: they apply on top of whatever is there.
ALTER TABLE program_edits ADD COLUMN base_version TEXT NOT NULL DEFAULT '';
