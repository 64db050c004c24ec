package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/store"
)

func resultsCmd(args []string, streams IO) error {
	fs := newFlagSet("results", streams)
	repo := fs.String("repo", ".", "the research repository")
	stateDir := fs.String("state-dir", "", "the state dir (default REPO/.autoresearch)")
	tag := fs.String("tag", "", "the run (default the latest)")
	tsv := fs.Bool("tsv", false, "print results.tsv rebuilt from the store (upstream's format)")
	asJSON := fs.Bool("json", false, "print the experiments as JSON")
	last := fs.Int("last", 0, "only the last N experiments")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tsv && *asJSON {
		return usagef("choose one of --tsv and --json")
	}
	db, err := openExistingStore(*repo, *stateDir)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	run, err := findRun(ctx, db, *tag)
	if err != nil {
		return err
	}
	// The table and results.tsv need no diffs or log tails; the JSON keeps them.
	var exps []research.Experiment
	switch {
	case *asJSON:
		exps, err = db.LastExperiments(ctx, run.ID, *last)
	default:
		exps, err = db.ExperimentsBrief(ctx, run.ID)
	}
	if err != nil {
		return err
	}
	if *last > 0 && len(exps) > *last {
		exps = exps[len(exps)-*last:]
	}
	switch {
	case *tsv:
		return research.WriteResults(streams.Out, exps)
	case *asJSON:
		return writeJSON(streams.Out, run, exps, db)
	}
	fmt.Fprintf(streams.Out, "run %s (branch %s), %d experiments\n", run.Tag, run.Branch, len(exps))
	_, err = io.WriteString(streams.Out, render.FormatResultsTable(exps))
	return err
}

// openExistingStore opens the store of a repo without creating one.
func openExistingStore(repo, stateDir string) (*store.DB, error) {
	if stateDir == "" {
		abs, err := filepath.Abs(repo)
		if err != nil {
			return nil, err
		}
		stateDir = filepath.Join(abs, ".autoresearch")
	}
	path := filepath.Join(stateDir, "autoresearch.db")
	if _, err := os.Stat(path); err != nil {
		return nil, &research.InputError{Msg: fmt.Sprintf("no runs recorded: %s does not exist (start one with `autoresearch run --repo DIR --tag TAG`)", path)}
	}
	// Reading must not change anything: a 0-byte store is refused (it was
	// damaged when the repo has runs), never migrated into a new one.
	if err := refuseLostStore(stateDir, repo); err != nil {
		return nil, err
	}
	if state, _ := store.Probe(path); state == store.FileEmpty {
		return nil, &research.InputError{Msg: fmt.Sprintf("no runs recorded: %s is empty (start one with `autoresearch run --repo DIR --tag TAG`)", path)}
	}
	db, err := store.Open(path)
	return db, storeOpenError(err)
}

func findRun(ctx context.Context, db *store.DB, tag string) (research.Run, error) {
	var run research.Run
	var err error
	if tag == "" {
		run, err = db.LatestRun(ctx)
	} else {
		run, err = db.RunByTag(ctx, tag)
	}
	if errors.Is(err, research.ErrNotFound) {
		if tag == "" {
			return run, &research.InputError{Msg: "no runs recorded yet"}
		}
		return run, &research.InputError{Msg: fmt.Sprintf("no run tagged %q", tag)}
	}
	return run, err
}

// jsonExperiment is the stable JSON shape of `results --json`.
type jsonExperiment struct {
	Number           int     `json:"number"`
	Attempt          int     `json:"attempt"`
	Kind             string  `json:"kind"` // research.Kind: baseline, baseline_repeat, proposal, confirmation, retry, fix
	Commit           string  `json:"commit"`
	Parent           string  `json:"parent"`
	Status           string  `json:"status"`
	Reason           string  `json:"reason"`
	Description      string  `json:"description"`
	ValBPB           float64 `json:"val_bpb"`
	MemoryGB         float64 `json:"memory_gb"`
	TrainingSeconds  float64 `json:"training_seconds"`
	TotalSeconds     float64 `json:"total_seconds"`
	PeakVRAMMB       float64 `json:"peak_vram_mb"`
	MFUPercent       float64 `json:"mfu_percent"`
	TotalTokensM     float64 `json:"total_tokens_M"`
	NumSteps         int64   `json:"num_steps"`
	NumParamsM       float64 `json:"num_params_M"`
	Depth            int64   `json:"depth"`
	ProposeSeconds   float64 `json:"propose_seconds"`
	TrainSeconds     float64 `json:"train_seconds"`
	WallSeconds      float64 `json:"wall_seconds"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	DiffStat         string  `json:"diff_stat"`
	GPU              string  `json:"gpu,omitempty"`
	StartedAt        string  `json:"started_at"`
	FinishedAt       string  `json:"finished_at,omitempty"`

	Telemetry *jsonTelemetry `json:"telemetry,omitempty"` // GPU aggregates, when the experiment was watched
}

// jsonTelemetry is the GPU aggregates of one experiment in `results --json`.
type jsonTelemetry struct {
	Samples        int      `json:"samples"`
	MeanUtilPct    float64  `json:"mean_util_pct"`
	PeakMemoryMB   float64  `json:"peak_memory_mb"`
	MaxTempC       float64  `json:"max_temp_c"`
	MeanPowerW     float64  `json:"mean_power_w"`
	MaxSMClockMHz  float64  `json:"max_sm_clock_mhz"`
	Throttled      bool     `json:"throttled"`
	ThrottleReason []string `json:"throttle_reasons,omitempty"`
	Shared         bool     `json:"shared"`
	SharedBy       []string `json:"shared_by,omitempty"`
	Comparable     bool     `json:"comparable"`
}

// telemetryReader reads an experiment's GPU telemetry (store.DB); nil: none.
type telemetryReader interface {
	Telemetry(ctx context.Context, experimentID int64) (research.Telemetry, error)
}

func writeJSON(w io.Writer, run research.Run, exps []research.Experiment, tel telemetryReader) error {
	out := struct {
		Tag         string           `json:"tag"`
		Branch      string           `json:"branch"`
		BestCommit  string           `json:"best_commit"`
		BestValBPB  float64          `json:"best_val_bpb"`
		State       string           `json:"state"`
		Experiments []jsonExperiment `json:"experiments"`
	}{Tag: run.Tag, Branch: run.Branch, BestCommit: run.BestCommit, BestValBPB: run.BestValBPB, State: run.State, Experiments: []jsonExperiment{}}
	for _, e := range exps {
		je := jsonExperiment{
			Number: e.Number, Attempt: e.Attempt, Kind: string(e.Kind), Commit: e.Commit, Parent: e.ParentCommit, Status: e.Status, Reason: e.Reason,
			Description: e.Description, ValBPB: e.Summary.ValBPB, MemoryGB: e.Summary.PeakVRAMMB / 1024,
			TrainingSeconds: e.Summary.TrainingSeconds, TotalSeconds: e.Summary.TotalSeconds, PeakVRAMMB: e.Summary.PeakVRAMMB,
			MFUPercent: e.Summary.MFUPercent, TotalTokensM: e.Summary.TotalTokensM, NumSteps: e.Summary.NumSteps,
			NumParamsM: e.Summary.NumParamsM, Depth: e.Summary.Depth,
			ProposeSeconds: e.ProposeSeconds, TrainSeconds: e.TrainSeconds, WallSeconds: e.TotalSeconds,
			PromptTokens: e.PromptTokens, CompletionTokens: e.CompletionTokens, DiffStat: e.DiffStat, GPU: e.GPU,
			StartedAt: e.StartedAt.UTC().Format("2006-01-02T15:04:05Z"),
		}
		if !e.FinishedAt.IsZero() {
			je.FinishedAt = e.FinishedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		if tel != nil {
			if t, err := tel.Telemetry(context.Background(), e.ID); err == nil {
				je.Telemetry = &jsonTelemetry{Samples: t.Samples, MeanUtilPct: t.MeanUtilPct, PeakMemoryMB: t.PeakMemoryMB,
					MaxTempC: t.MaxTempC, MeanPowerW: t.MeanPowerW, MaxSMClockMHz: t.MaxSMClockMHz, Throttled: t.Throttled,
					ThrottleReason: t.ThrottleReason, Shared: t.Shared, SharedBy: t.SharedBy, Comparable: t.Comparable()}
			}
		}
		out.Experiments = append(out.Experiments, je)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
