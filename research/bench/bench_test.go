package bench

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/patch"
)

func at(sec float64) time.Time {
	return time.Unix(1000, 0).Add(time.Duration(sec * float64(time.Second)))
}

func span(slot string, seq int, start, end float64) Span {
	return Span{Slot: slot, Seq: seq, CallStart: at(start - 0.03), ProcStart: at(start), ProcEnd: at(end), CallEnd: at(end + 0.01)}
}

func TestAnalyzeOneSlot(t *testing.T) {
	// Baseline 0-3, the first proposal takes 1 s, then 3 runs 0.05 s apart.
	spans := []Span{span("main", 1, 0, 3), span("main", 2, 4, 7), span("main", 3, 7.05, 10.05), span("main", 4, 10.15, 13.15)}
	f := Analyze(spans, 1)
	if f.Experiments != 4 || f.Stamped != 4 || f.SteadyExperiments != 3 || f.Transitions != 2 {
		t.Fatalf("counts: %+v", f)
	}
	if f.Busy != 12*time.Second || f.Span != 13150*time.Millisecond {
		t.Errorf("busy %s span %s", f.Busy, f.Span)
	}
	if want := 9 / 9.15; abs(f.Occupancy-want) > 1e-9 {
		t.Errorf("occupancy %v, want %v", f.Occupancy, want)
	}
	if want := 3 / (9.15 / 3600); abs(f.ExpPerHour-want) > 1e-6 || abs(f.WindowExpPerHour-want) > 1e-6 {
		t.Errorf("exp/hour %v (window %v), want %v", f.ExpPerHour, f.WindowExpPerHour, want)
	}
	if f.ProcessGap.P50 != 50*time.Millisecond || f.ProcessGap.P95 != 100*time.Millisecond || f.ProcessGap.Max != 100*time.Millisecond {
		t.Errorf("process gap %+v", f.ProcessGap)
	}
	// Train returned 10 ms after the end stamp, was called 30 ms before the start stamp.
	if f.HarnessGap.P50 != 10*time.Millisecond || f.HarnessGap.N != 2 {
		t.Errorf("harness gap %+v", f.HarnessGap)
	}
}

func TestAnalyzeSeveralSlotsLeavesOutTheRampUp(t *testing.T) {
	// Two slots: b trains the baseline; a starts 0.5 s after b's first
	// proposal. Per slot there is no idle time after its first experiment.
	spans := []Span{
		span("b", 1, 0, 1),
		span("b", 2, 2, 3), span("a", 3, 2.5, 3.5),
		span("b", 4, 3, 4), span("a", 5, 3.5, 4.5),
	}
	f := Analyze(spans, 2)
	if f.Occupancy != 1 {
		t.Errorf("steady occupancy %v, want 1", f.Occupancy)
	}
	if want := 2 * 2 / (2.0 / 3600); abs(f.ExpPerHour-want) > 1e-6 {
		t.Errorf("exp/hour %v, want %v", f.ExpPerHour, want)
	}
	if want := 4 / (2.5 / 3600); abs(f.WindowExpPerHour-want) > 1e-6 {
		t.Errorf("window exp/hour %v, want %v", f.WindowExpPerHour, want)
	}
	if f.Transitions != 2 || f.ProcessGap.P50 != 0 {
		t.Errorf("transitions %d gap %+v", f.Transitions, f.ProcessGap)
	}
	if want := 5 / (4.5 * 2); abs(f.RunOccupancy-want) > 1e-9 {
		t.Errorf("run occupancy %v, want %v", f.RunOccupancy, want)
	}
}

func TestPercentileAndMemory(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 20; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	d := Summarize(ds)
	if d.P50 != 10*time.Millisecond || d.P95 != 19*time.Millisecond || d.Max != 20*time.Millisecond || d.N != 20 {
		t.Errorf("summary %+v", d)
	}
	if Summarize(nil).N != 0 || Percentile(nil, 50) != 0 {
		t.Error("empty input")
	}
	m := ReadMemory()
	if _, err := os.Stat("/proc/self/status"); err == nil && (!m.ProcAvailable || m.RSSBytes <= 0 || m.HWMBytes < m.RSSBytes) {
		t.Errorf("memory %+v", m)
	}
}

func TestRepoTrainerAndFakeModel(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	dir := filepath.Join(t.TempDir(), "repo")
	if err := NewRepo(dir, RepoOptions{TrainSeconds: 0.05, VenvFiles: 250, Python: py}); err != nil {
		t.Fatal(err)
	}
	if n, err := CountFiles(filepath.Join(dir, ".venv")); err != nil || n != 250 {
		t.Errorf(".venv holds %d files (%v), want 250", n, err)
	}
	// The .venv is a real environment: its interpreter takes it as its prefix.
	prefix, err := exec.Command(VenvPython(dir), "-c", "import sys; print(sys.prefix)").Output()
	if err != nil || strings.TrimSpace(string(prefix)) != filepath.Join(dir, ".venv") {
		t.Errorf("the .venv's interpreter runs with prefix %q (%v), want %s", prefix, err, filepath.Join(dir, ".venv"))
	}
	py = VenvPython(dir)
	out, err := exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("git status: %v %s", err, out)
	}

	// The trainer prints a summary the harness parses and writes its stamps.
	stamp := filepath.Join(t.TempDir(), "s")
	cmd := exec.Command(py, "train.py")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), StampEnv+"="+stamp)
	res, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := research.ParseSummary(res)
	if err != nil || abs(sum.ValBPB-1.032) > 0.001 {
		t.Errorf("summary %+v, %v", sum, err)
	}
	if !bytes.Contains(res, []byte("\r")) {
		t.Error("no \\r-joined progress")
	}
	if s, e := readStamp(stamp); s.IsZero() || e.Sub(s) < 50*time.Millisecond {
		t.Errorf("stamps %v %v", s, e)
	}

	// The fake model moves one constant of the train.py in the prompt.
	f := NewFakeLLM(0, 7)
	srv := f.Serve()
	defer srv.Close()
	src, _ := os.ReadFile(filepath.Join(dir, "train.py"))
	body, _ := json.Marshal(map[string]any{"model": "m", "messages": []map[string]any{
		{"role": "system", "content": "protocol"},
		{"role": "user", "content": "K0 = 9.0000\n### train.py (current content)\n```\n" + string(src) + "```\n"},
	}})
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					Function struct{ Name, Arguments string }
				} `json:"tool_calls"`
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || len(reply.Choices) != 1 {
		t.Fatalf("reply: %v %+v", err, reply)
	}
	calls := reply.Choices[0].Message.ToolCalls
	if len(calls) != 2 || calls[0].Function.Name != "edit_file" || calls[1].Function.Name != "finish" {
		t.Fatalf("tool calls %+v", calls)
	}
	var edit struct {
		Path string `json:"path"`
		Old  string `json:"old_string"`
		New  string `json:"new_string"`
	}
	_ = json.Unmarshal([]byte(calls[0].Function.Arguments), &edit)
	if edit.Path != "train.py" || edit.Old != "K0 = 5.0000\n" || !strings.HasPrefix(edit.New, "K0 = ") || strings.Count(string(src), edit.Old) != 1 {
		t.Errorf("edit %+v", edit)
	}
	if st := f.Stats(); st.Requests != 1 || st.Conversations != 1 {
		t.Errorf("stats %+v", st)
	}

	// Edits of neighbouring constants rebase onto each other: a pipelined
	// proposal survives a keep of another constant.
	k0 := strings.Replace(string(src), "K0 = 5.0000\n", "K0 = 4.0000\n", 1)
	k1 := strings.Replace(string(src), "K1 = 5.0000\n", "K1 = 4.5000\n", 1)
	if _, err := patch.Rebase(string(src), k1, k0); err != nil {
		t.Errorf("K1 edit does not rebase over a K0 keep: %v", err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
