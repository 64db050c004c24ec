package bot

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// Every command the parser knows is carried out by one handler and worded
// for Slack by one reply, so no front end can miss one.
func TestEveryCommandHasAHandler(t *testing.T) {
	for _, spec := range commandSpecs {
		if handlers[spec.name] == nil {
			t.Errorf("no handler for %q", spec.name)
		}
		if slashReplies[spec.name] == nil {
			t.Errorf("no Slack reply for %q", spec.name)
		}
	}
	if len(handlers) != len(commandSpecs) || len(slashReplies) != len(commandSpecs) {
		t.Errorf("%d handlers and %d Slack replies for %d commands", len(handlers), len(slashReplies), len(commandSpecs))
	}
}

// A bug in one command is returned as a PanicError; the next command works.
func TestDispatcherRecoversAPanicPerCommand(t *testing.T) {
	d := &Dispatcher{Controller: panicTerminalCtrl{sampleController()}}
	_, err := d.Do(context.Background(), Request{Command: Command{Name: CmdStatus}, By: "alice"})
	var bug *research.PanicError
	if !errors.As(err, &bug) || !strings.Contains(bug.Error(), "status bug") || bug.Where != "command status" {
		t.Fatalf("err = %v, want the status bug as a PanicError", err)
	}
	r, err := d.Do(context.Background(), Request{Command: Command{Name: CmdIdeas}, By: "alice"})
	if err != nil || len(r.Ideas) != 1 || r.Text != "[5] try muon  (by terminal)\n" {
		t.Fatalf("next command = %+v, %v", r, err)
	}
}

// The reply carries what the command produced, for front ends that word
// their own answers; the idea keeps what the front end knew about it.
func TestDispatcherReplyParts(t *testing.T) {
	f := sampleController()
	d := &Dispatcher{Controller: f}
	ctx := context.Background()
	r, err := d.Do(ctx, Request{Command: Command{Name: CmdIdea, Text: "warmup"}, By: "U1",
		Idea: research.Idea{Source: "shortcut", ThreadTS: "1.2", MessageTS: "1.3"}})
	if err != nil || r.Idea == nil || r.Idea.Author != "U1" || r.Idea.Text != "warmup" {
		t.Fatalf("idea reply = %+v, %v", r, err)
	}
	if got := joinCalls(f.Calls()); got != `AddIdea "warmup" by=U1 source=shortcut` {
		t.Errorf("calls = %q", got)
	}
	r, err = d.Do(ctx, Request{Command: Command{Name: CmdLog, N: 3}})
	if err != nil || r.Experiment == nil || r.Experiment.Number != 3 || !strings.Contains(r.Log, "CUDA out of memory") {
		t.Fatalf("log reply = %+v, %v", r, err)
	}
	r, err = d.Do(ctx, Request{Command: Command{Name: CmdDigest}})
	if err != nil || r.Status == nil || len(r.Experiments) != 3 || r.Digest != nil {
		t.Fatalf("digest without a hook = %+v, %v", r, err)
	}
	d.Digest = func(context.Context) (DigestMessage, error) { return DigestMessage{Text: "Night: 3 experiments"}, nil }
	r, err = d.Do(ctx, Request{Command: Command{Name: CmdDigest}})
	if err != nil || r.Digest == nil || r.Text != "Night: 3 experiments" {
		t.Fatalf("digest with a hook = %+v, %v", r, err)
	}
}

// A start refused while a run is active names that run.
func TestDispatcherStartRefusalNamesTheActiveRun(t *testing.T) {
	c := refusingStart{sampleController()}
	_, err := (&Dispatcher{Controller: c}).Do(context.Background(), Request{Command: Command{Name: CmdStart, Tag: "x"}})
	var active *ActiveRunError
	if !errors.As(err, &active) || active.Run.Tag != "mar20" || err.Error() != "a run is already active" {
		t.Fatalf("err = %#v", err)
	}
}

// refusingStart refuses every start, as the manager does while a run is active.
type refusingStart struct{ *fakeController }

func (refusingStart) Start(context.Context, research.StartRequest) (research.Run, error) {
	return research.Run{}, errors.New("a run is already active")
}
