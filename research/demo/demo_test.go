package demo

import (
	"bytes"
	"context"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/sweep"
)

func TestWriteExample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo") // does not exist yet
	if err := WriteExample(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"prepare.py", "train.py", "program.md", ".gitignore", "data/corpus.txt"} {
		want, err := fs.ReadFile(Files(), name)
		if err != nil {
			t.Fatalf("embedded %s: %v", name, err)
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("written %s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from the embedded copy", name)
		}
	}
	ignore, _ := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if !strings.Contains(string(ignore), ".venv/") || !strings.Contains(string(ignore), "__pycache__/") {
		t.Fatalf(".gitignore = %q", ignore)
	}
	fi, err := os.Stat(filepath.Join(dir, "data", "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 40_000 || fi.Size() > 80_000 {
		t.Fatalf("corpus is %d bytes, want 40-80 KB", fi.Size())
	}
}

func needPython(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	return py
}

// train runs train.py in dir and returns its stdout and stderr. The context
// deadline only keeps a hung interpreter from hanging the test.
func train(t *testing.T, py, dir string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "train.py")
	cmd.Dir = dir
	// The budget is raised so that a loaded machine cannot stop one of two
	// runs early and make identical constants look non-deterministic.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "AUTORESEARCH_DEMO_TIME_BUDGET=600")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

var progressLine = regexp.MustCompile(`^step \d{5} \(\d+\.\d%\) \| loss: \d+\.\d{6} \| remaining: \d+s$`)

// checkOutput checks the progress lines and the summary; returns val_bpb.
func checkOutput(t *testing.T, out []byte) float64 {
	t.Helper()
	progress, _, ok := strings.Cut(string(out), "\n---\n")
	if !ok {
		t.Fatalf("no summary separator in output:\n%s", out)
	}
	// Progress lines are joined by '\r' only: no newline among them.
	if strings.Contains(progress, "\n") {
		t.Fatalf("progress contains a newline: %q", progress[:min(len(progress), 200)])
	}
	var lines []string
	for _, l := range strings.Split(progress, "\r") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 {
		t.Fatalf("want several progress lines, got %q", lines)
	}
	for _, l := range lines {
		if !progressLine.MatchString(l) {
			t.Fatalf("progress line %q does not match %s", l, progressLine)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "(100.0%)") {
		t.Fatalf("last progress line %q is not at 100%%", last)
	}
	s, err := research.ParseSummary(out)
	if err != nil {
		t.Fatalf("ParseSummary: %v\n%s", err, out)
	}
	if math.IsNaN(s.ValBPB) || s.ValBPB < 0.5 || s.ValBPB > 8 {
		t.Fatalf("val_bpb = %v, want a finite value in 0.5..8", s.ValBPB)
	}
	if s.NumSteps < 1 || s.Depth < 1 || s.TotalSeconds < s.TrainingSeconds {
		t.Fatalf("implausible summary %+v", s)
	}
	return s.ValBPB
}

// TestTrainIsRealAndSweepable runs the bundled train.py for real: twice on
// the baseline (it must be deterministic) and once after the sweep proposer
// changed one constant (val_bpb must move). The three runs go side by side
// to keep the test short.
func TestTrainIsRealAndSweepable(t *testing.T) {
	py := needPython(t)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	for _, d := range dirs {
		if err := WriteExample(d); err != nil {
			t.Fatal(err)
		}
	}
	p, err := (&sweep.Sweep{Seed: 1}).Propose(context.Background(), research.ProposalRequest{
		Dir: dirs[2], Editable: []string{"train.py"}, BaseCommit: "demo",
	})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	outs := make([][]byte, len(dirs))
	stderrs := make([][]byte, len(dirs))
	errs := make([]error, len(dirs))
	for i, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], stderrs[i], errs[i] = train(t, py, d)
		}()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("train.py in run %d: %v\n%s", i, errs[i], stderrs[i])
		}
	}
	b1, b2, b3 := checkOutput(t, outs[0]), checkOutput(t, outs[1]), checkOutput(t, outs[2])
	if b1 != b2 {
		t.Fatalf("same constants, different val_bpb: %v vs %v", b1, b2)
	}
	t.Logf("baseline val_bpb %.6f; %s: %.6f", b1, p.Description, b3)
	if b3 == b1 {
		t.Fatalf("%s left val_bpb at %v", p.Description, b1)
	}
}

// TestTrainFailsLoudly: a nonsense value must crash with a traceback, not
// train something odd and report a number.
func TestTrainFailsLoudly(t *testing.T) {
	py := needPython(t)
	dir := t.TempDir()
	if err := WriteExample(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "train.py")
	src, _ := os.ReadFile(path)
	bad := regexp.MustCompile(`(?m)^SMOOTHING = \S+`).ReplaceAll(src, []byte("SMOOTHING = 0.0"))
	if bytes.Equal(bad, src) {
		t.Fatal("SMOOTHING not found in train.py")
	}
	os.WriteFile(path, bad, 0o644)
	out, stderr, err := train(t, py, dir)
	if err == nil {
		t.Fatalf("train.py succeeded with SMOOTHING = 0.0:\n%s", out)
	}
	if !strings.Contains(string(stderr), "Traceback") || !strings.Contains(string(stderr), "SMOOTHING") {
		t.Fatalf("no traceback naming SMOOTHING:\n%s", stderr)
	}
	if _, err := research.ParseSummary(out); err == nil {
		t.Fatal("a crashed run printed a summary")
	}
}
