package research_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// clusterTrainer stands in for a SLURM runner: experiment 2's "job" keeps
// running when the bot shuts down, and a restarted bot re-attaches to it.
type clusterTrainer struct {
	local      *trainer.Local
	mu         sync.Mutex
	detached   []string // log paths left running
	reattached []int
}

type detachedErr struct{}

func (detachedErr) Error() string  { return "job left running" }
func (detachedErr) Detached() bool { return true }

func (c *clusterTrainer) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	if !hasSuffix(job.LogPath, "0002.log") {
		return c.local.Train(ctx, job)
	}
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), research.ErrShutdown) {
		c.mu.Lock()
		c.detached = append(c.detached, job.LogPath)
		c.mu.Unlock()
		return research.TrainResult{Stopped: true}, detachedErr{}
	}
	return research.TrainResult{Stopped: true}, nil
}

func (c *clusterTrainer) Reattach(ctx context.Context, e research.Experiment, job research.TrainJob) (research.TrainResult, error) {
	c.mu.Lock()
	c.reattached = append(c.reattached, e.Number)
	c.mu.Unlock()
	out := "step 00001 (100.0%)\n---\nval_bpb:          1.400000\npeak_vram_mb:     2048.0\n"
	return research.TrainResult{Output: []byte(out), Duration: time.Second}, nil
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

func TestJobsThatOutliveTheBotAreFollowedAfterARestart(t *testing.T) {
	t.Parallel()
	dir := researchtest.New(t)
	ct := &clusterTrainer{local: &trainer.Local{Command: "python3 train.py"}}
	cfg := research.Config{MaxExperiments: 3, Slots: []research.SlotSpec{{Name: "slurm1", GPU: -1, Trainer: ct}}}
	h := newHarness(t, dir, cfg, setConst(t, "VAL", "1.400000", "lower on the cluster"))
	if _, err := h.m.Start(context.Background(), research.StartRequest{Tag: "cluster"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st, _ := h.m.Status(context.Background())
		return st.Current != nil && st.Current.Number == 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ := h.db.RunByTag(context.Background(), "cluster")
	if got := statuses(h.experiments(t, run)); got != "keep,running" || len(ct.detached) != 1 {
		t.Fatalf("after shutdown: %s, detached %v", got, ct.detached)
	}

	// A new bot process: same store and repo, a fresh manager.
	h2 := newHarness(t, dir, cfg, setConst(t, "STEPS", "5", "next idea"))
	h2.db.Close()
	h2.db, h2.m.Store = h.db, h.db
	if _, err := h2.m.Start(context.Background(), research.StartRequest{Tag: "cluster"}); err != nil {
		t.Fatal(err)
	}
	if err := h2.m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	exps := h.experiments(t, run)
	if got := statuses(exps); got != "keep,keep,discard" {
		t.Fatalf("after the restart: %s (%s)", got, reasons(exps))
	}
	if fmt.Sprint(ct.reattached) != "[2]" || exps[1].Summary.ValBPB != 1.4 {
		t.Errorf("re-attached %v, #2 val %v", ct.reattached, exps[1].Summary.ValBPB)
	}
}
