package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/render"
	"github.com/autoresearch/autoresearch/research"
)

// The handlers: one per command, each doing what the command does and
// answering in plain text. Front ends that word their answers differently
// (Slack) read the Reply's structured fields instead of its Text.

// logTailLines is how much of a training log the plain answer to `log N`
// shows.
const logTailLines = 40

// digestResults is how many experiments the digest without a digest hook
// lists after the status.
const digestResults = 10

func doStart(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	c := req.Command
	run, err := d.Controller.Start(ctx, research.StartRequest{Tag: c.Tag, From: c.From, By: req.By})
	if err != nil {
		// "One run at a time": say whose run is in the way when we can.
		if st, serr := d.Controller.Status(ctx); serr == nil && st.Active && st.Run != nil {
			return Reply{}, &ActiveRunError{Err: err, Run: *st.Run}
		}
		return Reply{}, err
	}
	return Reply{Run: &run, Text: fmt.Sprintf("starting run %s on branch %s", run.Tag, run.Branch)}, nil
}

func doStop(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	mode := research.StopAfterRunning
	if req.Command.Now {
		mode = research.StopNow
	}
	if err := d.Controller.Stop(ctx, req.By, mode); err != nil {
		return Reply{}, err
	}
	if req.Command.Now {
		return Reply{Text: "stopping now: the running experiment is ended and recorded as crash"}, nil
	}
	return Reply{Text: "stopping after the running experiment (\"stop now\" ends it at once)"}, nil
}

func doPause(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	if err := d.Controller.Pause(ctx, req.By); err != nil {
		return Reply{}, err
	}
	return Reply{Text: "pausing after the running experiment (\"resume\" continues)"}, nil
}

func doResume(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	if err := d.Controller.Resume(ctx, req.By); err != nil {
		return Reply{}, err
	}
	return Reply{Text: "resuming"}, nil
}

func doStatus(ctx context.Context, d *Dispatcher, _ Request) (Reply, error) {
	st, err := d.Controller.Status(ctx)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Status: &st, Text: render.FormatStatus(st)}, nil
}

func doIdea(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	in := req.Idea
	in.Text, in.Author = req.Command.Text, req.By
	idea, err := d.Controller.AddIdea(ctx, in)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Idea: &idea,
		Text: fmt.Sprintf("pinned idea [%d]: the next proposals will see it (\"unpin %d\" drops it)", idea.ID, idea.ID)}, nil
}

func doIdeas(ctx context.Context, d *Dispatcher, _ Request) (Reply, error) {
	ideas, err := d.Controller.Ideas(ctx)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Ideas: ideas, Text: render.FormatIdeas(ideas)}, nil
}

func doUnpin(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	if err := d.Controller.Unpin(ctx, req.Command.ID, req.By); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("unpinned idea [%d]", req.Command.ID)}, nil
}

func doProgram(ctx context.Context, d *Dispatcher, _ Request) (Reply, error) {
	text, err := d.Controller.Program(ctx)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Program: text,
		Text: strings.TrimRight(text, "\n") + "\n--- end of program.md; to add to it: program append TEXT"}, nil
}

func doProgramAppend(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	pe, err := d.Controller.EditProgram(ctx, research.ProgramEdit{Author: req.By, Kind: "append", Text: req.Command.Text})
	if err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("queued program.md edit [%d]: it is committed between experiments", pe.ID)}, nil
}

func doResults(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	exps, err := d.Controller.Results(ctx, req.Command.ResultsLimit())
	if err != nil {
		return Reply{}, err
	}
	return Reply{Experiments: exps, Text: render.FormatResultsTable(exps)}, nil
}

func doBest(ctx context.Context, d *Dispatcher, _ Request) (Reply, error) {
	st, err := d.Controller.Status(ctx)
	if err != nil {
		return Reply{}, err
	}
	if st.Best == nil {
		return Reply{Text: "no successful experiment yet"}, nil
	}
	// The status snapshot may leave the diff out; the record has it.
	best := *st.Best
	if full, err := d.Controller.Experiment(ctx, best.Number); err == nil {
		best = full
	}
	return Reply{Experiment: &best, Text: render.FormatExperiment(best)}, nil
}

func doShow(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	e, err := d.Controller.Experiment(ctx, req.Command.N)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Experiment: &e, Text: render.FormatExperiment(e)}, nil
}

func doLog(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	n := req.Command.N
	// The record says where the log belongs (its thread in Slack).
	e, err := d.Controller.Experiment(ctx, n)
	if err != nil {
		return Reply{}, err
	}
	log, err := d.Controller.Log(ctx, n)
	if err != nil {
		return Reply{}, err
	}
	r := Reply{Experiment: &e, Log: log, Text: fmt.Sprintf("experiment #%d has no log", n)}
	if tail := render.FormatLogTail(log, logTailLines); tail != "" {
		r.Text = fmt.Sprintf("log of #%d (last %d lines):\n%s", n, logTailLines, tail)
	}
	return r, nil
}

func doRetry(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	n := req.Command.N
	if err := d.Controller.Retry(ctx, n, req.By); err != nil {
		return Reply{}, err
	}
	return Reply{Text: fmt.Sprintf("experiment #%d will be tried again", n)}, nil
}

func doReview(ctx context.Context, d *Dispatcher, req Request) (Reply, error) {
	if err := d.Controller.SetReview(ctx, req.Command.On, req.By); err != nil {
		return Reply{}, err
	}
	if req.Command.On {
		return Reply{Text: "review gate on: each proposal waits for approval in Slack"}, nil
	}
	return Reply{Text: "review gate off: proposals train without waiting"}, nil
}

func doDigest(ctx context.Context, d *Dispatcher, _ Request) (Reply, error) {
	if d.Digest != nil {
		dm, err := d.Digest(ctx)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Digest: &dm, Text: dm.Text}, nil
	}
	st, err := d.Controller.Status(ctx)
	if err != nil {
		return Reply{}, err
	}
	exps, err := d.Controller.Results(ctx, digestResults)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Status: &st, Experiments: exps,
		Text: render.FormatStatus(st) + "\nlast experiments:\n" + render.FormatResultsTable(exps)}, nil
}

func doHelp(context.Context, *Dispatcher, Request) (Reply, error) {
	return Reply{Text: command.HelpText()}, nil
}
