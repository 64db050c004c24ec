package digest

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

var (
	digestFrom = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	digestTo   = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
)

// digestExp is experiment n of a crafted run: #1 is the run's baseline,
// the others are proposals.
func digestExp(run int64, n int, status string, bpb float64, finished time.Time) research.Experiment {
	e := research.Experiment{ID: run*1000 + int64(n), RunID: run, Number: n, Kind: research.KindProposal, Status: status,
		Description: "exp " + string(rune('A'-1+n)), StartedAt: finished.Add(-6 * time.Minute), FinishedAt: finished}
	if n == 1 {
		e.Kind = research.KindBaseline
	}
	e.Summary.ValBPB = bpb
	return e
}

// digestCrafted is a run with three experiments before the night, five
// during it (plus one still running) and one after it.
func digestCrafted() (history, night []research.Experiment) {
	before := digestFrom.Add(-3 * time.Hour)
	at := func(h int) time.Time { return digestFrom.Add(time.Duration(h) * time.Hour) }
	history = []research.Experiment{
		digestExp(1, 1, research.StatusKeep, 1.000, before),
		digestExp(1, 2, research.StatusDiscard, 1.010, before.Add(time.Hour)),
		digestExp(1, 3, research.StatusKeep, 0.990, before.Add(2*time.Hour)),
	}
	n4 := digestExp(1, 4, research.StatusKeep, 0.985, at(1))
	n4.TrainSeconds, n4.TotalSeconds, n4.PromptTokens, n4.CompletionTokens = 300, 350, 1000, 100
	n5 := digestExp(1, 5, research.StatusDiscard, 0.999, at(2))
	n5.TrainSeconds, n5.PromptTokens, n5.CompletionTokens = 300, 2000, 200
	n6 := digestExp(1, 6, research.StatusCrash, 0, at(3))
	n6.TrainSeconds, n6.TotalSeconds, n6.Reason = 60, 70, "CUDA out of memory"
	n6.PromptTokens = 500
	n7 := digestExp(1, 7, research.StatusKeep, 0.975, at(4))
	n7.TrainSeconds, n7.CompletionTokens = 300, 50
	n7.Description = "use <rotary> & more"
	n8 := digestExp(1, 8, research.StatusKeep, 0.974, at(5))
	n8.TotalSeconds = 600 // no TrainSeconds recorded: falls back
	running := digestExp(1, 10, research.StatusRunning, 0, time.Time{})
	after := digestExp(1, 9, research.StatusKeep, 0.900, digestTo.Add(time.Hour))
	night = []research.Experiment{n4, n5, n6, n7, n8, running}
	history = append(history, n4, n5, n6, n7, n8, after, running)
	return history, night
}

func digestIdeas() []research.Idea {
	return []research.Idea{
		{ID: 1, Text: "try a bigger vocab", Author: "U123ABC"},
		{ID: 2, Text: "used already", Author: "U9", ConsumedBy: 7},
		{ID: 3, Text: "unpinned", Author: "terminal", Unpinned: true},
		{ID: 4, Text: "lower the lr", Author: "terminal"},
	}
}

func digestNear(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %.9f, want %.9f", name, got, want)
	}
}

func TestDigestBuildNumbers(t *testing.T) {
	history, night := digestCrafted()
	d := Build(history, night, digestIdeas(), 0, digestFrom, digestTo)

	if d.Empty {
		t.Fatal("Empty on a night with experiments")
	}
	if d.Experiments != 5 || d.Keep != 3 || d.Discard != 1 || d.Crash != 1 {
		t.Errorf("counts = %d (%d keep, %d discard, %d crash), want 5 (3, 1, 1)", d.Experiments, d.Keep, d.Discard, d.Crash)
	}
	digestNear(t, "BestValBPB", d.BestValBPB, 0.974) // not #9, which finished after To
	digestNear(t, "BaselineValBPB", d.BaselineValBPB, 1.000)
	digestNear(t, "PrevBestValBPB", d.PrevBestValBPB, 0.990)
	digestNear(t, "ImprovementSinceLast", d.ImprovementSinceLast, 0.016)
	digestNear(t, "ImprovementSinceBaseline", d.ImprovementSinceBaseline, 0.026)
	digestNear(t, "GPUHours", d.GPUHours, (300+300+60+300+600)/3600.0)
	if d.PromptTokens != 3500 || d.CompletionTokens != 350 {
		t.Errorf("tokens = %d + %d, want 3500 + 350", d.PromptTokens, d.CompletionTokens)
	}

	var order []int
	for _, e := range d.Kept {
		order = append(order, e.Number)
	}
	if want := []int{7, 4, 8}; !equalInts(order, want) {
		t.Errorf("kept order = %v, want %v (by delta, best first)", order, want)
	}
	if len(d.KeptDeltas) != 3 {
		t.Fatalf("KeptDeltas = %v", d.KeptDeltas)
	}
	digestNear(t, "delta #7", d.KeptDeltas[0], 0.010)
	digestNear(t, "delta #4", d.KeptDeltas[1], 0.005)
	digestNear(t, "delta #8", d.KeptDeltas[2], 0.001)

	if len(d.Crashes) != 1 || d.Crashes[0].Number != 6 {
		t.Errorf("crashes = %+v, want #6", d.Crashes)
	}
	if len(d.OpenIdeas) != 2 || d.OpenIdeas[0].ID != 1 || d.OpenIdeas[1].ID != 4 {
		t.Errorf("open ideas = %+v, want ideas 1 and 4", d.OpenIdeas)
	}
	if len(d.Chart) == 0 {
		t.Fatal("no chart")
	}
	if _, err := png.Decode(bytes.NewReader(d.Chart)); err != nil {
		t.Errorf("chart is not a PNG: %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDigestPrevBestArgumentWins(t *testing.T) {
	history, night := digestCrafted()
	d := Build(history, night, nil, 0.995, digestFrom, digestTo)
	digestNear(t, "PrevBestValBPB", d.PrevBestValBPB, 0.995)
	digestNear(t, "ImprovementSinceLast", d.ImprovementSinceLast, 0.021)
}

func TestDigestRunStartedOvernight(t *testing.T) {
	at := func(h int) time.Time { return digestFrom.Add(time.Duration(h) * time.Hour) }
	night := []research.Experiment{
		digestExp(2, 1, research.StatusKeep, 1.2, at(1)),
		digestExp(2, 2, research.StatusKeep, 1.1, at(2)),
		digestExp(2, 3, research.StatusDiscard, 1.15, at(3)),
	}
	d := Build(night, night, nil, 0, digestFrom, digestTo)
	if d.PrevBestValBPB != 0 {
		t.Errorf("PrevBestValBPB = %v, want 0 (nothing before the night)", d.PrevBestValBPB)
	}
	digestNear(t, "ImprovementSinceBaseline", d.ImprovementSinceBaseline, 0.1)
	digestNear(t, "ImprovementSinceLast", d.ImprovementSinceLast, 0.1)
	if d.Keep != 2 || len(d.Kept) != 1 || d.Kept[0].Number != 2 {
		t.Errorf("Keep %d, Kept %+v: want 2 kept, only #2 listed (the baseline is no improvement)", d.Keep, d.Kept)
	}
	if strings.Contains(d.Text(), "since the last digest") {
		t.Errorf("text compares with a last digest that had no result:\n%s", d.Text())
	}
}

func TestDigestSeveralRunsUsesLatest(t *testing.T) {
	at := func(h int) time.Time { return digestFrom.Add(time.Duration(h) * time.Hour) }
	old := []research.Experiment{
		digestExp(1, 1, research.StatusKeep, 0.90, digestFrom.Add(-time.Hour)),
		digestExp(1, 2, research.StatusKeep, 0.89, at(1)),
	}
	cur := []research.Experiment{
		digestExp(2, 1, research.StatusKeep, 1.00, at(2)),
		digestExp(2, 2, research.StatusKeep, 0.97, at(3)),
	}
	history := append(append([]research.Experiment{}, old...), cur...)
	night := []research.Experiment{old[1], cur[0], cur[1]}
	d := Build(history, night, nil, 0, digestFrom, digestTo)
	digestNear(t, "BestValBPB", d.BestValBPB, 0.97)
	digestNear(t, "BaselineValBPB", d.BaselineValBPB, 1.00)
	if len(d.Kept) != 2 || d.Kept[0].RunID != 2 {
		t.Fatalf("kept = %+v, want run 2's #2 (0.03) before run 1's #2 (0.01)", d.Kept)
	}
	digestNear(t, "delta run 2", d.KeptDeltas[0], 0.03)
	digestNear(t, "delta run 1", d.KeptDeltas[1], 0.01)
}

func TestDigestTexts(t *testing.T) {
	history, night := digestCrafted()
	d := Build(history, night, digestIdeas(), 0, digestFrom, digestTo)
	d.Tag, d.NoiseFloor = "mar3", 0.002
	text := d.Text()
	for _, want := range []string{
		"run `mar3`",
		"5 experiments",
		"3 keep · 1 discard · 1 crash",
		"0.974000",
		"−0.016000 since the last digest",
		"−0.026000 since the baseline (1.000000)",
		"GPU time 0.4 h",
		"3.5k prompt + 350 completion",
		"noise floor ±0.002000",
		"Mon 2 Mar 08:00 UTC → Tue 3 Mar 08:00 UTC",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("headline lacks %q:\n%s", want, text)
		}
	}

	th := d.ThreadTexts(nil)
	if len(th) != 3 {
		t.Fatalf("thread has %d messages, want 3 (kept, crashes, ideas):\n%s", len(th), strings.Join(th, "\n---\n"))
	}
	kept := th[0]
	i7, i4, i8 := strings.Index(kept, "#7 "), strings.Index(kept, "#4 "), strings.Index(kept, "#8 ")
	if i7 < 0 || i4 < 0 || i8 < 0 || !(i7 < i4 && i4 < i8) {
		t.Errorf("kept improvements not ranked #7, #4, #8:\n%s", kept)
	}
	if !strings.Contains(kept, "use &lt;rotary&gt; &amp; more") {
		t.Errorf("description not escaped for mrkdwn:\n%s", kept)
	}
	lines := strings.Split(kept, "\n")
	for _, l := range lines {
		noisy := strings.Contains(l, "within noise")
		switch {
		case strings.Contains(l, "#8 ") && !noisy:
			t.Errorf("#8 (0.001 < noise 0.002) not flagged: %q", l)
		case strings.Contains(l, "#7 ") && noisy:
			t.Errorf("#7 (0.010) flagged as noise: %q", l)
		}
	}
	if !strings.Contains(th[1], "#6") || !strings.Contains(th[1], "CUDA out of memory") {
		t.Errorf("crash section lacks #6 and its reason:\n%s", th[1])
	}
	if !strings.Contains(th[2], "try a bigger vocab") || !strings.Contains(th[2], "<@U123ABC>") ||
		!strings.Contains(th[2], "lower the lr") || strings.Contains(th[2], "used already") {
		t.Errorf("ideas section wrong:\n%s", th[2])
	}
}

func TestDigestEmptyNight(t *testing.T) {
	history, _ := digestCrafted()
	d := Build(history[:3], nil, digestIdeas(), 0, digestFrom, digestTo)
	if !d.Empty || d.Experiments != 0 {
		t.Fatalf("Empty = %v, Experiments = %d; want an empty digest", d.Empty, d.Experiments)
	}
	if d.Chart != nil {
		t.Error("an empty night has a chart")
	}
	text := d.Text()
	if !strings.Contains(text, "No experiments finished") {
		t.Errorf("empty night not said plainly:\n%s", text)
	}
	if !strings.Contains(text, "0.990000") {
		t.Errorf("empty night does not recall the best so far:\n%s", text)
	}
	for _, m := range d.ThreadTexts(nil) {
		if strings.Contains(m, "Kept improvements") || strings.Contains(m, "Crashes") {
			t.Errorf("empty night thread has %q", m)
		}
	}
	if th := d.ThreadTexts(nil); len(th) != 1 || !strings.Contains(th[0], "Open ideas") {
		t.Errorf("empty night thread = %q, want just the open ideas", th)
	}

	none := Build(nil, nil, nil, 0, digestFrom, digestTo)
	if !none.Empty || len(none.ThreadTexts(nil)) != 0 || !strings.Contains(none.Text(), "No experiments finished") {
		t.Errorf("digest with no data: %+v\n%s", none, none.Text())
	}
}

func TestDigestListsAreBounded(t *testing.T) {
	var night []research.Experiment
	night = append(night, digestExp(1, 1, research.StatusKeep, 2, digestFrom.Add(time.Minute)))
	for i := 2; i < 60; i++ {
		night = append(night, digestExp(1, i, research.StatusKeep, 2-float64(i)/100, digestFrom.Add(time.Duration(i)*time.Minute)))
	}
	d := Build(night, night, nil, 0, digestFrom, digestTo)
	th := d.ThreadTexts(nil)
	if len(th) == 0 || !strings.Contains(th[0], "… and 33 more") {
		t.Errorf("58 kept improvements not cut at %d:\n%s", digestListLimit, th)
	}
}

// Kept improvements link to their experiment messages when a link is known
// (and show their commit); the headline says what trains now and when it
// should end.
func TestDigestLinksAndTrainingNow(t *testing.T) {
	history, night := digestCrafted()
	for i := range night {
		night[i].Commit = fmt.Sprintf("%07x%033d", 0xabc0000+night[i].Number, 0)
	}
	d := Build(history, night, nil, 0, digestFrom, digestTo)
	link := func(e research.Experiment) string {
		if e.Number == 4 {
			return "" // not sent yet: plain number
		}
		return fmt.Sprintf("https://team.slack.com/archives/C1/p%d", 1000+e.Number)
	}
	kept := d.ThreadTexts(link)[0]
	for _, want := range []string{"<https://team.slack.com/archives/C1/p1007|#7>", "`abc0007`", "\n2. #4  "} {
		if !strings.Contains(kept, want) {
			t.Errorf("kept improvements lack %q:\n%s", want, kept)
		}
	}

	now := digestTo.Add(-time.Minute)
	st := research.Status{
		Current:  &research.Experiment{Number: 9, Description: "warmup 200 steps"},
		Progress: &research.Progress{Percent: 41, Remaining: 13 * time.Minute},
	}
	d.Training = TrainingNow(st, now)
	if want := "Training now: #9 warmup 200 steps (41%, done about 08:12)"; !strings.Contains(d.Text(), want) {
		t.Errorf("headline lacks %q:\n%s", want, d.Text())
	}
	// Several slots: one line each; a slot that just started says so.
	st.Slots = []research.SlotStatus{
		{Name: "gpu0", Current: &research.Experiment{Number: 10, Description: "a"}, Progress: &research.Progress{Percent: 90, Remaining: time.Minute}},
		{Name: "gpu1", Current: &research.Experiment{Number: 11, Description: "b"}},
		{Name: "gpu2"},
	}
	d.Training = TrainingNow(st, now)
	if want := "Training now: #10 a (90%, done about 08:00); #11 b (starting)"; !strings.Contains(d.Text(), want) {
		t.Errorf("headline lacks %q:\n%s", want, d.Text())
	}
}
