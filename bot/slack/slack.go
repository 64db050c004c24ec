package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/bot"
	"github.com/autoresearch/autoresearch/bot/command"
	"github.com/autoresearch/autoresearch/bot/digest"
	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
	"github.com/autoresearch/autoresearch/research"
)

// Config configures the Slack front end (see DESIGN.md: SLACK_* and
// AUTORESEARCH_ADMINS).
type Config struct {
	BotToken      string // xoxb-...
	AppToken      string // xapp-...; set = Socket Mode
	SigningSecret string // HTTP mode: verifies Slack's requests
	Channel       string // channel ID the bot posts to and takes commands in
	APIURL        string // Web API base override (tests, proxies); "" = Slack
	// Admins may steer (start/stop/pause/resume, ideas, program edits);
	// empty means everyone in the channel may.
	Admins      []string
	CommandName string // the slash command, default "/autoresearch"
	HTTPAddr    string // HTTP mode listen address, e.g. ":3000"
	// TrainingBudget is what each experiment trains for, as the repo declares
	// it (upstream's TIME_BUDGET), and TrainingBudgetFrom the file it is read
	// from; Timeout is the harness's guard around a training. Run headers
	// show each that is set, apart, so nobody takes the guard for the budget.
	// ReviewTimeout and ReviewDefault are the review gate's (said in its
	// messages; the loop applies them).
	ReviewTimeout time.Duration
	ReviewDefault string
	// Verbosity is how much goes to the top level of the channel
	// (VerbosityQuiet when empty).
	Verbosity Verbosity

	TrainingBudget     time.Duration
	TrainingBudgetFrom string
	Timeout            time.Duration
	// Redactor hides the process's secrets in everything posted, updated
	// or uploaded; nil: none.
	Redactor *research.Redactor
	// ProgramMaxBytes caps program.md edits made in the modal (default
	// research.DefaultProgramMaxBytes); the loop enforces the same cap.
	ProgramMaxBytes int
}

func (s *Bot) limits() limits {
	return limits{budget: s.cfg.TrainingBudget, budgetFrom: s.cfg.TrainingBudgetFrom, timeout: s.cfg.Timeout}
}

// DefaultSlashCommand is the slash command unless Config.CommandName says otherwise.
const DefaultSlashCommand = "/" + command.DefaultName

// flushTimeout is how long Run keeps delivering after its context ends.
const flushTimeout = 2 * time.Second

// progressEvery limits how often an experiment message shows training
// progress: chat.update is rate limited and people do not need more.
const progressEvery = time.Minute

// Bot is the Slack front end: it turns loop events into channel messages
// (through the outbox) and slash commands, thread replies and modal
// submissions into Controller calls.
type Bot struct {
	// Digest builds the digest the `digest` command posts; nil answers
	// with the status and the latest results. Set it before Run.
	Digest func(ctx context.Context) (digest.Message, error)

	cfg    Config
	ctrl   bot.Controller
	out    Outbox
	log    *slog.Logger
	api    slackAPI
	parser command.Parser
	auth   authorizer
	worker *outboxWorker
	seen   *dedupe // event_ids already handled
	// replays holds the signed HTTP requests already handled.
	replays *replayGuard
	// finished holds the keys of experiments that ended, so a progress
	// event arriving late cannot turn a result back into "training".
	finished *dedupe
	// queued holds the keys of messages this process queued, so a reply
	// is threaded only under a message that will exist (a queued reply
	// waits for its parent, and would wait forever for one never queued).
	queued *dedupe
	now    func() time.Time

	mu           sync.Mutex
	identity     slackIdentity // from auth.test
	lastProgress map[string]time.Time
	expIdeas     map[string][]ideaRef // exp key -> the ideas it used, for re-rendering
	// threadOf maps a threaded experiment (a baseline repeat, a
	// confirmation) to its parent's key; baselineKey is each run's first
	// baseline message; stopNotice is the channel's "stopping" message that
	// the run's end replaces.
	threadOf    map[string]string
	baselineKey map[int64]string
	stopNotice  string
	home        homeViewers
	reviews     map[string]*pendingReview // review gate: proposals waiting for a person
	// lastTelemetry is the GPU telemetry of the latest finished experiment
	// that had some, for `status`.
	lastTelemetry *expTelemetry

	// tasks tracks the work started by requests, so Run can let it finish.
	tasks sync.WaitGroup
	// bg is the context request work runs in; it outlives Run's context by
	// the flush window, so answers in flight are still sent.
	bg context.Context
}

type expTelemetry struct {
	Number    int
	Telemetry research.Telemetry
}

type ideaRef struct {
	ID     int64  `json:"id"`
	Author string `json:"author"`
	Text   string `json:"text"`
}

// New builds the front end. It does not check the configuration: Check
// does (with Slack), and Run refuses to start with a broken one.
func New(cfg Config, ctrl bot.Controller, outbox Outbox, logger *slog.Logger) (*Bot, error) {
	if ctrl == nil || outbox == nil {
		return nil, errors.New("slack: a controller and an outbox are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CommandName == "" {
		cfg.CommandName = DefaultSlashCommand
	}
	if !strings.HasPrefix(cfg.CommandName, "/") {
		cfg.CommandName = "/" + cfg.CommandName
	}
	s := &Bot{
		cfg:          cfg,
		ctrl:         ctrl,
		out:          outbox,
		log:          logger.With("component", "slack"),
		api:          newSafeSlackAPI(newSlackGoAPI(cfg.BotToken, cfg.AppToken, cfg.APIURL), cfg.Redactor.Func()),
		parser:       command.Parser{Name: strings.TrimPrefix(cfg.CommandName, "/")},
		auth:         newAuthorizer(cfg.Channel, cfg.Admins),
		seen:         newDedupe(4096),
		replays:      newReplayGuard(signatureWindow, maxReplayEntries),
		finished:     newDedupe(1024),
		queued:       newDedupe(4096),
		now:          time.Now,
		lastProgress: map[string]time.Time{},
		expIdeas:     map[string][]ideaRef{},
		threadOf:     map[string]string{},
		baselineKey:  map[int64]string{},
		bg:           context.Background(),
	}
	s.worker = newOutboxWorker(s.api, outbox, s.log, cfg.Channel, s.teamURL)
	return s, nil
}

func (s *Bot) teamURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identity.URL
}

func (s *Bot) botUser() slackIdentity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identity
}

// Run serves Slack until ctx is done: Socket Mode when an app token is
// configured, else HTTP on HTTPAddr; and the outbox delivery. After ctx
// ends it keeps delivering for a couple of seconds, then returns; what is
// left stays queued for the next start.
func (s *Bot) Run(ctx context.Context) error {
	if err := s.cfg.validate(); err != nil {
		return err
	}
	if s.botUser().UserID == "" {
		// The bot's own user ID is needed to ignore its own messages.
		if err := s.identify(ctx); err != nil {
			return err
		}
	}
	if len(s.cfg.Admins) == 0 {
		s.log.Warn("AUTORESEARCH_ADMINS is not set: EVERYONE in the channel can start, stop and steer runs and edit program.md; set it to a comma-separated list of Slack user IDs")
	}
	if n, err := s.out.OutboxBacklog(ctx); err == nil && n > 0 {
		s.log.Info("slack outbox: delivering messages queued before", "count", n)
	}

	// runCtx ends when ctx does or when the transport fails on its own (a
	// refused app token): either way the worker then flushes and stops.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	// Work started by requests and the final flush run on a context that
	// outlives runCtx by flushTimeout.
	bg, cancelBG := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBG()
	s.mu.Lock()
	s.bg = bg
	s.mu.Unlock()
	stopFlush := context.AfterFunc(runCtx, func() { time.AfterFunc(flushTimeout, cancelBG) })
	defer stopFlush()

	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		s.worker.runGuarded(runCtx, bg)
	}()

	var err error
	if s.cfg.AppToken != "" {
		err = s.runSocketMode(runCtx)
	} else {
		err = s.runHTTP(runCtx)
	}
	stopRun()
	s.stopHomeRefresh()
	s.tasks.Wait()
	<-workerDone
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// identify asks auth.test who the bot is.
func (s *Bot) identify(ctx context.Context) error {
	id, err := s.api.AuthTest(ctx)
	if err != nil {
		return explainAuthError(err)
	}
	s.mu.Lock()
	s.identity = id
	s.mu.Unlock()
	return nil
}

// goTask runs f in the background on the request context, tracked so Run
// waits for it.
func (s *Bot) goTask(f func(ctx context.Context)) {
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
		s.mu.Lock()
		bg := s.bg
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(bg, 2*time.Minute)
		defer cancel()
		defer research.Recover(s.log, "a request", nil)
		f(ctx)
	}()
}

// bugText is what a person is told when their request hit a bug.
func bugText(p *research.PanicError) string {
	return "Sorry, " + research.BugMessage + " (" + p.Error() + "); nothing else was changed by this request."
}

// enqueue queues a message for the channel and nudges the worker. It only
// touches the store, never the network.
func (s *Bot) enqueue(ctx context.Context, kind, key, threadKey string, p outPayload) error {
	// The outbox is stored: secrets are redacted before, not only when sent.
	if r := s.cfg.Redactor; r != nil {
		p.Text, p.Title = r.Redact(p.Text), r.Redact(p.Title)
		p.Blocks = redactJSON(p.Blocks, r.Redact)
		p.Content = r.RedactBytes(p.Content)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		s.log.Error("slack: encoding a message", "err", err)
		return err
	}
	_, err = s.out.Enqueue(ctx, research.OutboxMessage{
		Key: key, Kind: kind, Channel: s.cfg.Channel, ThreadKey: threadKey, Payload: raw,
	})
	if err != nil {
		s.log.Error("slack: queueing a message failed; it is lost", "key", key, "kind", kind, "err", err)
		return err
	}
	if (kind == kindPost || kind == kindFile) && key != "" {
		s.queued.first(key)
	}
	s.worker.nudge()
	return nil
}

// exists tells whether the message with key was queued by this process or
// sent before, so that a reply can wait for it.
func (s *Bot) exists(ctx context.Context, key string) bool {
	if key == "" {
		return false
	}
	if s.queued.has(key) {
		return true
	}
	_, err := s.out.SentTS(ctx, key)
	return err == nil
}

// post queues a plain channel message.
func (s *Bot) post(ctx context.Context, text string, blocks json.RawMessage) {
	_ = s.enqueue(ctx, kindPost, "", "", outPayload{Text: text, Blocks: blocks})
}

func mention(user string) string {
	switch user {
	case "", "terminal":
		return "someone at the terminal"
	}
	if mrkdwn.IsID(user, "UW") {
		return mrkdwn.UserMention(user)
	}
	return mrkdwn.Escape(user)
}

// PostDigest queues a digest for the channel. It does not wait for Slack;
// the digest is delivered like every other message, also after a restart.
func (s *Bot) PostDigest(ctx context.Context, d digest.Message) error {
	if strings.TrimSpace(d.Text) == "" && len(d.Blocks) == 0 {
		return errors.New("slack: empty digest")
	}
	key := fmt.Sprintf("digest:%d", s.now().UnixNano())
	if err := s.enqueue(ctx, kindPost, key, "", outPayload{Text: d.Text, Blocks: d.Blocks}); err != nil {
		return err
	}
	var errs []error
	for _, r := range d.Thread {
		switch {
		case r.File != nil:
			errs = append(errs, s.enqueue(ctx, kindFile, "", key, outPayload{
				Text: r.Text, Filename: r.File.Name, Title: r.File.Title, Content: r.File.Content,
			}))
		case strings.TrimSpace(r.Text) != "":
			errs = append(errs, s.enqueue(ctx, kindPost, "", key, outPayload{Text: r.Text}))
		}
	}
	return errors.Join(errs...)
}

// ExperimentLink returns a function giving the permalink of an
// experiment's message in the channel ("" while it is not sent, or when the
// workspace URL is unknown), for digest.NewMessage.
func (s *Bot) ExperimentLink(ctx context.Context) func(research.Experiment) string {
	return func(e research.Experiment) string {
		ts, err := s.out.SentTS(ctx, expKey(e))
		if err != nil {
			return ""
		}
		return permalink(s.teamURL(), s.cfg.Channel, ts)
	}
}
