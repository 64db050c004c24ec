package bench

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/store"
)

// testWiring wires the scenarios to the real SQLite store and linked
// worktrees, as cmd does; no observer, and no subcommands to run (the
// history scenario is TestBenchTiny's, in cmd).
func testWiring(t *testing.T) Wiring {
	t.Helper()
	return Wiring{
		OpenStore: func(stateDir, _ string) (Store, error) {
			db, err := store.Open(filepath.Join(stateDir, "autoresearch.db"))
			if err != nil {
				return nil, err
			}
			db.Logger = slog.New(slog.DiscardHandler)
			return db, nil
		},
		Worktrees: func(root, stateDir string) func(name, commit string) (research.Repo, error) {
			return func(name, commit string) (research.Repo, error) {
				return gitrepo.AddWorktree(root, filepath.Join(research.Config{StateDir: stateDir}.WorktreesDir(), name), commit)
			}
		},
		RunCommand: func(args ...string) error {
			t.Errorf("the scenario ran `%s`, which this test does not expect", strings.Join(args, " "))
			return nil
		},
	}
}

func testPython(t *testing.T) string {
	t.Helper()
	py, err := RealPython("")
	if err != nil {
		t.Skip(err)
	}
	return py
}

// TestBenchConflictTiny runs the conflict scenario with tiny parameters:
// both variants keep every experiment, the old one pays for the dropped
// proposals with extra model calls, and the report has the side-by-side
// lines. Occupancy targets are the bench's business, not the test's.
func TestBenchConflictTiny(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs two small research loops")
	}
	p := Params{Train: 300 * time.Millisecond, Latency: 100 * time.Millisecond, SlotsLatency: 10 * time.Millisecond,
		Experiments: 4, Slots: 4, VenvFiles: 200, Seed: 1, Python: testPython(t), HistoryRuns: 30, ConflictOnly: true}
	var progress bytes.Buffer
	rep, err := Run(Options{Params: p, Dir: t.TempDir(), Progress: &progress, Wiring: testWiring(t)})
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Name != ConflictRun || rep.Runs[1].Name != DroppedRun || len(rep.History.Stages) != 0 {
		t.Fatalf("runs: %+v; history %+v", rep.Runs, rep.History)
	}
	for _, r := range rep.Runs {
		if r.Keep != 4 || r.Figures.Experiments != 4 || r.Figures.Stamped != 4 {
			t.Errorf("%s: keep/discard/crash %d/%d/%d, %d training runs (%d stamped), want 4 kept", r.Name, r.Keep, r.Discard, r.Crash, r.Figures.Experiments, r.Figures.Stamped)
		}
		if !(r.Figures.Occupancy > 0 && r.Figures.Occupancy <= 1) {
			t.Errorf("%s: occupancy %v", r.Name, r.Figures.Occupancy)
		}
	}
	now, before := rep.Runs[0].LLM, rep.Runs[1].LLM
	// Trained on its base, each proposal is one experiment: one answer per
	// proposed experiment. Dropped, the conflicting ones are asked again.
	if now.Requests != 3 || before.Requests <= now.Requests {
		t.Errorf("model answers: %d now, %d before; want 3 now and more before", now.Requests, before.Requests)
	}
	var names []string
	for _, f := range rep.Figures {
		names = append(names, f.Name)
		if strings.HasPrefix(f.Name, "GPU occupancy, every prepared proposal conflicts") && (f.Target == "" || f.Result == "info") {
			t.Errorf("the conflict occupancy has no target: %+v", f)
		}
		if strings.Contains(f.Name, "LLM tokens per proposed experiment") && f.Value != 2060 {
			t.Errorf("tokens per experiment now = %v, want 2060 (one answer each)", f.Value)
		}
	}
	if len(rep.Figures) != 3 {
		t.Fatalf("figures: %q", names)
	}
	var table bytes.Buffer
	rep.Print(&table)
	for _, want := range []string{ConflictRun, DroppedRun, "dropped and the model asked again", "trains on the commit it was written for"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// TestBenchLandscapeTiny runs the early-stopping scenario on a few curves:
// both loops end, every curve is trained or stopped, just-worse curves are
// stopped and no eventual keep is. (A just-worse curve whose trainer
// exits before the kill lands counts as trained: on a loaded machine not
// every one need be stopped.)
func TestBenchLandscapeTiny(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs two small research loops")
	}
	// What --landscape-only leaves of the flags.
	p := Params{Train: time.Second, Latency: time.Second, SlotsLatency: 33 * time.Millisecond, Experiments: 12, Slots: 4,
		Seed: 1, Python: testPython(t), HistoryRuns: 30, HistoryOnly: true, Landscape: 5, LandscapeOnly: true}
	rep, err := Run(Options{Params: p, Dir: t.TempDir(), Progress: io.Discard, Wiring: testWiring(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 0 || len(rep.History.Stages) != 0 || rep.BigTree.Harness.Experiments != 0 {
		t.Errorf("--landscape-only ran other scenarios: %d runs, %d history stages, big tree %+v", len(rep.Runs), len(rep.History.Stages), rep.BigTree)
	}
	l := rep.Landscape
	if l == nil || l.Shapes != 5 {
		t.Fatalf("landscape report: %+v", l)
	}
	if l.Off.Experiments != 6 || l.On.Experiments != 6 || l.Off.EarlyStop || !l.On.EarlyStop {
		t.Errorf("experiments off/on = %d/%d, want 6 each (the baseline and 5 curves)", l.Off.Experiments, l.On.Experiments)
	}
	if n := l.Off.StoppedTotal(); n != 0 {
		t.Errorf("%d stopped without --early-stop", n)
	}
	if l.On.Stopped["worse"] == 0 || l.Kinds["worse"] == 0 || l.On.Stopped["late bloomer"] != 0 {
		t.Errorf("stopped %v of the landscape %v: want just-worse curves stopped, no late bloomer", l.On.Stopped, l.Kinds)
	}
	if l.On.WinnersStopped != 0 || l.On.Keeps != l.Off.Keeps {
		t.Errorf("winners stopped %d, keeps off/on %d/%d", l.On.WinnersStopped, l.Off.Keeps, l.On.Keeps)
	}
	if l.On.TrainSeconds >= l.Off.TrainSeconds || l.Speedup <= 0 {
		t.Errorf("training seconds off/on %.1f/%.1f, speed-up %.2f", l.Off.TrainSeconds, l.On.TrainSeconds, l.Speedup)
	}
}
