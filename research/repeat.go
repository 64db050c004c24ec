package research

import (
	"context"
	"fmt"
	"sort"

	"github.com/autoresearch/autoresearch/research/patch"
)

// preparedChange is an accepted proposal that is not recorded as an
// experiment yet: handed to a slot, or waiting for one. A new proposal that
// repeats it is refused like a repeat of a finished experiment.
type preparedChange struct {
	c           *candidate
	base        string
	fingerprint string
	number      int // the number it was announced as
}

// checkRepeat refuses a change that, up to whitespace, was already tried on
// the same base, is training now or is prepared to train: a GPU-minute is
// never spent twice on the same idea, also when slots train in parallel.
func (s *session) checkRepeat(base string, files map[string]string) error {
	fp, err := s.fingerprintFiles(base, files)
	if err != nil || fp == "" {
		return err
	}
	// The prepared list first, the history second: a change leaves the
	// list only after its experiment is recorded (and filed in the
	// session's history), so it is seen in one of them. The history
	// indexes changes by base and fingerprint: the check costs the same
	// however long the run.
	s.mu.Lock()
	prepared := append([]preparedChange(nil), s.prepared...)
	s.mu.Unlock()
	e, err := s.hist.Repeat(context.Background(), base, fp)
	if err != nil {
		return err
	}
	if e != nil {
		if e.Status == StatusRunning {
			return &RefusedError{Reason: fmt.Sprintf("this change repeats experiment #%d (%s), which is training now on the same best commit; try something else", e.Number, e.Description)}
		}
		return &RefusedError{Reason: fmt.Sprintf("this change repeats experiment #%d (%s, %s); try something else", e.Number, e.Status, e.Description)}
	}
	for _, p := range prepared {
		if p.base == base && p.fingerprint == fp {
			return &RefusedError{Reason: fmt.Sprintf("this change repeats experiment #%d (%s), which is prepared to train on the same best commit; try something else", p.number, p.c.description)}
		}
	}
	return s.checkStaleTree(base, files)
}

// holdPrepared notes an accepted proposal until its experiment is recorded
// (or it is dropped).
func (s *session) holdPrepared(c *candidate, number int) {
	fp, err := s.fingerprintFiles(c.base, c.files)
	if err != nil || fp == "" {
		return
	}
	s.mu.Lock()
	s.prepared = append(s.prepared, preparedChange{c: c, base: c.base, fingerprint: fp, number: number})
	s.mu.Unlock()
}

// releasePrepared forgets c: its experiment is in the store, or it was
// dropped.
func (s *session) releasePrepared(c *candidate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.prepared {
		if p.c == c {
			s.prepared = append(s.prepared[:i], s.prepared[i+1:]...)
			return
		}
	}
}

// fingerprintFiles is the normalized fingerprint of changing base's files
// into files.
func (s *session) fingerprintFiles(base string, files map[string]string) (string, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var patches []patch.FilePatch
	for _, p := range paths {
		old, err := s.propRepo.FileAt(base, p)
		if err != nil {
			old = nil // a file the base lacks: the whole content is the change
		}
		patches = append(patches, patch.Diff(p, string(old), files[p], 3))
	}
	return patch.Fingerprint(patches), nil
}
