package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/ctxsleep"
)

// Records is what the digest reads from (and writes to) the store.
// The SQLite store (package store, wired in cmd) implements it.
type Records interface {
	// RunsFinishedBetween returns the IDs of the runs with an experiment
	// finished in [from, to), ascending.
	RunsFinishedBetween(ctx context.Context, from, to time.Time) ([]int64, error)
	OpenIdeas(ctx context.Context) ([]research.Idea, error)
	RunByID(ctx context.Context, id int64) (research.Run, error)
	// ExperimentsBrief returns a run's experiments ordered by number,
	// without their diffs and log tails (the digest reads neither).
	ExperimentsBrief(ctx context.Context, runID int64) ([]research.Experiment, error)
	// Setting returns a stored setting, or research.ErrNotFound.
	Setting(ctx context.Context, key string) (string, error)
	// LLMTokens sums the tokens of the LLM calls of run runID (0: every
	// run) made in [from, to), failed calls and condensing included.
	LLMTokens(ctx context.Context, runID int64, from, to time.Time) (prompt, completion int64, err error)
	SetSetting(ctx context.Context, key, value string) error
}

// LastSetting is the setting that keeps the end of the window of the
// last digest posted (RFC 3339).
const LastSetting = "digest.last"

// Scheduler posts the morning digest every day at At (local time in
// Location). A digest that fell due while the bot was down is posted when
// Run starts, covering everything since the last one.
type Scheduler struct {
	At       string         // "HH:MM", 24-hour clock; "" = 08:00
	Location *time.Location // nil = time.Local
	Now      func() time.Time
	Records  Records
	// Post delivers a digest (the Slack adapter: Text as a channel message,
	// ThreadTexts and Chart in its thread). The window counts as done only
	// when Post returns nil.
	Post   func(ctx context.Context, d Digest) error
	Logger *slog.Logger
	// CostOf prices LLM usage in USD (nil: the digest shows tokens only).
	CostOf func(research.Usage) float64
	// Live reports the loop's state, for what is training as the digest is
	// made (nil: the digest leaves it out).
	Live func(ctx context.Context) (research.Status, error)

	// Sleep waits for d or until ctx ends (nil = a real timer). Tests drive
	// time through it.
	Sleep func(ctx context.Context, d time.Duration) error
	// RetryAfter is how long Run waits after a failed build or post (0 = 5m).
	RetryAfter time.Duration
	// MaxSleep caps one wait so a wall-clock jump or a suspended host is
	// noticed (0 = 10m).
	MaxSleep time.Duration
}

// ParseAt parses a 24-hour "HH:MM" (or "H:MM") time of day.
func ParseAt(s string) (hour, min int, err error) {
	bad := func(why string) (int, int, error) {
		return 0, 0, fmt.Errorf("digest time %q: %s; want HH:MM on a 24-hour clock, e.g. 08:00", s, why)
	}
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return bad("no colon")
	}
	if len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return bad("hours take 1 or 2 digits and minutes exactly 2")
	}
	for _, r := range h + m {
		if r < '0' || r > '9' {
			return bad("not a number")
		}
	}
	hour, _ = strconv.Atoi(h)
	min, _ = strconv.Atoi(m)
	if hour > 23 {
		return bad("hour must be 0 to 23")
	}
	if min > 59 {
		return bad("minute must be 0 to 59")
	}
	return hour, min, nil
}

func (s *Scheduler) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.Local
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Scheduler) clock() (int, int, error) {
	if s.At == "" {
		return 8, 0, nil
	}
	return ParseAt(s.At)
}

// slot is the digest time on the day of t (in the scheduler's location),
// days later. time.Date resolves a time skipped by a DST change to the
// instant just after the gap, and picks one of the two instants of a
// repeated hour.
func (s *Scheduler) slot(t time.Time, days int) time.Time {
	h, m, err := s.clock()
	if err != nil {
		h, m = 8, 0
	}
	t = t.In(s.loc())
	return time.Date(t.Year(), t.Month(), t.Day()+days, h, m, 0, 0, s.loc())
}

// Next is the first digest time strictly after after.
func (s *Scheduler) Next(after time.Time) time.Time {
	for days := 0; ; days++ {
		if c := s.slot(after, days); c.After(after) {
			return c
		}
	}
}

// prev is the last digest time at or before t.
func (s *Scheduler) prev(t time.Time) time.Time {
	for days := 0; ; days-- {
		if c := s.slot(t, days); !c.After(t) {
			return c
		}
	}
}

// last reads the end of the last digest's window; ok is false when no
// digest was ever posted.
func (s *Scheduler) last(ctx context.Context) (t time.Time, ok bool, err error) {
	v, err := s.Records.Setting(ctx, LastSetting)
	if errors.Is(err, research.ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("digest: read %s: %w", LastSetting, err)
	}
	t, err = time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("digest: setting %s=%q is not a time: %w", LastSetting, v, err)
	}
	return t, true, nil
}

// Due reports whether a digest time has passed since the last digest; when
// it has, [from, to) is the window to sum up: from the end of the last
// digest to the latest digest time (so one digest covers every missed day).
// Before any digest was posted, the last digest time before now stands in
// for the last digest.
func (s *Scheduler) Due(ctx context.Context) (due bool, from, to time.Time, err error) {
	if _, _, err := s.clock(); err != nil {
		return false, time.Time{}, time.Time{}, err
	}
	now := s.now()
	last, ok, err := s.last(ctx)
	if err != nil {
		return false, time.Time{}, time.Time{}, err
	}
	if !ok {
		last = s.prev(now)
	}
	if s.Next(last).After(now) {
		return false, last, time.Time{}, nil
	}
	return true, last, s.prev(now), nil
}

// nightAndHistory reads the experiments finished in [from, to), ordered by
// FinishedAt, and the whole history of their runs.
func (s *Scheduler) nightAndHistory(ctx context.Context, from, to time.Time) (night, history []research.Experiment, err error) {
	// One lean read per run: the night is the part of its history that
	// finished in the window.
	runs, err := s.Records.RunsFinishedBetween(ctx, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("digest: experiments: %w", err)
	}
	for _, id := range runs {
		exps, err := s.Records.ExperimentsBrief(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("digest: experiments of run %d: %w", id, err)
		}
		history = append(history, exps...)
		for _, e := range exps {
			if !e.FinishedAt.IsZero() && !e.FinishedAt.Before(from) && e.FinishedAt.Before(to) {
				night = append(night, e)
			}
		}
	}
	sort.SliceStable(night, func(i, j int) bool {
		if !night[i].FinishedAt.Equal(night[j].FinishedAt) {
			return night[i].FinishedAt.Before(night[j].FinishedAt)
		}
		return night[i].ID < night[j].ID
	})
	return night, history, nil
}

// Build gathers the digest of [from, to): the experiments finished in it,
// the history of their runs (the latest run gives the baseline, the best and
// the chart), the open ideas and the latest run's tag and noise floor.
func (s *Scheduler) Build(ctx context.Context, from, to time.Time) (Digest, error) {
	loc := s.loc()
	from, to = from.In(loc), to.In(loc)
	night, history, err := s.nightAndHistory(ctx, from, to)
	if err != nil {
		return Digest{}, err
	}
	ideas, err := s.Records.OpenIdeas(ctx)
	if err != nil {
		return Digest{}, fmt.Errorf("digest: ideas: %w", err)
	}
	latest := int64(0)
	for _, e := range night {
		if !e.FinishedAt.IsZero() {
			latest = e.RunID
		}
	}
	d := Build(history, night, ideas, 0, from, to)
	// What the night's LLM calls spent, not only the proposals that became
	// experiments: failed and refused proposals and condensing count too.
	if d.PromptTokens, d.CompletionTokens, err = s.Records.LLMTokens(ctx, 0, from, to); err != nil {
		return Digest{}, fmt.Errorf("digest: LLM usage: %w", err)
	}
	if s.Live != nil {
		if st, err := s.Live(ctx); err == nil {
			d.Training = TrainingNow(st, s.now())
		} else {
			s.logger().Warn("digest: reading what trains now", "err", err)
		}
	}
	if s.CostOf != nil {
		d.CostUSD = s.CostOf(research.Usage{PromptTokens: d.PromptTokens, CompletionTokens: d.CompletionTokens})
	}
	if len(night) > 0 {
		run, err := s.Records.RunByID(ctx, latest)
		if err != nil {
			return Digest{}, fmt.Errorf("digest: run %d: %w", latest, err)
		}
		d.Tag, d.NoiseFloor = run.Tag, run.Noise
	}
	return d, nil
}

// Preview builds the digest of the time since the last digest (the last 24
// hours when none was posted) up to now, for an on-demand `digest` command.
// It records nothing.
func (s *Scheduler) Preview(ctx context.Context) (Digest, error) {
	now := s.now()
	from, ok, err := s.last(ctx)
	if err != nil {
		return Digest{}, err
	}
	if !ok || !from.Before(now) {
		from = now.Add(-24 * time.Hour)
	}
	return s.Build(ctx, from, now)
}

func (s *Scheduler) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	return ctxsleep.Sleep(ctx, d)
}

// Run posts digests until ctx ends (it returns ctx's error). A digest that
// is due at start (missed while the bot was down) is posted at once; after
// that it waits for each digest time. The end of a window is recorded only
// after Post succeeded; failures are logged and retried after RetryAfter.
func (s *Scheduler) Run(ctx context.Context) error {
	if _, _, err := s.clock(); err != nil {
		return err
	}
	if s.Records == nil || s.Post == nil {
		return errors.New("digest: scheduler needs Records and Post")
	}
	retry := s.RetryAfter
	if retry <= 0 {
		retry = 5 * time.Minute
	}
	maxSleep := s.MaxSleep
	if maxSleep <= 0 {
		maxSleep = 10 * time.Minute
	}
	log := s.logger()
	var posted time.Time // the window end posted by this process
	wait := func(d time.Duration) error {
		if d > maxSleep {
			d = maxSleep
		}
		if d < 0 {
			d = 0
		}
		return s.sleep(ctx, d)
	}
	// The first digest after a fresh install covers the time since the last
	// digest time before the start.
	if _, ok, err := s.last(ctx); err == nil && !ok {
		start := s.prev(s.now())
		if err := s.Records.SetSetting(ctx, LastSetting, start.UTC().Format(time.RFC3339Nano)); err != nil {
			log.Warn("digest: cannot record the start of the first window", "err", err)
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		due, from, to, err := s.Due(ctx)
		if err != nil {
			log.Error("digest: cannot tell whether a digest is due", "err", err)
			if err := wait(retry); err != nil {
				return err
			}
			continue
		}
		if due && !posted.IsZero() && !to.After(posted) {
			// Posted already, but recording it failed: do not post twice.
			due = false
		}
		if !due {
			if err := wait(s.Next(s.now()).Sub(s.now())); err != nil {
				return err
			}
			continue
		}
		var err2 error
		if bug := research.Catch(log, "the digest", func() { err2 = s.postWindow(ctx, from, to) }); bug != nil {
			err2 = bug // retried like any failure, after RetryAfter
		}
		if err := err2; err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Error("digest: not posted; will retry", "from", from, "to", to, "err", err, "retry_in", retry)
			if err := wait(retry); err != nil {
				return err
			}
			continue
		}
		posted = to
		if err := s.Records.SetSetting(ctx, LastSetting, to.UTC().Format(time.RFC3339Nano)); err != nil {
			log.Error("digest: posted but not recorded", "to", to, "err", err)
		}
		log.Info("digest: posted", "from", from, "to", to)
	}
}

func (s *Scheduler) postWindow(ctx context.Context, from, to time.Time) error {
	d, err := s.Build(ctx, from, to)
	if err != nil {
		return err
	}
	return s.Post(ctx, d)
}
