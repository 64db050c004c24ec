package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/bot/terminal"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// shutdownGrace bounds how long SIGTERM may take: the experiment is killed
// (the trainer gets trainer.DefaultStopGrace between SIGTERM and SIGKILL),
// recorded and the repo reset well within docker's 10 s. Past it the loop
// is given up: every process of the trainer is killed and we exit.
const shutdownGrace = 7 * time.Second

// endTrainersWithin bounds the last sweep of trainer processes at exit.
const endTrainersWithin = time.Second

func runCmd(args []string, streams IO) error {
	fs := newFlagSet("run", streams)
	var f loopFlags
	f.register(fs)
	tag := fs.String("tag", "", "the run's tag; the branch is autoresearch/TAG (e.g. mar20)")
	resume := fs.Bool("resume", false, "continue the existing run of this tag")
	from := fs.String("from", "", "git ref the run's branch starts from (default HEAD)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req := research.StartRequest{Tag: *tag, From: *from, By: "terminal", Resume: *resume}
	return runLoop(&f, req, streams, loopOptions{})
}

// loopOptions are what differs between the terminal loops (run, demo).
type loopOptions struct {
	// onEnd, when set, is called after the loop ended.
	onEnd func(*loopParts) error
	// endPausedWithoutInput stops a run that is paused once the terminal's
	// input has ended (or there is none): nobody can type resume, and the
	// process would wait for ever. The loop then returns a *terminal.PausedError.
	endPausedWithoutInput bool
}

// runLoop runs one run in the terminal until it ends, stop is typed, or the
// process is interrupted.
func runLoop(f *loopFlags, req research.StartRequest, streams IO, opts loopOptions) error {
	if err := research.ValidateTag(req.Tag); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	if err := probeOwner(f); err != nil {
		return err
	}
	if err := precheck(f, req); err != nil {
		return err
	}
	lock, err := takeOwnership(f, req.Tag)
	if err != nil {
		return err
	}
	defer lock.Release()
	logFile, logger, err := openLog(f, nil)
	if err != nil {
		return err
	}
	defer logFile.Close()
	slog.SetDefault(logger) // libraries that log to the default logger go to the file too
	parts, err := openLoop(f, logger)
	if err != nil {
		return err
	}
	defer parts.Close()

	term := &terminal.Terminal{In: streams.In, Out: streams.Out, Controller: parts.manager, Color: isTerminal(streams.Out)}
	parts.manager.Observer = term
	var pauses *terminal.PauseWatch
	if opts.endPausedWithoutInput {
		pauses = terminal.WatchPauses(term)
		parts.manager.Observer = pauses
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if f.slurm.runner != "slurm" {
		iso := f.iso.describe()
		fmt.Fprintf(streams.Err, "trainer isolation: %s\n", iso)
		logger.Info("trainer isolation", "mode", iso.Mode, "why", iso.Why)
	}
	// No process of ours outlives us, whatever the trainer does.
	defer endTrainers(logger, loopRoots(parts.manager)...)
	if _, err := parts.manager.Start(ctx, req); err != nil {
		return err
	}
	waitCtx, giveUp := context.WithCancel(context.Background())
	defer giveUp()
	stopSignals := handleSignals(parts.manager, streams.Err, giveUp)
	defer stopSignals()
	inputDone := make(chan struct{})
	if streams.In != nil {
		go func() {
			defer close(inputDone)
			if err := term.Serve(ctx, "terminal"); err != nil && !errors.Is(err, context.Canceled) {
				logger.Warn("reading terminal commands", "err", err)
			}
		}()
	} else {
		close(inputDone)
	}
	if pauses != nil {
		go pauses.StopWhenPausedWithoutInput(ctx, parts.manager, inputDone)
	}
	if err := parts.manager.Wait(waitCtx); err != nil {
		if waitCtx.Err() != nil {
			return fmt.Errorf("SIGTERM: the loop did not end within %v; its trainer was killed", shutdownGrace)
		}
		return err
	}
	if pauses != nil {
		if err := pauses.Ended(); err != nil {
			return err
		}
	}
	if opts.onEnd != nil {
		return opts.onEnd(parts)
	}
	return nil
}

// precheck refuses bad input before a state dir exists, so a refused start
// leaves no trace in the repository.
func precheck(f *loopFlags, req research.StartRequest) error {
	dir, err := f.absRepo()
	if err != nil {
		return err
	}
	repo, err := openRepo(dir)
	if err != nil {
		return err
	}
	cfg := f.config(repo.Root())
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "autoresearch.db")); err == nil {
		return nil // the store decides (an interrupted run resumes)
	}
	return research.Precheck(repo, cfg, req)
}

// openLog sends the structured log to STATE_DIR/autoresearch.log, and to
// also when set (the bot's stderr: the service journal); the terminal loop
// keeps it off the screen so it does not tear through the progress bar.
func openLog(f *loopFlags, also io.Writer) (*os.File, *slog.Logger, error) {
	dir, err := f.absRepo()
	if err != nil {
		return nil, nil, err
	}
	cfg := f.config(dir)
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, nil, err
	}
	file, err := os.OpenFile(filepath.Join(cfg.StateDir, "autoresearch.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	// The bot's own log is stored too: no secret in it either.
	red := f.redactor()
	var h slog.Handler = slog.NewTextHandler(redacting(file, red), opts)
	if also != nil {
		h = slog.NewMultiHandler(h, slog.NewTextHandler(redacting(also, red), opts))
	}
	return file, slog.New(h), nil
}

// stopper is what signals act on.
type stopper interface {
	Stop(ctx context.Context, by string, mode research.StopMode) error
	Shutdown(ctx context.Context) error
}

// handleSignals: the first Ctrl-C stops after the running experiment, the
// second stops at once; SIGTERM (systemd, docker stop) kills the experiment,
// records it and leaves the run resumable. When that takes longer than
// shutdownGrace, giveUp is called: the caller stops waiting and exits.
func handleSignals(m stopper, errOut io.Writer, giveUp func()) (stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		interrupts := 0
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				if sig == syscall.SIGTERM {
					fmt.Fprintln(errOut, "\nSIGTERM: stopping the running experiment; the run resumes at the next start")
					ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
					err := m.Shutdown(ctx)
					cancel()
					if err != nil {
						fmt.Fprintf(errOut, "the loop did not end within %v; killing the trainer and exiting\n", shutdownGrace)
						giveUp()
					}
					continue
				}
				interrupts++
				if interrupts == 1 {
					fmt.Fprintln(errOut, "\nstopping after the running experiment (Ctrl-C again to stop now)")
					_ = m.Stop(context.Background(), "Ctrl-C", research.StopAfterRunning)
				} else {
					fmt.Fprintln(errOut, "\nstopping now")
					_ = m.Stop(context.Background(), "Ctrl-C", research.StopNow)
				}
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// loopRoots are where a loop's trainers work: its repository (and the
// worktrees in it) and its state dir.
func loopRoots(m *research.Manager) []string {
	return []string{m.Repo.Root(), m.Config.StateDir}
}

// endTrainers kills what is left of the trainers this loop started (those
// under roots); after a clean shutdown nothing is.
func endTrainers(logger *slog.Logger, roots ...string) {
	if n := trainer.EndUnder(roots, endTrainersWithin); n > 0 {
		logger.Warn("killed trainers still running at exit", "count", n)
	}
}

// isTerminal reports whether w is a character device (a real terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
