package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// TestHistoryQueries: the lean queries give the same rows as Experiments
// (less the diffs and log tails), the last n in order, and the rows made on
// one parent; ImportExperiments writes rows as given; the repeat check's
// lookup is served by an index.
func TestHistoryQueries(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "hist")
	other := mustRun(t, db, "other")
	finished := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	var rows []research.Experiment
	for n := 1; n <= 12; n++ {
		parent := "p1"
		if n > 6 {
			parent = "p2"
		}
		rows = append(rows, research.Experiment{Number: n, Kind: research.KindProposal, Attempt: n % 3 / 2, ParentCommit: parent, Commit: fmt.Sprintf("c%02d", n),
			Description: fmt.Sprintf("change %d", n), Status: research.StatusDiscard, Reason: "no improvement",
			Summary: research.Summary{ValBPB: 1 + float64(n)/1000, NumSteps: int64(n)}, Diff: strings.Repeat("+x\n", n), DiffStat: "train.py | 1 +",
			LogPath: "/logs/x.log", LogTail: strings.Repeat("step\n", n), GPU: "gpu0", TSVWritten: true,
			StartedAt: finished.Add(-time.Minute), FinishedAt: finished})
	}
	if err := db.ImportExperiments(ctx, run.ID, rows); err != nil {
		t.Fatal(err)
	}
	if err := db.ImportExperiments(ctx, other.ID, rows[:2]); err != nil {
		t.Fatal(err)
	}
	if err := db.ImportExperiments(ctx, run.ID, rows[:1]); err == nil {
		t.Error("importing a number the run already has was accepted")
	}
	full, err := db.Experiments(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != len(rows) || full[4].Diff != rows[4].Diff || full[4].LogTail != rows[4].LogTail ||
		full[4].Summary.ValBPB != rows[4].Summary.ValBPB || !full[4].FinishedAt.Equal(finished) || !full[4].TSVWritten {
		t.Fatalf("imported rows read back differently: %+v", full[4])
	}
	lean, err := db.ExperimentsBrief(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		want := full[i]
		want.Diff, want.LogTail = "", ""
		if !reflect.DeepEqual(lean[i], want) {
			t.Fatalf("brief row %d:\n got %+v\nwant %+v", i, lean[i], want)
		}
	}
	last, err := db.LastExperiments(ctx, run.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 3 || last[0].Number != 10 || last[2].Number != 12 || last[2].Diff != rows[11].Diff {
		t.Errorf("last 3: %v", numbers(last))
	}
	if all, _ := db.LastExperiments(ctx, run.ID, 0); len(all) != len(rows) {
		t.Errorf("LastExperiments(0) gave %d rows, want all %d", len(all), len(rows))
	}
	diffs, err := db.ExperimentDiffsOn(ctx, run.ID, "p2")
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 6 || diffs[0].Number != 7 || diffs[0].Diff != rows[6].Diff || diffs[0].Description != "change 7" ||
		diffs[0].Attempt != rows[6].Attempt || diffs[0].Status != research.StatusDiscard {
		t.Errorf("diffs on p2: %+v", diffs)
	}
	if ids, err := db.RunsFinishedBetween(ctx, finished, finished.Add(time.Second)); err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{run.ID, other.ID}) {
		t.Errorf("runs finished then: %v %v", ids, err)
	}
	if ids, _ := db.RunsFinishedBetween(ctx, finished.Add(time.Second), finished.Add(time.Hour)); len(ids) != 0 {
		t.Errorf("runs finished later: %v", ids)
	}
	// The queries use their indexes: the lookup by parent its own, the
	// lean rows the covering index (never the table's overflow pages).
	for _, q := range []struct{ query, index string }{
		{diffsOnQuery, "INDEX experiments_run_parent"},
		{briefQuery, "COVERING INDEX experiments_lean"},
	} {
		if plan := queryPlan(t, db, q.query, 1, "p2"); !strings.Contains(plan, q.index) {
			t.Errorf("%s\ndoes not use %s:\n%s", q.query, q.index, plan)
		}
	}
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of query, one step a line.
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	n := strings.Count(query, "?")
	rows, err := db.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args[:n]...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	return plan
}

func numbers(es []research.Experiment) []int {
	var out []int
	for _, e := range es {
		out = append(out, e.Number)
	}
	return out
}
