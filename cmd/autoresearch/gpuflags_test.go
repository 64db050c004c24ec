package main

import (
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"slices"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

func TestGPUFlags(t *testing.T) {
	t.Parallel()
	parse := func(args ...string) (*loopFlags, error) {
		var f loopFlags
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(append([]string{"--proposer", "sweep"}, args...)); err != nil {
			return nil, err
		}
		return &f, f.validate()
	}
	f, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config(t.TempDir())
	if cfg.GPUIndex != 0 || len(cfg.TrainEnv) != 0 {
		t.Errorf("defaults: GPUIndex %d TrainEnv %v", cfg.GPUIndex, cfg.TrainEnv)
	}
	f, err = parse("--gpu-index", "2", "--gpu-min-free-mb", "70000", "--allow-shared-gpu", "--metrics-addr", ":9100")
	if err != nil {
		t.Fatal(err)
	}
	cfg = f.config(t.TempDir())
	if cfg.GPUIndex != 2 || !slices.Equal(cfg.TrainEnv, []string{"CUDA_DEVICE_ORDER=PCI_BUS_ID", "CUDA_VISIBLE_DEVICES=2"}) {
		t.Errorf("--gpu-index 2: GPUIndex %d TrainEnv %v", cfg.GPUIndex, cfg.TrainEnv)
	}
	if f.gpu.minFreeMB != 70000 || !f.gpu.allowShared || f.gpu.metricsAddr != ":9100" {
		t.Errorf("flags: %+v", f.gpu)
	}
	if _, err := parse("--gpu-min-free-mb", "-1"); err == nil {
		t.Error("--gpu-min-free-mb -1 accepted")
	}
}

// `results --json` carries each watched experiment's GPU telemetry.
func TestResultsJSONIncludesTelemetry(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	db, err := store.Open(filepath.Join(dir, ".autoresearch", "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run, err := db.CreateRun(ctx, research.Run{Tag: "gpu", Branch: "autoresearch/gpu", RepoDir: dir, State: research.RunStopped})
	if err != nil {
		t.Fatal(err)
	}
	watched, _ := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: research.KindBaseline, Description: "baseline"}, nil)
	if _, err := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: research.KindProposal, Description: "unwatched"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveTelemetry(ctx, watched.ID, research.Telemetry{Samples: 150, MeanUtilPct: 97, PeakMemoryMB: 45000,
		MaxTempC: 80, MeanPowerW: 600, MaxSMClockMHz: 1980, Throttled: true, ThrottleReason: []string{"sw_thermal"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errOut := runMain(t, "results", "--repo", dir, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Experiments []struct {
			Kind        string         `json:"kind"`
			Description string         `json:"description"`
			Telemetry   map[string]any `json:"telemetry"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got.Experiments) != 2 {
		t.Fatalf("%d experiments:\n%s", len(got.Experiments), out)
	}
	if got.Experiments[0].Kind != "baseline" || got.Experiments[1].Kind != "proposal" {
		t.Errorf("kinds %q, %q; want baseline, proposal", got.Experiments[0].Kind, got.Experiments[1].Kind)
	}
	tel := got.Experiments[0].Telemetry
	if tel["samples"] != 150.0 || tel["throttled"] != true || tel["comparable"] != false || tel["peak_memory_mb"] != 45000.0 {
		t.Errorf("telemetry of the watched experiment: %v", tel)
	}
	if got.Experiments[1].Telemetry != nil {
		t.Errorf("unwatched experiment has telemetry %v", got.Experiments[1].Telemetry)
	}
}
