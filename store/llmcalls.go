package store

import (
	"context"
	"fmt"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// AddLLMCall records what one LLM call (or one proposal's conversation)
// spent. At defaults to Now().
func (db *DB) AddLLMCall(ctx context.Context, c research.LLMCall) error {
	switch {
	case c.RunID == 0:
		return fmt.Errorf("store: add LLM call: no run")
	case c.Purpose == "":
		return fmt.Errorf("store: add LLM call: no purpose")
	case c.PromptTokens < 0 || c.CompletionTokens < 0:
		return fmt.Errorf("store: add LLM call: negative token count")
	}
	if c.At.IsZero() {
		c.At = db.now()
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO llm_calls
		(run_id, at, purpose, number, prompt_tokens, completion_tokens, failed) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.RunID, c.At.UTC(), c.Purpose, c.Number, c.PromptTokens, c.CompletionTokens, c.Failed)
	if err != nil {
		return fmt.Errorf("store: add LLM call for run %d: %w", c.RunID, err)
	}
	return nil
}

// LLMTokens sums the tokens of the LLM calls of run runID (0: of every run)
// made in [from, to); a zero from or to leaves that end open.
func (db *DB) LLMTokens(ctx context.Context, runID int64, from, to time.Time) (prompt, completion int64, err error) {
	q := `SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) FROM llm_calls WHERE 1 = 1`
	var args []any
	if runID != 0 {
		q += ` AND run_id = ?`
		args = append(args, runID)
	}
	if !from.IsZero() {
		q += ` AND at >= ?`
		args = append(args, from.UTC())
	}
	if !to.IsZero() {
		q += ` AND at < ?`
		args = append(args, to.UTC())
	}
	if err := db.db.QueryRowContext(ctx, q, args...).Scan(&prompt, &completion); err != nil {
		return 0, 0, fmt.Errorf("store: LLM tokens: %w", err)
	}
	return prompt, completion, nil
}
