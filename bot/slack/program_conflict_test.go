package slack

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
	"github.com/autoresearch/autoresearch/store"
)

// oneChange proposes a single train.py change, then runs dry.
type oneChange struct {
	t    *testing.T
	done bool
}

func (p *oneChange) Propose(_ context.Context, req research.ProposalRequest) (research.Proposal, error) {
	if p.done {
		return research.Proposal{}, research.ErrExhausted
	}
	p.done = true
	researchtest.SetConst(p.t, req.Dir, "VAL", "1.400000")
	return research.Proposal{Description: "lower"}, nil
}

// A real Manager (git repo, SQLite, python trainer) behind the HTTP mode:
// Bob opens the program.md editor, Alice's `program append` is queued
// while the run is paused, Bob saves. Slack gets response_action "errors"
// on the input (its wire format), nothing of Bob's is stored, and Alice's
// append is committed when the run resumes.
func TestStaleProgramModalIsRefusedAndTheQueuedAppendSurvives(t *testing.T) {
	dir := researchtest.New(t)
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := research.Config{MaxExperiments: 2, BaselineRepeats: new(0)}.WithDefaults(dir)
	db, err := store.Open(filepath.Join(cfg.StateDir, "autoresearch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := &research.Manager{Repo: repo, Store: db, Proposer: &oneChange{t: t}, Config: cfg,
		Trainer: &trainer.Local{Command: "python3 train.py", Grace: time.Second}}

	h := &httpHarness{t: t, f: newFakeSlack(t), out: newMemOutbox(), now: time.Unix(1_700_000_000, 0)}
	h.s = newTestSlack(t, h.f, m, h.out, func(c *Config) { c.Admins = []string{"UALICE", "UBOB"} })
	h.s.now = func() time.Time { return h.now }
	h.s.identity = slackIdentity{UserID: "UBOT", BotID: "BBOT"}
	h.srv = httptest.NewServer(h.s.Handler())
	t.Cleanup(h.srv.Close)
	t.Cleanup(h.s.tasks.Wait)

	ctx := context.Background()
	if _, err := m.Start(ctx, research.StartRequest{Tag: "modal", By: "UALICE"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Pause(ctx, "UALICE"); err != nil {
		t.Fatal(err)
	}

	h.command("UBOB", slackTestChannel, "program", "secret", h.now)
	view := h.f.WaitCalls("views.open", 1)[0].JSON["view"].(map[string]any)
	values := map[string]any{}
	for _, bl := range view["blocks"].([]any) {
		block := bl.(map[string]any)
		if block["type"] != "input" {
			continue
		}
		v, _ := block["element"].(map[string]any)["initial_value"].(string)
		if block["block_id"] == "program_0" {
			v += "\nBe bold."
		}
		values[block["block_id"].(string)] = map[string]any{"text": map[string]any{"type": "plain_text_input", "value": v}}
	}

	h.command("UALICE", slackTestChannel, "program append Keep the learning rate.", "secret", h.now)
	h.s.tasks.Wait()
	if p, _ := db.PendingProgramEdits(ctx); len(p) != 1 {
		t.Fatalf("pending = %+v, want Alice's append queued", p)
	}

	payload, _ := json.Marshal(map[string]any{"type": "view_submission", "user": map[string]any{"id": "UBOB"},
		"view": map[string]any{"callback_id": "program_edit", "private_metadata": view["private_metadata"],
			"state": map[string]any{"values": values}}})
	resp, body := h.do("/slack/interactive", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode()), "secret", h.now)
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &ack); err != nil || resp.StatusCode != 200 || ack.ResponseAction != "errors" {
		t.Fatalf("stale save answered %d %q, want response_action errors", resp.StatusCode, body)
	}
	msg := ack.Errors["program_0"]
	for _, want := range []string{"changed since you opened the editor", "UALICE appended", "Keep the learning rate.", "not saved", "/autoresearch program"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error under the input lacks %q: %q", want, msg)
		}
	}
	if p, _ := db.PendingProgramEdits(ctx); len(p) != 1 || p[0].Kind != "append" {
		t.Fatalf("pending = %+v, want only Alice's append", p)
	}

	if err := m.Resume(ctx, "UALICE"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := m.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	final := researchtest.Read(t, dir, "program.md")
	if !strings.Contains(final, "Keep the learning rate.") || strings.Contains(final, "Be bold.") {
		t.Fatalf("program.md after the run:\n%s\nwant Alice's append and not Bob's stale save", final)
	}
}
