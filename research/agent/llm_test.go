package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch"
	"github.com/autoresearch/autoresearch/research"
)

func baseRequest(dir string) research.ProposalRequest {
	return research.ProposalRequest{
		Dir:      dir,
		Editable: []string{"train.py"},
		ReadOnly: []string{"prepare.py"},
		Program:  programMd,
		History: []research.Experiment{
			{Number: 1, Commit: "aaaaaaa111", Status: research.StatusKeep, Description: "baseline",
				Summary: research.Summary{ValBPB: 0.9919}},
			{Number: 2, ParentCommit: "aaaaaaa111", Commit: "bbbbbbb222", Status: research.StatusDiscard,
				Description: "increase LR to 0.04", Summary: research.Summary{ValBPB: 0.9931}},
			{Number: 3, ParentCommit: "aaaaaaa111", Commit: "ccccccc333", Status: research.StatusCrash,
				Description: "double width", Reason: "CUDA out of memory"},
		},
		Ideas: []research.Idea{{ID: 7, Author: "U123", Text: "try rotary embeddings\nwith base 50000"}},
	}
}

func TestLLMReadEditFinish(t *testing.T) {
	dir := newRepo(t)
	f := newFakeOpenAI(t,
		replyTools(call{"read_file", map[string]string{"path": "train.py"}}),
		replyTools(call{"edit_file", map[string]string{"path": "train.py", "old_string": "lr = 0.01", "new_string": "lr = 0.02"}}),
		replyTools(call{"finish", map[string]string{"description": "double the learning rate"}}),
	)
	l, sleeps := newTestLLM(t, f)

	p, err := l.Propose(context.Background(), baseRequest(dir))
	if err != nil {
		t.Fatal(err)
	}
	if p.Description != "double the learning rate" {
		t.Errorf("description = %q", p.Description)
	}
	want := research.Usage{PromptTokens: 3 * promptPerTurn, CompletionTokens: 3 * completionPerTurn}
	if p.Usage != want {
		t.Errorf("usage = %+v, want %+v", p.Usage, want)
	}
	if got := readFile(t, filepath.Join(dir, "train.py")); got != strings.Replace(trainPy, "lr = 0.01", "lr = 0.02", 1) {
		t.Errorf("train.py = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "prepare.py")); got != preparePy {
		t.Errorf("prepare.py changed: %q", got)
	}
	if len(sleeps.got()) != 0 {
		t.Errorf("slept %v without failures", sleeps.got())
	}

	first := f.request(0)
	if first.Model != "test-model" {
		t.Errorf("model = %q", first.Model)
	}
	if first.Temperature != nil {
		t.Errorf("temperature sent although unset: %v", *first.Temperature)
	}
	var names []string
	for _, tool := range first.Tools {
		if tool.Type != "function" || len(tool.Function.Parameters) == 0 {
			t.Errorf("tool %q: type %q, parameters %s", tool.Function.Name, tool.Type, tool.Function.Parameters)
		}
		names = append(names, tool.Function.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"edit_file", "finish", "read_file", "write_file"}) {
		t.Errorf("tools = %v", names)
	}
	if len(first.Messages) != 2 || first.Messages[0].Role != "system" || first.Messages[1].Role != "user" {
		t.Fatalf("first request messages: %+v", first.Messages)
	}
	if first.Messages[0].text() != autoresearch.AgentProgram {
		t.Errorf("system message is not the embedded program.md")
	}
	user := first.Messages[1].text()
	for _, s := range []string{
		programMd,
		"lr = 0.01\nbatch = 32", // the editable file's content
		"#1 keep 0.991900 (base) baseline",
		"#2 discard 0.993100 (+0.0012) increase LR to 0.04",
		"#3 crash double width (CUDA out of memory)",
		"idea 7 by U123: try rotary embeddings with base 50000",
		"consider these first",
	} {
		if !strings.Contains(user, s) {
			t.Errorf("user message lacks %q:\n%s", s, user)
		}
	}

	if got := lastToolResults(t, f.request(1)); got[0] != trainPy {
		t.Errorf("read_file result = %q", got[0])
	}
	if got := lastToolResults(t, f.request(2)); !strings.HasPrefix(got[0], "edited train.py") {
		t.Errorf("edit_file result = %q", got[0])
	}
}

func TestLLMWriteFileAndTemperature(t *testing.T) {
	dir := newRepo(t)
	f := newFakeOpenAI(t,
		replyTools(
			call{"write_file", map[string]string{"path": "train.py", "content": "print('new')\n"}},
			call{"finish", map[string]string{"description": "rewrite\n  from   scratch"}},
		),
	)
	l, _ := newTestLLM(t, f)
	l.Temperature = 0.25
	p, err := l.Propose(context.Background(), baseRequest(dir))
	if err != nil {
		t.Fatal(err)
	}
	// finish runs after the reply's other calls, and its newlines collapse.
	if p.Description != "rewrite from scratch" {
		t.Errorf("description = %q", p.Description)
	}
	if got := readFile(t, filepath.Join(dir, "train.py")); got != "print('new')\n" {
		t.Errorf("train.py = %q", got)
	}
	if tp := f.request(0).Temperature; tp == nil || *tp != 0.25 {
		t.Errorf("temperature = %v", tp)
	}
}

// TestLLMToolRefusals drives one bad tool call per case, checks the model is
// told why in the next request, and that no file changed.
func TestLLMToolRefusals(t *testing.T) {
	cases := []struct {
		name     string
		editable []string
		setup    func(t *testing.T, dir string)
		call     call
		want     string
	}{
		{name: "edit read-only file", call: call{"edit_file", map[string]string{"path": "prepare.py", "old_string": "8192", "new_string": "1"}},
			want: "prepare.py is read-only"},
		{name: "write read-only file", call: call{"write_file", map[string]string{"path": "prepare.py", "content": "x"}},
			want: "prepare.py is read-only"},
		{name: "write new file", call: call{"write_file", map[string]string{"path": "helper.py", "content": "x"}},
			want: "helper.py is read-only"},
		{name: "dotdot read", call: call{"read_file", map[string]string{"path": "../outside.txt"}},
			want: `contains ".."`},
		{name: "dotdot write", editable: []string{"train.py", "../outside.txt"},
			call: call{"write_file", map[string]string{"path": "../outside.txt", "content": "x"}},
			want: `contains ".."`},
		{name: "dotdot inside", call: call{"edit_file", map[string]string{"path": "sub/../train.py", "old_string": "lr", "new_string": "LR"}},
			want: `contains ".."`},
		{name: "absolute path", call: call{"read_file", map[string]string{"path": "/etc/passwd"}},
			want: "absolute path"},
		{name: "symlink to read-only file", editable: []string{"train.py", "link.py"},
			setup: func(t *testing.T, dir string) { must(t, os.Symlink("prepare.py", filepath.Join(dir, "link.py"))) },
			call:  call{"write_file", map[string]string{"path": "link.py", "content": "x"}},
			want:  "link.py is a symlink"},
		{name: "read through symlink",
			setup: func(t *testing.T, dir string) { must(t, os.Symlink("prepare.py", filepath.Join(dir, "link.py"))) },
			call:  call{"read_file", map[string]string{"path": "link.py"}},
			want:  "link.py is a symlink"},
		{name: "symlinked directory escaping", editable: []string{"train.py", "up/outside.txt"},
			setup: func(t *testing.T, dir string) { must(t, os.Symlink("..", filepath.Join(dir, "up"))) },
			call:  call{"write_file", map[string]string{"path": "up/outside.txt", "content": "x"}},
			want:  "up is a symlink"},
		{name: "malformed arguments", call: call{"edit_file", `{"path": "train.py", "old_string": `},
			want: "edit_file: arguments are not a valid JSON object"},
		{name: "missing argument", call: call{"edit_file", map[string]string{"path": "train.py", "old_string": "lr"}},
			want: `missing argument "new_string"`},
		{name: "unknown argument", call: call{"read_file", map[string]string{"path": "train.py", "offset": "3"}},
			want: `unknown field "offset"`},
		{name: "unknown tool", call: call{"run_shell", map[string]string{"cmd": "rm -rf /"}},
			want: `unknown tool "run_shell"`},
		{name: "non-unique old_string", call: call{"edit_file", map[string]string{"path": "train.py", "old_string": " = ", "new_string": "="}},
			want: "occurs 2 times in train.py"},
		{name: "old_string not found", call: call{"edit_file", map[string]string{"path": "train.py", "old_string": "lr=0.01", "new_string": "lr=1"}},
			want: "old_string not found in train.py"},
		{name: "empty old_string", call: call{"edit_file", map[string]string{"path": "train.py", "old_string": "", "new_string": "x"}},
			want: "old_string is empty"},
		{name: "missing file", call: call{"read_file", map[string]string{"path": "nope.py"}},
			want: "nope.py: no such file"},
		{name: "directory", setup: func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "data"), 0o755)) },
			call: call{"read_file", map[string]string{"path": "data"}},
			want: "data is not a regular file"},
		{name: "empty description", call: call{"finish", map[string]string{"description": " \n "}},
			want: "description is empty"},
		{name: "long description", call: call{"finish", map[string]string{"description": strings.Repeat("x", 201)}},
			want: "description is 201 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := newRepo(t)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			f := newFakeOpenAI(t,
				replyTools(tc.call),
				replyTools(call{"finish", map[string]string{"description": "gave up"}}),
			)
			l, _ := newTestLLM(t, f)
			req := baseRequest(dir)
			if tc.editable != nil {
				req.Editable = tc.editable
			}
			p, err := l.Propose(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if p.Description != "gave up" {
				t.Errorf("description = %q", p.Description)
			}
			got := lastToolResults(t, f.request(1))[0]
			if !strings.HasPrefix(got, "error: ") || !strings.Contains(got, tc.want) {
				t.Errorf("tool result = %q, want an error containing %q", got, tc.want)
			}
			if s := readFile(t, filepath.Join(dir, "train.py")); s != trainPy {
				t.Errorf("train.py changed: %q", s)
			}
			if s := readFile(t, filepath.Join(dir, "prepare.py")); s != preparePy {
				t.Errorf("prepare.py changed: %q", s)
			}
			if s := readFile(t, filepath.Join(filepath.Dir(dir), "outside.txt")); s != "secret outside" {
				t.Errorf("outside.txt changed: %q", s)
			}
			if _, err := os.Stat(filepath.Join(dir, "helper.py")); err == nil {
				t.Errorf("helper.py was created")
			}
		})
	}
}

func TestLLMFinishAfterFailedEditInSameReplyIsRefused(t *testing.T) {
	dir := newRepo(t)
	f := newFakeOpenAI(t,
		replyTools(
			call{"edit_file", map[string]string{"path": "train.py", "old_string": "lr=0.01", "new_string": "lr=0.02"}},
			call{"finish", map[string]string{"description": "double lr"}},
		),
		replyTools(call{"finish", map[string]string{"description": "unchanged after all"}}),
	)
	l, _ := newTestLLM(t, f)
	p, err := l.Propose(context.Background(), baseRequest(dir))
	if err != nil {
		t.Fatal(err)
	}
	got := lastToolResults(t, f.request(1))
	if !strings.Contains(got[0], "old_string not found") || !strings.HasPrefix(got[1], "error: not finished: 1 other call(s)") {
		t.Errorf("tool results = %q", got)
	}
	if p.Description != "unchanged after all" {
		t.Errorf("description = %q", p.Description)
	}
}

func TestLLMReadCapTruncates(t *testing.T) {
	dir := newRepo(t)
	must(t, os.WriteFile(filepath.Join(dir, "big.txt"), []byte(strings.Repeat("0123456789", 10)), 0o644))
	f := newFakeOpenAI(t,
		replyTools(call{"read_file", map[string]string{"path": "big.txt"}}),
		replyTools(call{"finish", map[string]string{"description": "noop"}}),
	)
	l, _ := newTestLLM(t, f)
	l.MaxFileBytes = 25
	if _, err := l.Propose(context.Background(), baseRequest(dir)); err != nil {
		t.Fatal(err)
	}
	got := lastToolResults(t, f.request(1))[0]
	want := "0123456789012345678901234\n[truncated: big.txt is 100 bytes, showing the first 25]"
	if got != want {
		t.Errorf("read_file result = %q, want %q", got, want)
	}
}

func TestLLMCheckRefusalLetsModelFix(t *testing.T) {
	dir := newRepo(t)
	f := newFakeOpenAI(t,
		replyTools(call{"edit_file", map[string]string{"path": "train.py", "old_string": "batch = 32", "new_string": "batch = (32"}}),
		replyTools(call{"finish", map[string]string{"description": "bigger batch"}}),
		replyTools(call{"edit_file", map[string]string{"path": "train.py", "old_string": "batch = (32", "new_string": "batch = 64"}}),
		replyTools(call{"finish", map[string]string{"description": "batch 64"}}),
	)
	l, _ := newTestLLM(t, f)
	req := baseRequest(dir)
	checks := 0
	req.Check = func() error {
		checks++
		if strings.Contains(readFile(t, filepath.Join(dir, "train.py")), "(32") {
			return errors.New("train.py: syntax error: unclosed '('")
		}
		return nil
	}
	p, err := l.Propose(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if checks != 2 {
		t.Errorf("Check called %d times, want 2", checks)
	}
	if p.Description != "batch 64" {
		t.Errorf("description = %q", p.Description)
	}
	got := lastToolResults(t, f.request(2))[0]
	if !strings.HasPrefix(got, "refused: train.py: syntax error: unclosed '('") {
		t.Errorf("finish result = %q", got)
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "train.py")), "batch = 64") {
		t.Errorf("fix not applied")
	}
}

func TestLLMNudgesProseReplies(t *testing.T) {
	dir := newRepo(t)
	f := newFakeOpenAI(t,
		replyText("I think we should raise the learning rate."),
		replyTools(call{"finish", map[string]string{"description": "nothing"}}),
	)
	l, _ := newTestLLM(t, f)
	if _, err := l.Propose(context.Background(), baseRequest(dir)); err != nil {
		t.Fatal(err)
	}
	msgs := f.request(1).Messages
	last := msgs[len(msgs)-1]
	if last.Role != "user" || !strings.Contains(last.text(), "Use the tools") {
		t.Errorf("last message = %+v, want a nudge", last)
	}
	if prev := msgs[len(msgs)-2]; prev.Role != "assistant" || !strings.Contains(prev.text(), "raise the learning rate") {
		t.Errorf("assistant reply not kept in the conversation: %+v", prev)
	}
}

func TestLLMGivesUpOnProse(t *testing.T) {
	dir := newRepo(t)
	f := newFakeOpenAI(t, replyText("a"), replyText("b"), replyText("c"))
	l, _ := newTestLLM(t, f)
	p, err := l.Propose(context.Background(), baseRequest(dir))
	if !errors.Is(err, ErrNoToolCalls) {
		t.Fatalf("err = %v, want ErrNoToolCalls", err)
	}
	if p.Usage.PromptTokens != 3*promptPerTurn {
		t.Errorf("usage = %+v", p.Usage)
	}
}

func TestLLMTurnBudget(t *testing.T) {
	dir := newRepo(t)
	read := replyTools(call{"read_file", map[string]string{"path": "train.py"}})
	f := newFakeOpenAI(t, read, read, read)
	l, _ := newTestLLM(t, f)
	l.MaxTurns = 3
	p, err := l.Propose(context.Background(), baseRequest(dir))
	var be *BudgetError
	if !errors.As(err, &be) || !errors.Is(err, ErrBudget) {
		t.Fatalf("err = %v, want *BudgetError", err)
	}
	if be.Limit != "turns" || be.Turns != 3 {
		t.Errorf("budget error = %+v", be)
	}
	want := research.Usage{PromptTokens: 3 * promptPerTurn, CompletionTokens: 3 * completionPerTurn}
	if be.Usage != want || p.Usage != want {
		t.Errorf("usage = %+v / %+v, want %+v", be.Usage, p.Usage, want)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestLLMTokenBudget(t *testing.T) {
	dir := newRepo(t)
	read := replyTools(call{"read_file", map[string]string{"path": "train.py"}})
	f := newFakeOpenAI(t, read, read)
	l, _ := newTestLLM(t, f)
	l.MaxTokens = promptPerTurn + completionPerTurn + 1 // the second turn crosses it
	_, err := l.Propose(context.Background(), baseRequest(dir))
	var be *BudgetError
	if !errors.As(err, &be) || be.Limit != "tokens" || be.Turns != 2 || be.Tokens != 2*(promptPerTurn+completionPerTurn) {
		t.Fatalf("err = %v (%+v), want a tokens BudgetError after 2 turns", err, be)
	}
}

func TestLLMFinishWithinBudgetIsAccepted(t *testing.T) {
	dir := newRepo(t)
	f := newFakeOpenAI(t, replyTools(call{"finish", map[string]string{"description": "last-minute"}}))
	l, _ := newTestLLM(t, f)
	l.MaxTokens = 1 // exceeded by the only call, but the change is complete
	p, err := l.Propose(context.Background(), baseRequest(dir))
	if err != nil || p.Description != "last-minute" {
		t.Fatalf("p = %+v, err = %v", p, err)
	}
}

func TestLLMNotConfigured(t *testing.T) {
	if _, err := (&LLM{}).Propose(context.Background(), baseRequest(t.TempDir())); err == nil {
		t.Fatal("zero LLM proposed without a client")
	}
}
