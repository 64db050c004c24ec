package digest

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"path/filepath"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/chart"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/store"
)

var _ Records = (*store.DB)(nil)

// TestDigestWithRealStore runs the scheduler on a real SQLite store: a run
// whose baseline finished the evening before, three experiments in the night
// (New York time), one after the digest time, and an open idea.
func TestDigestWithRealStore(t *testing.T) {
	ny := digestNY(t)
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, err := db.CreateRun(ctx, research.Run{Tag: "mar5", Branch: "autoresearch/mar5", Noise: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	add := func(kind research.Kind, status string, bpb float64, desc string, finished time.Time) {
		t.Helper()
		db.Now = func() time.Time { return finished.Add(-5 * time.Minute) }
		e, err := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: kind, Description: desc}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.Status, e.Summary.ValBPB, e.FinishedAt = status, bpb, finished
		e.TrainSeconds, e.PromptTokens, e.CompletionTokens = 300, 1200, 80
		if status == research.StatusCrash {
			e.Reason = "timeout after 10m0s"
		}
		if err := db.FinishExperiment(ctx, e, run); err != nil {
			t.Fatal(err)
		}
		call := research.LLMCall{RunID: run.ID, Purpose: "propose", Number: e.Number, PromptTokens: e.PromptTokens, CompletionTokens: e.CompletionTokens}
		if err := db.AddLLMCall(ctx, call); err != nil {
			t.Fatal(err)
		}
	}
	local := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, ny) }
	add(research.KindBaseline, research.StatusKeep, 1.000, "baseline", local(4, 21, 0))
	add(research.KindProposal, research.StatusDiscard, 1.003, "wider MLP", local(4, 23, 30))
	add(research.KindProposal, research.StatusKeep, 0.992, "rotary base 50000", local(5, 2, 15))
	add(research.KindProposal, research.StatusCrash, 0, "depth 16", local(5, 7, 59))
	// A proposal that failed after 205k tokens, and a condensation: no
	// experiment of theirs, but the night spent them.
	db.Now = func() time.Time { return local(5, 3, 0) }
	for _, c := range []research.LLMCall{
		{RunID: run.ID, Purpose: "propose", Number: 4, PromptTokens: 205_000, CompletionTokens: 2000, Failed: true},
		{RunID: run.ID, Purpose: "condense", PromptTokens: 30_000, CompletionTokens: 500},
	} {
		if err := db.AddLLMCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	add(research.KindProposal, research.StatusKeep, 0.950, "after the digest", local(5, 8, 0))
	if _, err := db.AddIdea(ctx, research.Idea{Text: "try muon", Author: "U42", Source: "slash"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, LastSetting, local(4, 22, 0).UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	clock := &digestClock{now: local(5, 7, 0), until: local(5, 12, 0), cancel: cancel}
	var posts []Digest
	s := &Scheduler{At: "08:00", Location: ny, Now: clock.Now, Sleep: clock.Sleep, Records: db, Logger: digestQuiet(),
		Post: func(_ context.Context, d Digest) error {
			if posts = append(posts, d); len(posts) > 20 {
				cancel()
			}
			return nil
		}}
	if due, _, _, err := s.Due(ctx); err != nil || due {
		t.Fatalf("at 07:00: Due = %v, %v; want not due", due, err)
	}
	if err := s.Run(runCtx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(posts) != 1 {
		t.Fatalf("posted %d digests, want 1", len(posts))
	}
	d := posts[0]
	if d.Experiments != 3 || d.Keep != 1 || d.Discard != 1 || d.Crash != 1 {
		t.Errorf("counts %d: %d/%d/%d, want 3: 1 keep, 1 discard, 1 crash (the baseline was before, #5 after)",
			d.Experiments, d.Keep, d.Discard, d.Crash)
	}
	digestNear(t, "BestValBPB", d.BestValBPB, 0.992)
	digestNear(t, "ImprovementSinceLast", d.ImprovementSinceLast, 0.008)
	digestNear(t, "ImprovementSinceBaseline", d.ImprovementSinceBaseline, 0.008)
	digestNear(t, "GPUHours", d.GPUHours, 900.0/3600)
	// The calls made in the window: the proposals of #2-#5 (#5 was proposed
	// at 07:55, before the digest, though it finished after), the failed
	// proposal and the condensation; the baseline's call was before.
	if d.PromptTokens != 4*1200+205_000+30_000 || d.CompletionTokens != 4*80+2000+500 || d.Tag != "mar5" || d.NoiseFloor != 0.001 {
		t.Errorf("tokens %d+%d, tag %q, noise %v", d.PromptTokens, d.CompletionTokens, d.Tag, d.NoiseFloor)
	}
	if len(d.Kept) != 1 || d.Kept[0].Description != "rotary base 50000" {
		t.Errorf("kept %+v", d.Kept)
	}
	if len(d.Crashes) != 1 || d.Crashes[0].Reason != "timeout after 10m0s" {
		t.Errorf("crashes %+v", d.Crashes)
	}
	if len(d.OpenIdeas) != 1 || d.OpenIdeas[0].Text != "try muon" {
		t.Errorf("ideas %+v", d.OpenIdeas)
	}
	if img, err := png.Decode(bytes.NewReader(d.Chart)); err != nil || img.Bounds().Dx() != chart.Width {
		t.Errorf("chart: %v", err)
	}
	v, err := db.Setting(ctx, LastSetting)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := time.Parse(time.RFC3339Nano, v); err != nil || !got.Equal(local(5, 8, 0)) {
		t.Errorf("%s = %q, want 5 March 08:00 New York", LastSetting, v)
	}
	if due, _, _, err := s.Due(ctx); err != nil || due {
		t.Errorf("after posting: Due = %v, %v", due, err)
	}
}
