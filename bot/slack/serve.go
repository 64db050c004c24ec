package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/autoresearch/autoresearch/bot/digest"
	"github.com/autoresearch/autoresearch/research"
)

// Loop is what Serve needs of the research loop beyond the commands (the
// Bot's Controller): resuming the run the last shutdown interrupted, and
// shutting down. research.Manager implements it.
type Loop interface {
	ResumeInterrupted(ctx context.Context, by string) (research.Run, bool, error)
	Shutdown(ctx context.Context) error
}

// ServeOptions is what Serve runs beside the Bot and how it ends.
type ServeOptions struct {
	Loop Loop
	// Digests posts the daily digest while the bot serves; nil: none.
	Digests *digest.Scheduler
	// Console is where the operator reads what happens at start and stop
	// (the process's stderr); nil: nowhere.
	Console io.Writer
	// ShutdownGrace bounds the loop's shutdown after ctx ends (the running
	// experiment is killed and recorded); ExitWithin bounds the whole exit,
	// the outbox getting what is left of it.
	ShutdownGrace, ExitWithin time.Duration
	// Stuck is called when the loop did not shut down within ShutdownGrace
	// (cmd ends the trainers); nil: nothing more is done.
	Stuck func()
	// Logger gets what goes wrong while serving and stopping (default: the
	// Bot's logger).
	Logger *slog.Logger
}

// UseDigests makes s post sched's digests and answer `digest` with a
// preview of the next one, both with links to the experiments' messages.
func (s *Bot) UseDigests(sched *digest.Scheduler) {
	sched.Post = func(ctx context.Context, d digest.Digest) error {
		return s.PostDigest(ctx, digest.NewMessage(d, s.ExperimentLink(ctx)))
	}
	s.Digest = func(ctx context.Context) (digest.Message, error) {
		d, err := sched.Preview(ctx)
		if err != nil {
			return digest.Message{}, err
		}
		return digest.NewMessage(d, s.ExperimentLink(ctx)), nil
	}
}

// CheckAtStart is the start-up check with Slack (Check), bounded by
// timeout. A setting to fix is returned as a *research.InputError. With no
// admins set it warns on console: everyone may steer.
func (s *Bot) CheckAtStart(ctx context.Context, timeout time.Duration, console io.Writer) error {
	checkCtx, cancel := context.WithTimeout(ctx, timeout)
	err := s.Check(checkCtx)
	cancel()
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return &research.InputError{Msg: "Slack check failed: " + err.Error(), Err: err}
		}
		//lint:ignore ST1005 "Slack" is a proper noun and this line is shown to the user as is
		return fmt.Errorf("Slack check failed: %w", err)
	}
	if len(s.cfg.Admins) == 0 && console != nil {
		fmt.Fprintln(console, "WARNING: AUTORESEARCH_ADMINS is not set: EVERYONE in the channel can start, stop and steer runs and edit program.md.\n         Set it to a comma-separated list of Slack user IDs.")
	}
	return nil
}

// Serve resumes the interrupted run, if any, then serves Slack (and posts
// the digests) until ctx ends (a signal) or the Slack transport fails.
// Then the loop shuts down first, so that its last events are still
// delivered, and the outbox gets what is left of ExitWithin; what is not
// delivered stays queued for the next start.
func (s *Bot) Serve(ctx context.Context, o ServeOptions) error {
	console, log := o.Console, o.Logger
	if console == nil {
		console = io.Discard
	}
	if log == nil {
		log = s.log
	}
	// An interrupted run resumes before Slack takes commands: a `start`
	// that came first would be taken for the run to resume.
	if run, resumed, err := o.Loop.ResumeInterrupted(ctx, ""); err != nil {
		log.Error("resuming the interrupted run", "err", err)
		fmt.Fprintf(console, "could not resume the interrupted run: %v\n", err)
		s.Event(research.Event{Kind: research.EventNotice, Time: time.Now(),
			Text: "The interrupted run could not be resumed: " + err.Error()})
	} else if resumed {
		fmt.Fprintf(console, "resumed run %s (branch %s)\n", run.Tag, run.Branch)
	} else {
		fmt.Fprintf(console, "idle: start a run with `%s start TAG`\n", s.cfg.CommandName)
	}

	// Slack serves (and delivers the outbox) on its own context: a signal
	// first shuts the loop down, whose last events are still delivered.
	slackCtx, stopSlack := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSlack()
	slackDone := make(chan error, 1)
	go func() {
		var err error
		if bug := research.Catch(log, "the Slack front end", func() { err = s.Run(slackCtx) }); bug != nil {
			err = bug // its handlers recover on their own; this is a last guard
		}
		slackDone <- err
	}()

	digestCtx, stopDigest := context.WithCancel(ctx)
	defer stopDigest()
	digestDone := make(chan struct{})
	go func() {
		defer close(digestDone)
		if o.Digests == nil {
			return
		}
		defer research.Recover(log, "the digest scheduler", nil)
		if err := o.Digests.Run(digestCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("digest scheduler stopped", "err", err)
		}
	}()

	var slackErr error
	slackEnded := false
	select {
	case <-ctx.Done():
		fmt.Fprintln(console, "stopping: the running experiment is recorded as stopped; the run resumes at the next start")
	case slackErr = <-slackDone:
		slackEnded = true
		if slackErr == nil {
			slackErr = errors.New("the Slack connection ended")
		}
		log.Error("slack stopped", "err", slackErr)
	}
	deadline := time.Now().Add(o.ExitWithin)
	stopDigest()
	shutCtx, cancelShut := context.WithTimeout(context.Background(), o.ShutdownGrace)
	if err := o.Loop.Shutdown(shutCtx); err != nil {
		log.Error("shutdown: the loop did not end in time; killing its trainer", "err", err)
		if o.Stuck != nil {
			o.Stuck()
		}
	}
	cancelShut()
	stopSlack()
	if !slackEnded {
		select {
		case err := <-slackDone:
			if err != nil {
				log.Error("slack", "err", err)
			}
		case <-time.After(time.Until(deadline)):
			log.Error("slack: still delivering at the exit deadline; the rest stays queued")
		}
	}
	<-digestDone
	if n, err := s.out.OutboxBacklog(context.Background()); err == nil && n > 0 {
		fmt.Fprintf(console, "%d Slack messages are queued for the next start\n", n)
	}
	return slackErr
}
