package research

import (
	"fmt"
	"sort"

	"github.com/autoresearch/autoresearch/research/patch"
)

// checkRepeat refuses a change that, up to whitespace, was already tried on
// the same base: a GPU-minute is never spent twice on the same idea.
func (s *session) checkRepeat(base string, files map[string]string, history []Experiment) error {
	fp, err := s.fingerprintFiles(base, files)
	if err != nil || fp == "" {
		return err
	}
	for _, e := range history {
		if e.ParentCommit != base || e.Diff == "" || e.Attempt > 0 {
			continue
		}
		patches, err := patch.Parse(e.Diff)
		if err != nil {
			continue
		}
		if patch.Fingerprint(patches) == fp {
			return &RefusedError{Reason: fmt.Sprintf("this change repeats experiment #%d (%s, %s); try something else", e.Number, e.Status, e.Description)}
		}
	}
	return nil
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
