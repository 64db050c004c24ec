//go:build cgo

package gpu_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/gpu"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
	"github.com/autoresearch/autoresearch/store"
)

// stranger starts a real process that is not a descendant of this test (the
// shell that started it exits, so it is reparented) and returns its pid.
func stranger(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("sh", "-c", "sleep 120 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// gpuHost is a DGX H100 mock whose GPU 0 is busy training, runs the given
// compute processes and is thermally throttled.
func gpuHost(pids ...int) *server.Server {
	srv := dgxh100.New()
	d := srv.Devices[0].(*server.Device)
	const mib = 1 << 20
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
		return nvml.Memory{Total: 81920 * mib, Used: 30000 * mib, Free: 51920 * mib}, nvml.SUCCESS
	}
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{Gpu: 97}, nvml.SUCCESS }
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 83, nvml.SUCCESS }
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 650000, nvml.SUCCESS }
	d.GetClockInfoFunc = func(nvml.ClockType) (uint32, nvml.Return) { return 1755, nvml.SUCCESS }
	d.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) {
		return nvml.ClocksThrottleReasonHwThermalSlowdown, nvml.SUCCESS
	}
	d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		var out []nvml.ProcessInfo
		for _, p := range pids {
			out = append(out, nvml.ProcessInfo{Pid: uint32(p), UsedGpuMemory: 4096 * mib})
		}
		return out, nvml.SUCCESS
	}
	return srv
}

type oneStep struct {
	t    *testing.T
	done bool
}

func (p *oneStep) Propose(ctx context.Context, req research.ProposalRequest) (research.Proposal, error) {
	if p.done {
		return research.Proposal{}, fmt.Errorf("no more ideas: %w", research.ErrExhausted)
	}
	p.done = true
	researchtest.SetConst(p.t, req.Dir, "VAL", "1.400000")
	return research.Proposal{Description: "lower val"}, nil
}

type events struct {
	mu  sync.Mutex
	all []research.Event
	ch  chan research.Event
}

func (r *events) Event(e research.Event) {
	r.mu.Lock()
	r.all = append(r.all, e)
	r.mu.Unlock()
	select {
	case r.ch <- e:
	default:
	}
}

func (r *events) of(kind research.EventKind) []research.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []research.Event
	for _, e := range r.all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func newManager(t *testing.T, mon research.GPUMonitor) (*research.Manager, *store.DB, *events) {
	t.Helper()
	dir := researchtest.New(t)
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := research.Config{MaxExperiments: 2, FixAttempts: new(0), GPUSampleEvery: 10 * time.Millisecond}.WithDefaults(dir)
	db, err := store.Open(filepath.Join(cfg.StateDir, "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := &events{ch: make(chan research.Event, 64)}
	m := &research.Manager{
		Repo: repo, Store: db, Proposer: &oneStep{t: t}, Observer: rec, Config: cfg, GPU: mon,
		Trainer: &trainer.Local{Command: "python3 train.py", Grace: time.Second},
	}
	return m, db, rec
}

func TestForeignProcessPausesTheRunNamingIt(t *testing.T) {
	pid := stranger(t)
	mon := gpu.Open(gpu.Options{Lib: gpuHost(pid), MinFreeMB: 1000, Settle: time.Millisecond})
	m, db, rec := newManager(t, mon)
	ctx := context.Background()
	if _, err := m.Start(ctx, research.StartRequest{Tag: "busy", By: "test"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	var paused research.Event
wait:
	for {
		select {
		case e := <-rec.ch:
			if e.Kind == research.EventPaused {
				paused = e
				break wait
			}
		case <-deadline:
			t.Fatalf("no pause; events: %+v", rec.all)
		}
	}
	want := fmt.Sprintf("foreign compute process pid %d (sleep) is using it", pid)
	if !strings.Contains(paused.Text, want) || !strings.Contains(paused.Text, "GPU 0") {
		t.Errorf("pause text %q does not name %q", paused.Text, want)
	}
	if err := m.Stop(ctx, "test", research.StopNow); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := m.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	run, err := db.RunByTag(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	exps, err := db.Experiments(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 0 {
		t.Errorf("%d experiments trained on a shared GPU; want none", len(exps))
	}
}

func TestAllowSharedProceedsAndRecordsTelemetry(t *testing.T) {
	pid := stranger(t)
	mon := gpu.Open(gpu.Options{Lib: gpuHost(pid), AllowShared: true, Settle: time.Millisecond})
	m, db, rec := newManager(t, mon)
	ctx := context.Background()
	if _, err := m.Start(ctx, research.StartRequest{Tag: "shared", By: "test"}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := m.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	notice := fmt.Sprintf("GPU warning: GPU 0: shared with pid %d (sleep)", pid)
	found := false
	for _, e := range rec.of(research.EventNotice) {
		found = found || strings.Contains(e.Text, notice)
	}
	if !found {
		t.Errorf("no notice %q; notices: %+v", notice, rec.of(research.EventNotice))
	}
	if p := rec.of(research.EventPaused); len(p) != 0 {
		t.Errorf("paused although --allow-shared-gpu: %q", p[0].Text)
	}
	run, err := db.RunByTag(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	exps, err := db.Experiments(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 2 {
		t.Fatalf("%d experiments, want 2", len(exps))
	}
	for _, e := range exps {
		tel, err := db.Telemetry(ctx, e.ID)
		if err != nil {
			t.Fatalf("experiment %d: %v", e.Number, err)
		}
		if tel.Samples < 1 || tel.MeanUtilPct != 97 || tel.PeakMemoryMB != 30000 || tel.MaxTempC != 83 ||
			tel.MeanPowerW != 650 || tel.MaxSMClockMHz != 1755 {
			t.Errorf("experiment %d telemetry figures: %+v", e.Number, tel)
		}
		if !tel.Throttled || strings.Join(tel.ThrottleReason, ",") != "hw_thermal" {
			t.Errorf("experiment %d not flagged throttled: %+v", e.Number, tel)
		}
		if !tel.Shared || len(tel.SharedBy) != 1 || tel.SharedBy[0] != fmt.Sprintf("pid %d (sleep)", pid) {
			t.Errorf("experiment %d not flagged shared by the stranger: %+v", e.Number, tel)
		}
	}
	finished := rec.of(research.EventExperimentFinished)
	if len(finished) != 2 || finished[0].Telemetry == nil || !finished[0].Telemetry.Throttled {
		t.Errorf("finished events carry no telemetry: %+v", finished)
	}
}
