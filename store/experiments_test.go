package store

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestStartExperimentNumbersPerRun(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	a, b := mustRun(t, db, "a"), mustRun(t, db, "b")
	for i := 1; i <= 3; i++ {
		e, err := db.StartExperiment(ctx, research.Experiment{RunID: a.ID, Kind: research.KindProposal, Status: research.StatusKeep, Description: "d",
			FinishedAt: time.Now(), TSVWritten: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.Number != i || e.ID == 0 {
			t.Errorf("run a experiment %d: Number=%d ID=%d", i, e.Number, e.ID)
		}
		if e.Status != research.StatusRunning || !e.FinishedAt.IsZero() || e.TSVWritten {
			t.Errorf("start did not reset status/finish/tsv: %+v", e)
		}
		sameTime(t, "StartedAt", e.StartedAt, c.Peek())
		got, err := db.ExperimentByID(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("ExperimentByID = %+v\nwant %+v", got, e)
		}
	}
	if e := mustStart(t, db, b.ID); e.Number != 1 {
		t.Errorf("first experiment of run b has Number %d", e.Number)
	}
	list, err := db.Experiments(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("Experiments(a) has %d rows", len(list))
	}
	for i, e := range list {
		if e.Number != i+1 || e.RunID != a.ID {
			t.Errorf("Experiments(a)[%d] = #%d of run %d", i, e.Number, e.RunID)
		}
	}
	e2, err := db.ExperimentByNumber(ctx, a.ID, 2)
	if err != nil || e2.ID != list[1].ID {
		t.Errorf("ExperimentByNumber(a,2) = %d, %v; want %d", e2.ID, err, list[1].ID)
	}
	if _, err := db.ExperimentByNumber(ctx, b.ID, 2); !errors.Is(err, research.ErrNotFound) {
		t.Errorf("ExperimentByNumber(b,2): %v", err)
	}
}

func fullExperiment(base research.Experiment) research.Experiment {
	e := base
	e.Attempt = 2
	e.ParentCommit = "parent"
	e.Commit = "0123456789abcdef"
	e.Description = "increase lr"
	e.Status = research.StatusKeep
	e.Reason = "improved by 0.0012"
	e.Summary = research.Summary{ValBPB: 0.997900, TrainingSeconds: 300.1, TotalSeconds: 325.9, PeakVRAMMB: 45060.2,
		MFUPercent: 39.8, TotalTokensM: 499.6, NumSteps: 953, NumParamsM: 50.3, Depth: 8}
	e.Diff = "--- a/train.py\n+++ b/train.py\n@@\n-lr=1\n+lr=2\n"
	e.DiffStat = " train.py | 2 +-"
	e.LogPath = "/logs/3.log"
	e.Notes = "train.py deleted .venv/ (3 paths)"
	e.LogTail = "step 953\n---\nval_bpb: 0.9979"
	e.GPU = "0"
	e.ProposeSeconds, e.TrainSeconds, e.TotalSeconds = 12.5, 301, 330
	e.PromptTokens, e.CompletionTokens = 12000, 800
	return e
}

func TestFinishExperimentWritesEverythingAndTheRun(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	e := mustStart(t, db, run.ID)

	e = fullExperiment(e)
	run.BestCommit, run.BestValBPB = e.Commit, e.Summary.ValBPB
	if err := db.FinishExperiment(ctx, e, run); err != nil {
		t.Fatal(err)
	}
	finishedAt := c.Peek() // FinishedAt = Now() (the run's UpdatedAt is the next tick)
	got, err := db.ExperimentByID(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameTime(t, "FinishedAt", got.FinishedAt, finishedAt.Add(-time.Second))
	e.FinishedAt = got.FinishedAt
	if !reflect.DeepEqual(got, e) {
		t.Errorf("finished experiment = %+v\nwant %+v", got, e)
	}
	gotRun, err := db.RunByID(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gotRun.BestCommit != e.Commit || gotRun.BestValBPB != e.Summary.ValBPB {
		t.Errorf("run not updated: %+v", gotRun)
	}
	if running, _ := db.RunningExperiments(ctx, run.ID); len(running) != 0 {
		t.Errorf("RunningExperiments after finish = %d", len(running))
	}

	// An explicit FinishedAt is kept.
	e2 := mustStart(t, db, run.ID)
	when := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	e2.Status, e2.FinishedAt = research.StatusCrash, when
	if err := db.FinishExperiment(ctx, e2, run); err != nil {
		t.Fatal(err)
	}
	got2, _ := db.ExperimentByID(ctx, e2.ID)
	sameTime(t, "explicit FinishedAt", got2.FinishedAt, when)
}

func TestFinishExperimentIsAtomic(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	e := mustStart(t, db, run.ID)
	before, _ := db.ExperimentByID(ctx, e.ID)

	// The run update fails (no such run): the experiment must stay untouched.
	bad := run
	bad.ID = 999
	err := db.FinishExperiment(ctx, fullExperiment(e), bad)
	if !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("FinishExperiment with unknown run: %v", err)
	}
	after, _ := db.ExperimentByID(ctx, e.ID)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("experiment changed by a failed FinishExperiment:\n%+v\nwas %+v", after, before)
	}

	// The experiment update fails: the run must stay untouched.
	runBefore, _ := db.RunByID(ctx, run.ID)
	changed := run
	changed.BestCommit = "should-not-stick"
	ghost := fullExperiment(e)
	ghost.ID = 999
	if err := db.FinishExperiment(ctx, ghost, changed); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("FinishExperiment with unknown experiment: %v", err)
	}
	runAfter, _ := db.RunByID(ctx, run.ID)
	if !reflect.DeepEqual(runAfter, runBefore) {
		t.Errorf("run changed by a failed FinishExperiment: %+v", runAfter)
	}
}

func TestUpdateExperimentAndTSV(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	e := mustStart(t, db, run.ID)

	e.Commit, e.Diff = "c1", "diff"
	if err := db.UpdateExperiment(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, _ := db.ExperimentByID(ctx, e.ID)
	if got.Commit != "c1" || got.Diff != "diff" || got.Status != research.StatusRunning || !got.FinishedAt.IsZero() {
		t.Errorf("after UpdateExperiment: %+v", got)
	}
	sameTime(t, "StartedAt kept", got.StartedAt, e.StartedAt)
	gotRun, _ := db.RunByID(ctx, run.ID)
	if !gotRun.UpdatedAt.Equal(run.UpdatedAt) {
		t.Error("UpdateExperiment touched the run")
	}

	if err := db.MarkTSVWritten(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ExperimentByID(ctx, e.ID); !got.TSVWritten {
		t.Fatal("MarkTSVWritten did not set TSVWritten")
	}
	// A stale copy (TSVWritten false) must not clear the flag.
	stale := e
	stale.TSVWritten = false
	stale.StartedAt = time.Time{}
	if err := db.UpdateExperiment(ctx, stale); err != nil {
		t.Fatal(err)
	}
	got, _ = db.ExperimentByID(ctx, e.ID)
	if !got.TSVWritten {
		t.Error("UpdateExperiment cleared TSVWritten")
	}
	sameTime(t, "StartedAt with zero update", got.StartedAt, e.StartedAt)
}

func TestNaNAndInfAreStoredAsZero(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	e := mustStart(t, db, run.ID)
	e.Status = research.StatusCrash
	e.Summary.ValBPB = math.NaN()
	e.Summary.MFUPercent = math.Inf(1)
	e.TrainSeconds = math.NaN()
	run.BestValBPB = math.NaN()
	run.Noise = math.Inf(-1)
	if err := db.FinishExperiment(ctx, e, run); err != nil {
		t.Fatal(err)
	}
	got, err := db.ExperimentByID(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.ValBPB != 0 || got.Summary.MFUPercent != 0 || got.TrainSeconds != 0 {
		t.Errorf("NaN/Inf read back as %v %v %v", got.Summary.ValBPB, got.Summary.MFUPercent, got.TrainSeconds)
	}
	gotRun, _ := db.RunByID(ctx, run.ID)
	if gotRun.BestValBPB != 0 || gotRun.Noise != 0 {
		t.Errorf("run NaN/Inf read back as %v %v", gotRun.BestValBPB, gotRun.Noise)
	}
	var nulls int
	db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM experiments WHERE val_bpb IS NULL OR typeof(val_bpb) <> 'real'`).Scan(&nulls)
	if nulls != 0 {
		t.Errorf("%d experiments with a non-real val_bpb", nulls)
	}
	n, err := db.CreateRun(ctx, research.Run{Tag: "nan", BestValBPB: math.NaN()})
	if err != nil || n.BestValBPB != 0 {
		t.Errorf("CreateRun NaN: %v %v", n.BestValBPB, err)
	}
}

func TestRunningExperiments(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	a, b := mustRun(t, db, "a"), mustRun(t, db, "b")
	a1, a2, b1 := mustStart(t, db, a.ID), mustStart(t, db, a.ID), mustStart(t, db, b.ID)
	a1.Status = research.StatusDiscard
	if err := db.FinishExperiment(ctx, a1, a); err != nil {
		t.Fatal(err)
	}
	ra, err := db.RunningExperiments(ctx, a.ID)
	if err != nil || len(ra) != 1 || ra[0].ID != a2.ID {
		t.Errorf("RunningExperiments(a) = %v, %v", ids(ra), err)
	}
	all, err := db.RunningExperiments(ctx, 0)
	if err != nil || !reflect.DeepEqual(ids(all), []int64{a2.ID, b1.ID}) {
		t.Errorf("RunningExperiments(0) = %v, %v", ids(all), err)
	}
}

func ids(list []research.Experiment) []int64 {
	var out []int64
	for _, e := range list {
		out = append(out, e.ID)
	}
	return out
}

func TestExperimentsFinishedBetween(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	a, b := mustRun(t, db, "a"), mustRun(t, db, "b")
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	// Finished out of ID order, in two runs, with fractional seconds that
	// would sort wrongly as naive text if the format were inconsistent.
	plan := []struct {
		run    research.Run
		finish time.Time
	}{
		{a, base.Add(3 * time.Hour)},
		{b, base.Add(1*time.Hour + 500*time.Millisecond)},
		{a, base.Add(1*time.Hour + 50*time.Millisecond)},
		{b, base.Add(-time.Second)},   // before the window
		{a, base.Add(24 * time.Hour)}, // exactly at the end: excluded
		{b, base},                     // exactly at the start: included
	}
	var exps []research.Experiment
	for _, p := range plan {
		e := mustStart(t, db, p.run.ID)
		e.Status, e.FinishedAt = research.StatusDiscard, p.finish
		if err := db.FinishExperiment(ctx, e, p.run); err != nil {
			t.Fatal(err)
		}
		exps = append(exps, e)
	}
	mustStart(t, db, a.ID) // still running: never listed

	got, err := db.ExperimentsFinishedBetween(ctx, base, base.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{exps[5].ID, exps[2].ID, exps[1].ID, exps[0].ID}
	if !reflect.DeepEqual(ids(got), want) {
		t.Errorf("ExperimentsFinishedBetween = %v, want %v", ids(got), want)
	}
	// Bounds given in another zone mean the same instants.
	cet := time.FixedZone("CET", 3600)
	got, _ = db.ExperimentsFinishedBetween(ctx, base.In(cet), base.Add(2*time.Hour).In(cet))
	if !reflect.DeepEqual(ids(got), []int64{exps[5].ID, exps[2].ID, exps[1].ID}) {
		t.Errorf("window in CET = %v", ids(got))
	}
	if got, _ := db.ExperimentsFinishedBetween(ctx, base, base); len(got) != 0 {
		t.Errorf("empty window returned %v", ids(got))
	}
}

// Several goroutines start experiments in the same run at once, each asking
// for all the ideas: numbers must be exactly 1..N and every idea consumed once.
func TestStartExperimentConcurrent(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	var ideaIDs []int64
	for i := 0; i < 10; i++ {
		ideaIDs = append(ideaIDs, mustIdea(t, db, "idea").ID)
	}
	const workers, each = 6, 5
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		numbers []int
		started = map[int64]bool{}
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e, err := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: research.KindProposal}, ideaIDs)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers = append(numbers, e.Number)
				started[e.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Ints(numbers)
	if len(numbers) != workers*each {
		t.Fatalf("%d experiments started, want %d", len(numbers), workers*each)
	}
	for i, n := range numbers {
		if n != i+1 {
			t.Fatalf("numbers = %v, want 1..%d without gaps or repeats", numbers, workers*each)
		}
	}
	consumed := 0
	for _, id := range ideaIDs {
		i, err := db.IdeaByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !started[i.ConsumedBy] {
			t.Errorf("idea %d consumed by %d, not a started experiment", id, i.ConsumedBy)
		}
		consumed++
	}
	// The first experiment to commit takes every idea; the others take none.
	byExp := map[int64]int{}
	for id := range started {
		list, err := db.IdeasConsumedBy(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 0 {
			byExp[id] = len(list)
		}
	}
	if len(byExp) != 1 || consumed != len(ideaIDs) {
		t.Errorf("ideas spread over experiments %v, want all %d in one", byExp, len(ideaIDs))
	}
	if open, _ := db.OpenIdeas(ctx); len(open) != 0 {
		t.Errorf("%d ideas still open", len(open))
	}
}
