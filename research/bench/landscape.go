package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/autoresearch/autoresearch/research"
)

// The landscape scenario (early stopping): every proposal gives train.py a
// loss curve, the baseline's plus a gap to it, and a val_bpb that follows
// the gap at the end of the budget. Most proposals are just worse, some are
// within the noise, some better from the start, and some are late bloomers:
// worse at first, better at the end.

// Shape kinds of the landscape.
const (
	ShapeWorse       = "worse"
	ShapeNeutral     = "neutral"
	ShapeBetter      = "better"
	ShapeLateBloomer = "late bloomer"
)

// LossPerBPB converts a gap in training loss to val_bpb in the simulated
// trainer (val_bpb = 1 + gap at the end / LossPerBPB), as the baseline's
// final loss 3.3 relates to its val_bpb 1.0.
const LossPerBPB = 3.3

// CurveShape is one proposal of the landscape: its loss is the baseline's
// 3.3 + 1.5·exp(-p/20) plus a gap going from GapStart at 0% to GapEnd at
// 100% of the budget, fast at first (Tau, in percent, sets how fast).
type CurveShape struct {
	Kind     string
	GapStart float64
	GapEnd   float64
	Tau      float64
}

// Gap is the shape's loss above the baseline's at percent p.
func (c CurveShape) Gap(p float64) float64 {
	w := (math.Exp(-p/c.Tau) - math.Exp(-100/c.Tau)) / (1 - math.Exp(-100/c.Tau))
	return c.GapEnd + (c.GapStart-c.GapEnd)*w
}

// ValBPB is what the simulated trainer reports when it trains to the end.
func (c CurveShape) ValBPB() float64 { return 1 + c.GapEnd/LossPerBPB }

// NewLandscape draws n shapes with seed: about 55% just worse (a gap that
// stays, grows or shrinks a little), 15% within 1% of the baseline, 15%
// better from the start, 15% late bloomers.
func NewLandscape(n int, seed uint64) []CurveShape {
	r := rand.New(rand.NewPCG(seed, 0x1a2d5ca9e))
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	out := make([]CurveShape, n)
	for i := range out {
		x := r.Float64()
		var c CurveShape
		switch {
		case x < 0.55:
			end := u(0.06, 0.4)
			c = CurveShape{Kind: ShapeWorse, GapEnd: end, GapStart: end * u(0.6, 1.4), Tau: u(20, 60)}
		case x < 0.70:
			c = CurveShape{Kind: ShapeNeutral, GapEnd: u(0.003, 0.03), GapStart: u(0, 0.03), Tau: u(20, 60)}
		case x < 0.85:
			end := u(-0.06, -0.01)
			c = CurveShape{Kind: ShapeBetter, GapEnd: end, GapStart: end * u(0.5, 1.5), Tau: u(20, 60)}
		default:
			c = CurveShape{Kind: ShapeLateBloomer, GapEnd: u(-0.06, -0.01), GapStart: u(0.15, 0.5), Tau: u(15, 60)}
		}
		out[i] = c
	}
	return out
}

// LandscapeTrainPy returns the landscape's simulated trainer for n shapes:
// it prints steps \r-joined progress lines over trainSeconds with the loss
// of its shape and, when it gets to the end, the summary with val_bpb from
// the shape's GapEnd. Each proposal i sets its own line CURVE_i (2n lines,
// Spacing apart, so no two proposals touch the same lines and a proposal
// prepared before a keep re-applies on top of it); the highest one set is
// the shape trained.
func LandscapeTrainPy(trainSeconds float64, steps, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "import math, sys, time\nT0 = time.time()\nSLEEP = %.3f\nSTEPS = %d\n", trainSeconds, steps)
	for i := 0; i < 2*n; i++ {
		fmt.Fprintf(&b, "%s = None\n", curveName(i))
		for j := 1; j < Spacing; j++ {
			fmt.Fprintf(&b, "# (curve %d spacing %d)\n", i, j)
		}
	}
	names := make([]string, 2*n)
	for i := range names {
		names[i] = curveName(i)
	}
	fmt.Fprintf(&b, `CURVES = [c for c in [%s] if c is not None]
GAP_START, GAP_END, TAU = CURVES[-1] if CURVES else (0.0, 0.0, 30.0)

def gap(p):
    w = (math.exp(-p / TAU) - math.exp(-100 / TAU)) / (1 - math.exp(-100 / TAU))
    return GAP_END + (GAP_START - GAP_END) * w

for step in range(1, STEPS + 1):
    time.sleep(SLEEP / STEPS)
    p = 100.0 * step / STEPS
    loss = 3.3 + 1.5 * math.exp(-p / 20) + gap(p)
    print("step %%05d (%%.1f%%%%) | loss: %%.6f | remaining: %%ds" %% (step, p, loss, int(SLEEP * (STEPS - step) / STEPS)), end="\r", flush=True)
print()
print("---")
print("val_bpb:          %%.6f" %% (1 + GAP_END / %g))
print("training_seconds: %%.1f" %% SLEEP)
print("total_seconds:    %%.1f" %% (time.time() - T0))
print("peak_vram_mb:     1024.0")
print("num_steps:        %%d" %% STEPS)
sys.stdout.flush()
`, strings.Join(names, ", "), LossPerBPB)
	return b.String()
}

func curveName(i int) string { return fmt.Sprintf("CURVE_%03d", i) }

// NewLandscapeRepo creates the landscape's research repository in dir,
// with python as its .venv's interpreter.
func NewLandscapeRepo(dir, python string, trainSeconds float64, steps, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"train.py":   LandscapeTrainPy(trainSeconds, steps, n),
		"prepare.py": PreparePy,
		"program.md": "# program\nLower val_bpb.\n",
		".gitignore": ".venv/\n__pycache__/\n",
	}
	if err := commitInitial(dir, files); err != nil {
		return err
	}
	return MakeVenv(filepath.Join(dir, ".venv"), 0, python)
}

// LandscapeProposer proposes the landscape's shapes in order, proposal i
// setting train.py's line CURVE_i (see LandscapeTrainPy) to shape i mod
// len(Shapes); the shapes are absolute (the baseline's curve plus a gap),
// whatever the best is. Proposals past the last shape repeat the shapes on
// the spare lines; they are prepared but never trained when
// --max-experiments is 1 + len(Shapes).
type LandscapeProposer struct {
	Shapes []CurveShape
	mu     sync.Mutex
	next   int
}

var _ research.Proposer = (*LandscapeProposer)(nil)

// Propose implements research.Proposer.
func (l *LandscapeProposer) Propose(ctx context.Context, req research.ProposalRequest) (research.Proposal, error) {
	l.mu.Lock()
	i := l.next
	l.next++
	l.mu.Unlock()
	n := len(l.Shapes)
	if i >= 2*n {
		return research.Proposal{}, fmt.Errorf("the landscape has no line left for proposal %d: %w", i, research.ErrExhausted)
	}
	c := l.Shapes[i%n]
	path := filepath.Join(req.Dir, "train.py")
	src, err := os.ReadFile(path)
	if err != nil {
		return research.Proposal{}, err
	}
	line := curveName(i) + " = None\n"
	if !strings.Contains(string(src), line) {
		return research.Proposal{}, fmt.Errorf("train.py has no line %q", strings.TrimSpace(line))
	}
	out := strings.Replace(string(src), line, fmt.Sprintf("%s = (%.6f, %.6f, %.6f)\n", curveName(i), c.GapStart, c.GapEnd, c.Tau), 1)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		return research.Proposal{}, err
	}
	return research.Proposal{Description: ShapeDescription(i%n, c)}, nil
}

// ShapeDescription is the description of shape i's proposal; ShapeIndex
// reads i back.
func ShapeDescription(i int, c CurveShape) string {
	return fmt.Sprintf("shape %d (%s)", i, c.Kind)
}

// ShapeIndex reads the shape number from a proposal's description.
func ShapeIndex(desc string) (int, bool) {
	var i int
	if _, err := fmt.Sscanf(desc, "shape %d", &i); err != nil {
		return 0, false
	}
	return i, true
}
