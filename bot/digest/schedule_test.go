package digest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/internal/bottest"
	"github.com/autoresearch/autoresearch/research"
)

// digestFakeRecords is an in-memory Records.
type digestFakeRecords struct {
	exps     []research.Experiment
	runs     map[int64]research.Run
	ideas    []research.Idea
	settings map[string]string
	setErr   error
	sets     int
	calls    []research.LLMCall
}

func (f *digestFakeRecords) LLMTokens(_ context.Context, runID int64, from, to time.Time) (p, c int64, err error) {
	for _, call := range f.calls {
		if (runID == 0 || call.RunID == runID) && !call.At.Before(from) && call.At.Before(to) {
			p, c = p+call.PromptTokens, c+call.CompletionTokens
		}
	}
	return p, c, nil
}

func (f *digestFakeRecords) RunsFinishedBetween(_ context.Context, from, to time.Time) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	for _, e := range f.exps {
		if !e.FinishedAt.IsZero() && !e.FinishedAt.Before(from) && e.FinishedAt.Before(to) && !seen[e.RunID] {
			seen[e.RunID] = true
			out = append(out, e.RunID)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (f *digestFakeRecords) OpenIdeas(context.Context) ([]research.Idea, error) { return f.ideas, nil }

func (f *digestFakeRecords) RunByID(_ context.Context, id int64) (research.Run, error) {
	r, ok := f.runs[id]
	if !ok {
		return research.Run{}, fmt.Errorf("run %d: %w", id, research.ErrNotFound)
	}
	return r, nil
}

func (f *digestFakeRecords) ExperimentsBrief(_ context.Context, runID int64) ([]research.Experiment, error) {
	var out []research.Experiment
	for _, e := range f.exps {
		if e.RunID == runID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *digestFakeRecords) Setting(_ context.Context, key string) (string, error) {
	v, ok := f.settings[key]
	if !ok {
		return "", fmt.Errorf("setting %s: %w", key, research.ErrNotFound)
	}
	return v, nil
}

func (f *digestFakeRecords) SetSetting(_ context.Context, key, value string) error {
	f.sets++
	if f.setErr != nil {
		return f.setErr
	}
	if f.settings == nil {
		f.settings = map[string]string{}
	}
	f.settings[key] = value
	return nil
}

func (f *digestFakeRecords) last(t *testing.T) time.Time {
	t.Helper()
	v, ok := f.settings[LastSetting]
	if !ok {
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("%s = %q: %v", LastSetting, v, err)
	}
	return tm
}

func digestSetLast(f *digestFakeRecords, t time.Time) {
	if f.settings == nil {
		f.settings = map[string]string{}
	}
	f.settings[LastSetting] = t.UTC().Format(time.RFC3339Nano)
}

// digestClock is a fake clock that only moves when the scheduler sleeps.
type digestClock struct {
	now    time.Time
	sleeps []time.Duration
	until  time.Time // Sleep cancels the run once the clock would pass it
	cancel context.CancelFunc
}

func (c *digestClock) Now() time.Time { return c.now }

func (c *digestClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sleeps = append(c.sleeps, d)
	if len(c.sleeps) > 10000 {
		c.cancel()
		return errors.New("too many sleeps")
	}
	if !c.until.IsZero() && c.now.Add(d).After(c.until) {
		c.cancel()
		return context.Canceled
	}
	c.now = c.now.Add(d)
	return nil
}

func digestNY(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return loc
}

func TestParseDigestAt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		h, m int
	}{{"08:00", 8, 0}, {"8:05", 8, 5}, {"23:59", 23, 59}, {"0:00", 0, 0}, {" 07:30 ", 7, 30}} {
		h, m, err := ParseAt(tc.in)
		if err != nil || h != tc.h || m != tc.m {
			t.Errorf("ParseAt(%q) = %d, %d, %v; want %d, %d", tc.in, h, m, err, tc.h, tc.m)
		}
	}
	for _, tc := range []struct{ in, why string }{
		{"", "no colon"}, {"8", "no colon"}, {"24:00", "hour must be 0 to 23"},
		{"08:60", "minute must be 0 to 59"}, {"08:0", "exactly 2"}, {"ab:cd", "not a number"},
		{"08:00:00", "exactly 2"}, {"-1:00", "not a number"}, {"123:00", "1 or 2 digits"},
	} {
		_, _, err := ParseAt(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), "HH:MM") {
			t.Errorf("ParseAt(%q) error = %v; want one saying %q and HH:MM", tc.in, err, tc.why)
		}
	}
}

func TestDigestNext(t *testing.T) {
	s := &Scheduler{At: "08:00", Location: time.UTC}
	day := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct{ after, want time.Time }{
		{day(2, 7, 59), day(2, 8, 0)},
		{day(2, 8, 0), day(3, 8, 0)}, // strictly after
		{day(2, 23, 30), day(3, 8, 0)},
		{day(31, 12, 0), time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}, // across a month
	} {
		if got := s.Next(tc.after); !got.Equal(tc.want) {
			t.Errorf("Next(%v) = %v, want %v", tc.after, got, tc.want)
		}
	}
	// The zone of after does not matter: 02:00 in UTC+9 is 17:00 UTC the day before.
	tokyo := time.FixedZone("JST", 9*3600)
	if got := s.Next(time.Date(2026, 3, 3, 2, 0, 0, 0, tokyo)); !got.Equal(day(3, 8, 0)) {
		t.Errorf("Next(02:00 JST) = %v, want %v", got, day(3, 8, 0))
	}
}

func TestDigestNextAcrossDST(t *testing.T) {
	ny := digestNY(t)
	s := &Scheduler{At: "08:00", Location: ny}

	// Spring forward: Sunday 8 March 2026, 02:00 EST -> 03:00 EDT.
	sat := time.Date(2026, 3, 7, 8, 0, 0, 0, ny)
	sun := s.Next(sat)
	if h, m, _ := sun.In(ny).Clock(); h != 8 || m != 0 || sun.In(ny).Day() != 8 {
		t.Errorf("Next(Sat 08:00 EST) = %v, want Sun 8 March 08:00 local", sun.In(ny))
	}
	if got := sun.Sub(sat); got != 23*time.Hour {
		t.Errorf("spring-forward night is %v, want 23h", got)
	}
	if name, _ := sun.In(ny).Zone(); name != "EDT" {
		t.Errorf("Sunday's digest zone %s, want EDT", name)
	}

	// Fall back: Sunday 1 November 2026, 02:00 EDT -> 01:00 EST.
	sat = time.Date(2026, 10, 31, 8, 0, 0, 0, ny)
	sun = s.Next(sat)
	if h, _, _ := sun.In(ny).Clock(); h != 8 || sun.In(ny).Day() != 1 {
		t.Errorf("Next(Sat 31 Oct 08:00) = %v, want Sun 1 Nov 08:00 local", sun.In(ny))
	}
	if got := sun.Sub(sat); got != 25*time.Hour {
		t.Errorf("fall-back night is %v, want 25h", got)
	}

	// A digest time that does not exist on the spring-forward day (02:30)
	// happens once that day, just after the gap, and the schedule goes on.
	s.At = "02:30"
	mid := time.Date(2026, 3, 8, 0, 0, 0, 0, ny)
	got := s.Next(mid)
	if got.In(ny).Day() != 8 || !got.After(mid) || got.Sub(mid) > 4*time.Hour {
		t.Errorf("Next(8 March 00:00) with 02:30 = %v, want that morning", got.In(ny))
	}
	next := s.Next(got)
	if h, m, _ := next.In(ny).Clock(); next.In(ny).Day() != 9 || h != 2 || m != 30 {
		t.Errorf("the digest after %v is %v, want 9 March 02:30", got.In(ny), next.In(ny))
	}
	// A repeated hour (01:30 on the fall-back day) gives one digest, not two.
	s.At = "01:30"
	first := s.Next(time.Date(2026, 11, 1, 0, 0, 0, 0, ny))
	second := s.Next(first)
	if first.In(ny).Day() != 1 || second.In(ny).Day() != 2 {
		t.Errorf("01:30 on the fall-back day: %v then %v, want 1 Nov then 2 Nov", first.In(ny), second.In(ny))
	}
}

func TestDigestDue(t *testing.T) {
	now := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	today8 := time.Date(2026, 3, 5, 8, 0, 0, 0, time.UTC)
	newS := func(f *digestFakeRecords) *Scheduler {
		return &Scheduler{At: "08:00", Location: time.UTC, Now: func() time.Time { return now }, Records: f}
	}

	// Missed: the last digest was two days ago.
	f := &digestFakeRecords{}
	digestSetLast(f, today8.Add(-48*time.Hour))
	due, from, to, err := newS(f).Due(context.Background())
	if err != nil || !due || !from.Equal(today8.Add(-48*time.Hour)) || !to.Equal(today8) {
		t.Errorf("missed digest: Due = %v, %v, %v, %v; want due for [3 March 08:00, 5 March 08:00)", due, from, to, err)
	}

	// Posted this morning: not due until tomorrow.
	digestSetLast(f, today8)
	if due, _, _, err := newS(f).Due(context.Background()); err != nil || due {
		t.Errorf("after this morning's digest: Due = %v, %v; want not due", due, err)
	}

	// Before 08:00 with yesterday's digest posted: not due yet.
	now = time.Date(2026, 3, 5, 7, 59, 0, 0, time.UTC)
	digestSetLast(f, today8.Add(-24*time.Hour))
	if due, _, _, err := newS(f).Due(context.Background()); err != nil || due {
		t.Errorf("at 07:59: Due = %v, %v; want not due", due, err)
	}
	now = today8
	if due, _, to, err := newS(f).Due(context.Background()); err != nil || !due || !to.Equal(today8) {
		t.Errorf("at 08:00: Due = %v, to %v, %v; want due up to 08:00", due, to, err)
	}

	// Never posted: nothing is due (the first digest comes at the next 08:00).
	if due, _, _, err := newS(&digestFakeRecords{}).Due(context.Background()); err != nil || due {
		t.Errorf("fresh install: Due = %v, %v; want not due", due, err)
	}

	// A broken setting is an error, not a silent digest.
	bad := &digestFakeRecords{settings: map[string]string{LastSetting: "yesterday"}}
	if _, _, _, err := newS(bad).Due(context.Background()); err == nil || !strings.Contains(err.Error(), "yesterday") {
		t.Errorf("bad setting: err = %v", err)
	}
	// So is a bad digest time.
	s := newS(f)
	s.At = "25:00"
	if _, _, _, err := s.Due(context.Background()); err == nil {
		t.Error("At 25:00: no error")
	}
}

// digestRunFixture: run 1 with a baseline before the window and two
// experiments during the night of 2 -> 3 March.
func digestRunFixture() *digestFakeRecords {
	t0 := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	night := time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)
	return &digestFakeRecords{
		runs: map[int64]research.Run{1: {ID: 1, Tag: "mar2", Noise: 0.0005}},
		exps: []research.Experiment{
			digestExp(1, 1, research.StatusKeep, 1.0, t0),
			digestExp(1, 2, research.StatusKeep, 0.98, night),
			digestExp(1, 3, research.StatusCrash, 0, night.Add(time.Hour)),
		},
		ideas: []research.Idea{{ID: 5, Text: "try muon", Author: "U1"}},
	}
}

func digestQuiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestDigestRunPostsOnceAtTheDigestTime(t *testing.T) {
	f := digestRunFixture()
	last := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	digestSetLast(f, last)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &digestClock{now: time.Date(2026, 3, 3, 6, 30, 0, 0, time.UTC), until: time.Date(2026, 3, 3, 20, 0, 0, 0, time.UTC), cancel: cancel}
	var posts []Digest
	var postedAt []time.Time
	s := &Scheduler{At: "08:00", Location: time.UTC, Now: clock.Now, Sleep: clock.Sleep, Records: f, Logger: digestQuiet(),
		Post: func(_ context.Context, d Digest) error {
			posts = append(posts, d)
			postedAt = append(postedAt, clock.now)
			if len(posts) > 20 {
				cancel()
			}
			if f.last(t) != last {
				t.Error("digest.last moved before Post returned")
			}
			return nil
		}}
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if len(posts) != 1 {
		t.Fatalf("posted %d digests between 06:30 and 20:00, want 1", len(posts))
	}
	want := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	if !postedAt[0].Equal(want) {
		t.Errorf("posted at %v, want %v", postedAt[0], want)
	}
	d := posts[0]
	if !d.From.Equal(last) || !d.To.Equal(want) {
		t.Errorf("window [%v, %v), want [%v, %v)", d.From, d.To, last, want)
	}
	if d.Experiments != 2 || d.Keep != 1 || d.Crash != 1 || d.Tag != "mar2" || d.NoiseFloor != 0.0005 || len(d.OpenIdeas) != 1 {
		t.Errorf("digest = %+v", d)
	}
	digestNear(t, "BestValBPB", d.BestValBPB, 0.98)
	digestNear(t, "ImprovementSinceLast", d.ImprovementSinceLast, 0.02)
	if len(d.Chart) == 0 {
		t.Error("no chart")
	}
	if got := f.last(t); !got.Equal(want) {
		t.Errorf("%s = %v, want %v", LastSetting, got, want)
	}
	for _, sl := range clock.sleeps {
		if sl <= 0 || sl > 10*time.Minute {
			t.Errorf("slept %v: want positive waits capped at MaxSleep", sl)
		}
	}
}

func TestDigestRunPostsMissedDigestAtStart(t *testing.T) {
	f := digestRunFixture()
	last := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	digestSetLast(f, last)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 3, 3, 10, 15, 0, 0, time.UTC)
	clock := &digestClock{now: start, until: start.Add(time.Hour), cancel: cancel}
	var posts []Digest
	s := &Scheduler{At: "08:00", Location: time.UTC, Now: clock.Now, Sleep: clock.Sleep, Records: f, Logger: digestQuiet(),
		Post: func(_ context.Context, d Digest) error {
			if len(clock.sleeps) != 0 {
				t.Errorf("missed digest posted after %d sleeps, want at once", len(clock.sleeps))
			}
			if posts = append(posts, d); len(posts) > 20 {
				cancel()
			}
			return nil
		}}
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(posts) != 1 {
		t.Fatalf("posted %d digests, want 1 (both missed days in one)", len(posts))
	}
	to := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	if !posts[0].From.Equal(last) || !posts[0].To.Equal(to) {
		t.Errorf("window [%v, %v), want [%v, %v)", posts[0].From, posts[0].To, last, to)
	}
	// Includes the baseline of 2 March 07:00, within the two missed days.
	if posts[0].Experiments != 3 {
		t.Errorf("missed window holds %d experiments, want 3", posts[0].Experiments)
	}
	if got := f.last(t); !got.Equal(to) {
		t.Errorf("%s = %v, want %v", LastSetting, got, to)
	}
}

func TestDigestRunRetriesFailedPost(t *testing.T) {
	f := digestRunFixture()
	digestSetLast(f, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	clock := &digestClock{now: start, until: start.Add(2 * time.Hour), cancel: cancel}
	attempts := 0
	s := &Scheduler{At: "08:00", Location: time.UTC, Now: clock.Now, Sleep: clock.Sleep, Records: f, Logger: digestQuiet(),
		RetryAfter: 3 * time.Minute,
		Post: func(_ context.Context, d Digest) error {
			attempts++
			if attempts > 20 {
				cancel()
			}
			if attempts == 1 {
				if f.sets != 0 {
					t.Error("setting written before the first post")
				}
				return errors.New("slack is down")
			}
			if f.last(t).Equal(start) {
				t.Error("digest.last recorded although the first post failed")
			}
			return nil
		}}
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if attempts != 2 {
		t.Fatalf("%d post attempts, want 2 (one failure, one retry)", attempts)
	}
	if len(clock.sleeps) == 0 || clock.sleeps[0] != 3*time.Minute {
		t.Errorf("sleeps %v, want a 3m retry wait first", clock.sleeps)
	}
	if got := f.last(t); !got.Equal(start) {
		t.Errorf("%s = %v, want %v", LastSetting, got, start)
	}
}

func TestDigestRunDoesNotRepostWhenRecordingFails(t *testing.T) {
	f := digestRunFixture()
	digestSetLast(f, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	f.setErr = errors.New("disk full")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	clock := &digestClock{now: start, until: start.Add(12 * time.Hour), cancel: cancel}
	posts := 0
	s := &Scheduler{At: "08:00", Location: time.UTC, Now: clock.Now, Sleep: clock.Sleep, Records: f, Logger: digestQuiet(),
		Post: func(context.Context, Digest) error {
			posts++
			if posts > 20 {
				cancel() // posting in a loop: stop it, the count fails the test
			}
			return nil
		}}
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if posts != 1 {
		t.Errorf("posted %d times although the window was posted once", posts)
	}
}

func TestDigestRunFreshInstall(t *testing.T) {
	f := digestRunFixture()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	clock := &digestClock{now: start, until: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), cancel: cancel}
	var posts []Digest
	s := &Scheduler{At: "08:00", Location: time.UTC, Now: clock.Now, Sleep: clock.Sleep, Records: f, Logger: digestQuiet(),
		Post: func(_ context.Context, d Digest) error {
			if posts = append(posts, d); len(posts) > 20 {
				cancel()
			}
			return nil
		}}
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	// No digest at start; the first covers 3 March 08:00 -> 4 March 08:00.
	if len(posts) != 1 {
		t.Fatalf("posted %d digests, want 1", len(posts))
	}
	wantFrom := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	if !posts[0].From.Equal(wantFrom) || !posts[0].To.Equal(wantFrom.Add(24*time.Hour)) {
		t.Errorf("first window [%v, %v)", posts[0].From, posts[0].To)
	}
	if !posts[0].Empty || !strings.Contains(posts[0].Text(), "No experiments finished") {
		t.Errorf("a night without experiments: %+v", posts[0])
	}
}

func TestDigestRunAcrossDST(t *testing.T) {
	ny := digestNY(t)
	f := digestRunFixture()
	sat := time.Date(2026, 3, 7, 8, 0, 0, 0, ny)
	digestSetLast(f, sat)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &digestClock{now: sat.Add(time.Hour), until: time.Date(2026, 3, 9, 12, 0, 0, 0, ny), cancel: cancel}
	var windows [][2]time.Time
	s := &Scheduler{At: "08:00", Location: ny, Now: clock.Now, Sleep: clock.Sleep, Records: f, Logger: digestQuiet(),
		Post: func(_ context.Context, d Digest) error {
			if windows = append(windows, [2]time.Time{d.From, d.To}); len(windows) > 20 {
				cancel()
			}
			return nil
		}}
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(windows) != 2 {
		t.Fatalf("%d digests over Sat 09:00 -> Mon 12:00, want 2 (Sun, Mon)", len(windows))
	}
	for i, w := range windows {
		if h, m, _ := w[1].In(ny).Clock(); h != 8 || m != 0 {
			t.Errorf("digest %d at %v, want 08:00 local", i, w[1].In(ny))
		}
	}
	if got := windows[0][1].Sub(windows[0][0]); got != 23*time.Hour {
		t.Errorf("spring-forward window %v, want 23h", got)
	}
}

func TestDigestPreview(t *testing.T) {
	f := digestRunFixture()
	digestSetLast(f, time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC))
	now := time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)
	s := &Scheduler{Location: time.UTC, Now: func() time.Time { return now }, Records: f}
	d, err := s.Preview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.Experiments != 2 || !d.To.Equal(now) {
		t.Errorf("preview: %d experiments up to %v, want 2 up to %v", d.Experiments, d.To, now)
	}
	if f.sets != 0 {
		t.Error("Preview recorded something")
	}
}

// A bug while posting the digest is logged and retried like a failure; the
// scheduler lives on.
func TestDigestRunSurvivesAPanickingPost(t *testing.T) {
	f := digestRunFixture()
	digestSetLast(f, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	clock := &digestClock{now: start, until: start.Add(2 * time.Hour), cancel: cancel}
	logs := &bottest.LockedLog{}
	attempts := 0
	s := &Scheduler{At: "08:00", Location: time.UTC, Now: clock.Now, Sleep: clock.Sleep, Records: f,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), RetryAfter: 3 * time.Minute,
		Post: func(_ context.Context, d Digest) error {
			if attempts++; attempts == 1 {
				panic("digest bug")
			}
			return nil
		}}
	if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if attempts != 2 || !f.last(t).Equal(start) {
		t.Fatalf("%d attempts, last = %v; want the retry to post the digest", attempts, f.last(t))
	}
	if recs := logs.Panics(); len(recs) != 1 || !strings.Contains(recs[0], "digest bug") {
		t.Fatalf("panic records = %q", recs)
	}
}
