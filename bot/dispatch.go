package bot

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/digest"
	"github.com/autoresearch/autoresearch/research"
)

// One dispatcher carries out every chat command, whoever typed it: the
// terminal, a slash command, a button or a message shortcut parse or build
// a command.Command, hand it to Dispatcher.Do and word the Reply their own way.
// What a command does lives in exactly one handler (dispatch_handlers.go).

// Request is one command to carry out and who asks for it.
type Request struct {
	Command command.Command
	// By is who asks: a Slack user ID or "terminal". Ideas are credited to
	// them and the controller logs them as the one who steered.
	By string
	// Idea is what the front end knows about an idea beyond its text: its
	// Source ("terminal", "slash", "button", "shortcut") and the thread or
	// message it came from. Text and Author are set by the handler.
	Idea research.Idea
}

// Reply is a command's outcome for any front end. Text is the answer in
// plain text (what the terminal prints); the other fields are what the
// command produced, set only by the commands that produce them, for front
// ends that word their own messages (Slack: code blocks, files, channel
// posts).
type Reply struct {
	Text        string
	Run         *research.Run         // start: the run that is starting
	Status      *research.Status      // status, digest without a digest hook
	Idea        *research.Idea        // idea: the pinned idea
	Ideas       []research.Idea       // ideas
	Experiment  *research.Experiment  // show, best (nil: none yet), log
	Experiments []research.Experiment // results, digest without a digest hook
	Program     string                // program: program.md as the loop will use it
	Log         string                // log: the whole training log
	Digest      *digest.Message       // digest, when the dispatcher has a digest hook
}

// handler carries out one command.
type handler func(ctx context.Context, d *Dispatcher, req Request) (Reply, error)

// handlers is the one table from command to what it does. Every command the
// parser knows has an entry (TestEveryCommandHasAHandler).
var handlers = map[command.Name]handler{
	command.Start:         doStart,
	command.Stop:          doStop,
	command.Pause:         doPause,
	command.Resume:        doResume,
	command.Status:        doStatus,
	command.Idea:          doIdea,
	command.Ideas:         doIdeas,
	command.Unpin:         doUnpin,
	command.Program:       doProgram,
	command.ProgramAppend: doProgramAppend,
	command.Results:       doResults,
	command.Best:          doBest,
	command.Show:          doShow,
	command.Log:           doLog,
	command.Retry:         doRetry,
	command.Review:        doReview,
	command.Digest:        doDigest,
	command.Help:          doHelp,
}

// Dispatcher carries out commands against the controller.
type Dispatcher struct {
	Controller Controller
	// Digest composes the run digest for `digest`; nil answers with the
	// status and the latest results (the terminal, which has no chart).
	Digest func(ctx context.Context) (digest.Message, error)
	Logger *slog.Logger // panics are logged here (default: slog.Default)
}

// Do carries out one command. A panic in it is recovered, logged and
// returned as a *research.PanicError, so one bug costs one answer and the
// next command works.
func (d *Dispatcher) Do(ctx context.Context, req Request) (reply Reply, err error) {
	h, ok := handlers[req.Command.Name]
	if !ok {
		return Reply{}, fmt.Errorf("there is no command %q", req.Command.Name)
	}
	defer research.Recover(d.Logger, "command "+string(req.Command.Name), func(p *research.PanicError) {
		reply, err = Reply{}, p
	})
	return h(ctx, d, req)
}

// ActiveRunError is a start refused because a run is active: the
// controller's own error, with the run so front ends can say whose it is.
type ActiveRunError struct {
	Err error
	Run research.Run
}

func (e *ActiveRunError) Error() string { return e.Err.Error() }
func (e *ActiveRunError) Unwrap() error { return e.Err }
