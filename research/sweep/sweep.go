// Package sweep is a proposer that needs no LLM: it nudges one numeric
// UPPER_CASE constant of train.py per experiment (a random-order coordinate
// sweep around the current best commit). It powers the demo and runs where
// no API key is available.
package sweep

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/autoresearch/autoresearch/research"
)

// The loop's sentinels, re-exported: the harness matches them with
// errors.Is and reacts (moves on after a crash, pauses when exhausted).
var (
	// ErrCannotFix is returned when asked to repair a crashed attempt: a
	// sweep has no way to fix a value that crashed, so the harness records
	// the crash and moves on to the next proposal.
	ErrCannotFix = research.ErrCannotFix
	// ErrExhausted is returned when every candidate change from the current
	// base commit has been tried.
	ErrExhausted = research.ErrExhausted
)

// Sweep implements research.Proposer. The zero value is ready to use.
type Sweep struct {
	File   string       // file to edit, relative to the repo; default "train.py"
	Seed   int64        // orders the candidates; same seed, same sequence
	Logger *slog.Logger // nil: silent

	mu sync.Mutex
	// proposed holds what this Sweep proposed from proposedBase. The history
	// covers what was trained; this also covers proposals the harness refused
	// (req.Feedback) and ones still in flight in parallel slots, which have
	// not reached the history yet.
	proposedBase string
	proposed     tried
}

var _ research.Proposer = (*Sweep)(nil)

// skipName reports constants the sweep leaves alone: a seed changes the
// noise, not the method, so "improving" it would be luck, not research.
func skipName(name string) bool { return strings.Contains(name, "SEED") }

// Propose edits one constant in place and describes the change.
func (s *Sweep) Propose(ctx context.Context, req research.ProposalRequest) (research.Proposal, error) {
	if req.Fix != nil {
		return research.Proposal{}, fmt.Errorf("sweep: a crashed value cannot be repaired, only abandoned: %w", ErrCannotFix)
	}
	if err := ctx.Err(); err != nil {
		return research.Proposal{}, err
	}
	file := s.File
	if file == "" {
		file = "train.py"
	}
	if len(req.Editable) > 0 && !slices.Contains(req.Editable, file) {
		return research.Proposal{}, fmt.Errorf("sweep: %s is not an editable file (%v)", file, req.Editable)
	}
	path := filepath.Join(req.Dir, file)
	src, err := os.ReadFile(path)
	if err != nil {
		return research.Proposal{}, fmt.Errorf("sweep: %w", err)
	}
	var consts []Const
	for _, c := range ParseConsts(src) {
		if !skipName(c.Name) {
			consts = append(consts, c)
		}
	}
	if len(consts) == 0 {
		return research.Proposal{}, fmt.Errorf("sweep: no numeric UPPER_CASE constants in %s", file)
	}

	done := s.triedFrom(req)
	c, lit, note, ok := pickIdea(consts, req.Ideas, done)
	if !ok {
		c, lit, ok = s.pickCandidate(consts, req.BaseCommit, done)
	}
	if !ok {
		return research.Proposal{}, fmt.Errorf("sweep: every change to the %d constants of %s has been tried from %.7s: %w",
			len(consts), file, req.BaseCommit, ErrExhausted)
	}
	nv, _, _ := parseLiteral(lit)
	s.remember(req.BaseCommit, c.Name, nv)

	out := make([]byte, 0, len(src)+len(lit))
	out = append(out, src[:c.Start]...)
	out = append(out, lit...)
	out = append(out, src[c.End:]...)
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.WriteFile(path, out, mode); err != nil {
		return research.Proposal{}, fmt.Errorf("sweep: %w", err)
	}
	desc := describe(c.Name, c.Lit, lit, note)
	s.logger().Info("sweep proposal", "file", file, "line", c.Line+1, "change", desc)
	return research.Proposal{Description: desc}, nil
}

// triedFrom collects what was already tried from req.BaseCommit: sweep
// descriptions in the history plus this Sweep's own earlier proposals.
func (s *Sweep) triedFrom(req research.ProposalRequest) tried {
	done := tried{}
	for _, e := range req.History {
		if e.ParentCommit != req.BaseCommit {
			continue
		}
		if name, v, ok := parseDescription(e.Description); ok {
			done.add(name, v)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proposedBase != req.BaseCommit {
		s.proposedBase, s.proposed = req.BaseCommit, tried{}
	}
	for name, vs := range s.proposed {
		for _, v := range vs {
			done.add(name, v)
		}
	}
	return done
}

// pickCandidate takes the first untried candidate in an order shuffled by
// (Seed, base): deterministic, and no state is needed to avoid repeats.
func (s *Sweep) pickCandidate(consts []Const, base string, done tried) (Const, string, bool) {
	type cand struct {
		c   Const
		lit string
	}
	var all []cand
	for _, c := range consts {
		for _, lit := range candidates(c) {
			all = append(all, cand{c, lit})
		}
	}
	h := fnv.New64a()
	io.WriteString(h, base)
	r := rand.New(rand.NewPCG(uint64(s.Seed), h.Sum64()))
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, a := range all {
		v, _, _ := parseLiteral(a.lit)
		if !done.has(a.c.Name, v) {
			return a.c, a.lit, true
		}
	}
	return Const{}, "", false
}

// ideaRe finds `NAME=VALUE`, `NAME = VALUE` or `NAME VALUE` in an idea.
var ideaRe = regexp.MustCompile(
	`\b([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]*=[ \t]*|[ \t]+)([-+]?(?:\d(?:_?\d)*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))`)

// pickIdea applies the oldest open idea that sets a known constant (name
// matched case-insensitively) to a new, untried value.
func pickIdea(consts []Const, ideas []research.Idea, done tried) (Const, string, string, bool) {
	for _, idea := range ideas {
		if idea.Unpinned || idea.ConsumedBy != 0 {
			continue
		}
		for _, m := range ideaRe.FindAllStringSubmatch(idea.Text, -1) {
			i := slices.IndexFunc(consts, func(c Const) bool { return strings.EqualFold(c.Name, m[1]) })
			if i < 0 {
				continue
			}
			c := consts[i]
			v, isFloat, ok := parseLiteral(m[2])
			if !ok || (!c.Float && isFloat && v != float64(int64(v))) {
				continue // an int constant needs an integral value
			}
			lit := formatLike(c, v)
			nv, _, _ := parseLiteral(lit)
			if sameValue(nv, c.Value) || done.has(c.Name, nv) {
				continue
			}
			note := "idea"
			if idea.ID != 0 {
				note = fmt.Sprintf("idea #%d", idea.ID)
			}
			return c, lit, note, true
		}
	}
	return Const{}, "", "", false
}

func (s *Sweep) remember(base, name string, v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proposedBase != base {
		s.proposedBase, s.proposed = base, tried{}
	}
	s.proposed.add(name, v)
}

func (s *Sweep) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
