package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/bot/digest"
	"github.com/autoresearch/autoresearch/bot/slack"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Shutdown budget of the bot after SIGTERM or SIGINT: the running
// experiment is killed and recorded within botShutdownGrace, then the outbox
// gets what is left of botExitWithin (Slack.Run flushes for at most a couple
// of seconds), so the process is gone well within docker's 10 s.
const (
	botShutdownGrace = 6 * time.Second
	botExitWithin    = 9 * time.Second
	// botCheckTimeout bounds the start-up check with Slack.
	botCheckTimeout = 30 * time.Second
)

// botOptions is everything `bot` needs: the loop flags, the Slack settings
// from the environment and the digest schedule.
type botOptions struct {
	loop     loopFlags
	slack    slack.Config
	digestAt string
	loc      *time.Location
	review   bool // --review: the gate is on from the start
}

func botCmd(args []string, streams IO) error {
	opts, err := parseBotArgs(args, streams, os.Getenv)
	if err != nil {
		return err
	}
	// SIGTERM (systemd, docker stop) and Ctrl-C both end the bot the same
	// way: the experiment is killed and recorded, the run stays resumable.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveBot(ctx, opts, streams)
}

var (
	slashNameRE   = regexp.MustCompile(`^/?[a-z0-9][a-z0-9_-]{0,31}$`)
	slackUserIDRE = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
)

// parseBotArgs reads the flags and the SLACK_* / AUTORESEARCH_ADMINS
// variables (through getenv) and refuses bad input before anything is
// opened.
func parseBotArgs(args []string, streams IO, getenv func(string) string) (*botOptions, error) {
	fs := newFlagSet("bot", streams)
	o := &botOptions{}
	o.loop.register(fs)
	httpAddr := fs.String("http", "", "serve Slack's HTTP mode on ADDR (routes /slack/commands, /slack/events, /slack/interactive; needs SLACK_SIGNING_SECRET) instead of Socket Mode")
	command := fs.String("command-name", slack.DefaultSlashCommand, "the slash command, as configured in the Slack app")
	digestAt := fs.String("digest-at", "08:00", "local time of the morning digest (HH:MM, 24-hour clock)")
	tz := fs.String("tz", "", "time zone of --digest-at, e.g. Europe/Berlin (default: the host's)")
	review := fs.Bool("review", false, "hold each proposal for a person's Approve/Reject in the channel before it trains (also `review on|off`)")
	reviewTimeout := fs.Duration("review-timeout", 30*time.Minute, "decide a proposal nobody answered after this long (0: wait for ever)")
	reviewDefault := fs.String("review-default", research.ReviewApprove, "what an unanswered proposal becomes: approve (it trains) or skip (a new one is proposed)")
	verbosity := fs.String("channel-verbosity", string(slack.VerbosityQuiet), "what goes to the channel's top level: quiet (one message per experiment and per run event; details in threads), normal (quiet, plus the loop's notices) or all (every command's announcement too)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if *reviewDefault != research.ReviewApprove && *reviewDefault != research.ReviewSkip {
		return nil, usagef("--review-default %q: want approve or skip", *reviewDefault)
	}
	if *reviewTimeout < 0 {
		return nil, usagef("--review-timeout %v: want 0 (wait for ever) or a positive duration", *reviewTimeout)
	}
	o.review = *review
	v, err := slack.ParseVerbosity(*verbosity)
	if err != nil {
		return nil, usagef("--channel-verbosity %q: want quiet (the default), normal or all", *verbosity)
	}
	if _, _, err := digest.ParseAt(*digestAt); err != nil {
		return nil, usagef("--digest-at %q: %v", *digestAt, err)
	}
	o.digestAt = *digestAt
	o.loc = time.Local
	if *tz != "" {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return nil, usagef("--tz %q is not a known time zone (use an IANA name such as Europe/Berlin or UTC)", *tz)
		}
		o.loc = loc
	}
	if !slashNameRE.MatchString(*command) {
		return nil, usagef("--command-name %q: want a slash command like /autoresearch (lowercase letters, digits, - and _)", *command)
	}
	if err := o.loop.validate(); err != nil {
		return nil, err
	}
	admins, err := parseAdmins(getenv("AUTORESEARCH_ADMINS"))
	if err != nil {
		return nil, err
	}
	o.slack = slack.Config{
		BotToken:      strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		AppToken:      strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		SigningSecret: strings.TrimSpace(getenv("SLACK_SIGNING_SECRET")),
		Channel:       strings.TrimSpace(getenv("SLACK_CHANNEL")),
		APIURL:        strings.TrimSpace(getenv("SLACK_API_URL")),
		Admins:        admins,
		CommandName:   "/" + strings.TrimPrefix(*command, "/"),
		HTTPAddr:      *httpAddr,
		Timeout:       o.loop.timeout,
		Verbosity:     v,
		ReviewTimeout: *reviewTimeout,
		ReviewDefault: *reviewDefault,
	}
	o.slack.TrainingBudget, o.slack.TrainingBudgetFrom = research.TimeBudget(o.loop.repo)
	if *httpAddr != "" {
		// An explicit --http asks for HTTP mode even when an app token is
		// in the environment (Socket Mode would win otherwise).
		o.slack.AppToken = ""
	}
	o.slack.ProgramMaxBytes = o.loop.programMax
	o.loop.secrets = map[string]string{
		"SLACK_BOT_TOKEN": o.slack.BotToken, "SLACK_APP_TOKEN": strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		"SLACK_SIGNING_SECRET": o.slack.SigningSecret, "OPENAI_API_KEY": strings.TrimSpace(getenv("OPENAI_API_KEY")),
	}
	if err := o.slack.Validate(); err != nil {
		return nil, &research.InputError{Msg: "Slack is not set up:\n  " + strings.ReplaceAll(err.Error(), "\n", "\n  "), Err: err}
	}
	return o, nil
}

// parseAdmins reads AUTORESEARCH_ADMINS: comma-separated Slack user IDs.
func parseAdmins(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		id := strings.TrimSpace(part)
		if id == "" {
			continue
		}
		if !slackUserIDRE.MatchString(id) {
			return nil, usagef("AUTORESEARCH_ADMINS: %q is not a Slack user ID (U0123ABCD: a person's profile → ⋮ → Copy member ID)", id)
		}
		out = append(out, id)
	}
	return out, nil
}

// serveBot runs the Slack bot with the loop inside it until ctx ends (a
// signal) or the Slack transport fails. No run is started: the bot idles
// until `start TAG`, except that a run interrupted by the last shutdown
// resumes (and says so in the channel). It wires the parts; serving and
// the order of shutdown are slack.Bot.Serve's.
func serveBot(ctx context.Context, o *botOptions, streams IO) error {
	lock, err := takeOwnership(&o.loop, "")
	if err != nil {
		return err
	}
	defer lock.Release()
	logFile, logger, err := openLog(&o.loop, streams.Err)
	if err != nil {
		return err
	}
	defer logFile.Close()
	slog.SetDefault(logger)

	parts, err := openLoop(&o.loop, logger)
	if err != nil {
		return err
	}
	defer parts.Close()
	m := parts.manager

	o.slack.Redactor = m.Config.Redactor
	m.Config.ReviewTimeout, m.Config.ReviewDefault = o.slack.ReviewTimeout, o.slack.ReviewDefault
	sb, err := slack.New(o.slack, m, parts.db, logger)
	if err != nil {
		return err
	}
	m.Reviewer = sb
	if o.review {
		if err := m.SetReview(ctx, true, "--review"); err != nil {
			return err
		}
	}
	if err := sb.CheckAtStart(ctx, botCheckTimeout, streams.Err); err != nil {
		return err
	}
	m.Observer = parts.observe(research.ObserverFunc(func(e research.Event) {
		if e.Kind == research.EventRunStarted {
			_ = lock.SetTag(e.Run.Tag) // owner.json names the run a second process would meet
		}
		sb.Event(e)
		logEvent(logger, e)
	}))
	sched := &digest.Scheduler{
		At: o.digestAt, Location: o.loc, Records: parts.db, Logger: logger.With("component", "digest"),
		CostOf: m.Config.CostOf, Live: m.Status,
	}
	sb.UseDigests(sched)

	mode := "Socket Mode"
	if o.slack.AppToken == "" {
		mode = "HTTP on " + o.slack.HTTPAddr
	}
	fmt.Fprintf(streams.Err, "autoresearch bot: %s, channel %s, command %s, digest at %s %s\n",
		mode, o.slack.Channel, o.slack.CommandName, o.digestAt, o.loc)
	// No process of ours outlives us, whatever the trainer does.
	defer endTrainers(logger, loopRoots(m)...)
	if o.loop.slurm.runner != "slurm" {
		iso := o.loop.iso.describe()
		fmt.Fprintf(streams.Err, "trainer isolation: %s\n", iso)
		logger.Info("trainer isolation", "mode", iso.Mode, "why", iso.Why)
		if iso.Mode != trainer.IsolationNamespaces {
			sb.Event(research.Event{Kind: research.EventNotice, Time: time.Now(),
				Text: "⚠️ Trainer isolation is weaker than it could be here: " + iso.String()})
		}
	}
	return sb.Serve(ctx, slack.ServeOptions{
		Loop: m, Digests: sched, Console: streams.Err,
		ShutdownGrace: botShutdownGrace, ExitWithin: botExitWithin,
		Stuck: func() { endTrainers(logger, loopRoots(m)...) }, Logger: logger,
	})
}

// logEvent writes one loop event to the log (progress only at debug level).
func logEvent(logger *slog.Logger, e research.Event) {
	attrs := []any{"kind", e.Kind}
	if e.Run.Tag != "" {
		attrs = append(attrs, "run", e.Run.Tag)
	}
	if e.Experiment != nil {
		attrs = append(attrs, "number", e.Experiment.Number, "status", e.Experiment.Status)
		if e.Experiment.Summary.ValBPB > 0 {
			attrs = append(attrs, "val_bpb", e.Experiment.Summary.ValBPB)
		}
	} else if e.Number > 0 {
		attrs = append(attrs, "number", e.Number)
	}
	if e.Text != "" {
		attrs = append(attrs, "text", e.Text)
	}
	if e.Kind == research.EventProgress {
		logger.Debug("event", attrs...)
		return
	}
	logger.Info("event", attrs...)
}

// slackManifestCmd prints the Slack app manifest to create the app from.
func slackManifestCmd(args []string, streams IO) error {
	fs := newFlagSet("slack-manifest", streams)
	command := fs.String("command-name", slack.DefaultSlashCommand, "the slash command")
	httpURL := fs.String("http-url", "", "public base URL of the bot's HTTP mode, e.g. https://bot.example.com (default: Socket Mode)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !slashNameRE.MatchString(*command) {
		return usagef("--command-name %q: want a slash command like /autoresearch", *command)
	}
	if *httpURL != "" && !strings.HasPrefix(*httpURL, "https://") {
		return usagef("--http-url %q: Slack only calls https:// URLs", *httpURL)
	}
	out := slack.Manifest(*command, *httpURL)
	if len(out) == 0 || out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	_, err := streams.Out.Write(out)
	return err
}
