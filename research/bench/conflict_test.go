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

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/patch"
)

// TestConflictScenarioPieces: the improving trainer beats its previous
// run every time, and the same-line model moves K0 in every answer, so two
// of its edits made on one commit conflict with each other.
func TestConflictScenarioPieces(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	dir := filepath.Join(t.TempDir(), "repo")
	runs := dir + ".runs"
	if err := NewRepo(dir, RepoOptions{TrainSeconds: 0.01, ImprovingRuns: runs}); err != nil {
		t.Fatal(err)
	}
	var vals []float64
	for i := 0; i < 2; i++ {
		cmd := exec.Command(py, "train.py")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		sum, err := research.ParseSummary(out)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, sum.ValBPB)
	}
	if vals[0] != 0.9995 || vals[1] != 0.999 {
		t.Errorf("val_bpb of two runs %v, want 0.9995 then 0.999", vals)
	}
	if data, _ := os.ReadFile(runs); string(data) != "2" {
		t.Errorf("run counter %q", data)
	}

	f := NewFakeLLM(0, 3)
	f.SameLine = true
	srv := f.Serve()
	defer srv.Close()
	src, _ := os.ReadFile(filepath.Join(dir, "train.py"))
	var edited []string
	for i := 0; i < 3; i++ {
		body, _ := json.Marshal(map[string]any{"model": "m", "messages": []map[string]any{
			{"role": "user", "content": "### train.py (current content)\n```\n" + string(src) + "```\n"},
		}})
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var reply struct {
			Choices []struct {
				Message struct {
					ToolCalls []struct {
						Function struct{ Arguments string }
					} `json:"tool_calls"`
				}
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if err != nil || len(reply.Choices) != 1 || len(reply.Choices[0].Message.ToolCalls) != 2 {
			t.Fatalf("reply %d: %v %+v", i, err, reply)
		}
		var edit struct {
			Old string `json:"old_string"`
			New string `json:"new_string"`
		}
		_ = json.Unmarshal([]byte(reply.Choices[0].Message.ToolCalls[0].Function.Arguments), &edit)
		if edit.Old != "K0 = 5.0000\n" {
			t.Fatalf("answer %d edits %q, want K0", i, edit.Old)
		}
		edited = append(edited, strings.Replace(string(src), edit.Old, edit.New, 1))
	}
	if _, err := patch.Rebase(string(src), edited[1], edited[0]); err == nil {
		t.Error("two K0 edits made on one commit rebase onto each other; the scenario would have no conflicts")
	}
}
