package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestLLMTokensSumByRunAndWindow(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	r1, r2 := mustRun(t, db, "mar20"), mustRun(t, db, "mar21")
	t0 := c.Peek().Add(time.Hour).UTC()
	calls := []research.LLMCall{
		{RunID: r1.ID, At: t0, Purpose: "propose", Number: 2, PromptTokens: 1000, CompletionTokens: 100},
		{RunID: r1.ID, At: t0.Add(time.Minute), Purpose: "propose", Number: 3, PromptTokens: 205_000, CompletionTokens: 900, Failed: true},
		{RunID: r1.ID, At: t0.Add(2 * time.Minute), Purpose: "condense", PromptTokens: 30_000, CompletionTokens: 400, Failed: true},
		{RunID: r2.ID, At: t0.Add(3 * time.Minute), Purpose: "propose", Number: 1, PromptTokens: 7, CompletionTokens: 1},
	}
	for _, call := range calls {
		if err := db.AddLLMCall(ctx, call); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		run      int64
		from, to time.Time
		p, c     int64
	}{
		{"whole run, failed calls included", r1.ID, time.Time{}, time.Time{}, 236_000, 1400},
		{"every run", 0, time.Time{}, time.Time{}, 236_007, 1401},
		{"window [from, to)", r1.ID, t0.Add(time.Minute), t0.Add(2 * time.Minute), 205_000, 900},
		{"open end", 0, t0.Add(2 * time.Minute), time.Time{}, 30_007, 401},
		{"nothing in window", r1.ID, t0.Add(time.Hour), time.Time{}, 0, 0},
	} {
		p, cpl, err := db.LLMTokens(ctx, tc.run, tc.from, tc.to)
		if err != nil || p != tc.p || cpl != tc.c {
			t.Errorf("%s: LLMTokens = %d, %d, %v; want %d, %d", tc.name, p, cpl, err, tc.p, tc.c)
		}
	}
}

func TestAddLLMCallRefusesBadInput(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	r := mustRun(t, db, "mar20")
	for _, bad := range []research.LLMCall{
		{Purpose: "propose", PromptTokens: 1},
		{RunID: r.ID, PromptTokens: 1},
		{RunID: r.ID, Purpose: "propose", PromptTokens: -1},
		{RunID: r.ID + 100, Purpose: "propose", PromptTokens: 1}, // no such run
	} {
		if err := db.AddLLMCall(ctx, bad); err == nil {
			t.Errorf("AddLLMCall(%+v) succeeded", bad)
		}
	}
	if p, _, err := db.LLMTokens(ctx, 0, time.Time{}, time.Time{}); err != nil || p != 0 {
		t.Errorf("refused calls were stored: %d prompt tokens, %v", p, err)
	}
}

// A store written before llm_calls existed gets its experiments' proposal
// tokens as calls, so totals do not drop to zero after the upgrade.
func TestLLMCallsMigrationBackfillsFromExperiments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autoresearch.db")
	c := newClock()
	db := openAt(t, path, c)
	ctx := context.Background()
	r := mustRun(t, db, "mar20")
	e := mustStart(t, db, r.ID)
	e.Status, e.PromptTokens, e.CompletionTokens = research.StatusDiscard, 4000, 300
	if err := db.FinishExperiment(ctx, e, r); err != nil {
		t.Fatal(err)
	}
	// Undo migration 005 as if the store predated it.
	for _, q := range []string{`DROP TABLE llm_calls`, `DELETE FROM migrations WHERE name LIKE '%005_llm_calls.sql'`} {
		if _, err := db.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = openAt(t, path, c)
	p, cpl, err := db.LLMTokens(ctx, r.ID, time.Time{}, time.Time{})
	if err != nil || p != 4000 || cpl != 300 {
		t.Errorf("after the upgrade LLMTokens = %d, %d, %v; want the experiment's 4000, 300", p, cpl, err)
	}
}
