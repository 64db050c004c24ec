package research

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/autoresearch/autoresearch/research/patch"
)

// A proposal prepared while an experiment trained is written on the best
// of that moment. When that experiment is kept and touched the same lines,
// the proposal no longer re-applies on the new best. Asking the model again
// would leave the GPU idle for a whole LLM round; instead the proposal
// trains on the commit it was written for, and is judged as a stale
// candidate exactly like a winner a parallel slot found on an older best
// (adoptStale): against the best of the moment it finishes, a winner
// adopted and what it lacks retried on top. Meanwhile the proposer, which
// moved on when the slot took the proposal, prepares the next change on
// the new best.

// trainsOnItsBase tells whether c, whose rebase onto the best failed with
// err, is trained on its own base instead of being dropped. Only a change
// that never trained qualifies: a retry re-applies a change that was
// measured already (the improvement a stale winner lacks, a person's
// retry), and training it on its old base would measure the same code again.
func (s *session) trainsOnItsBase(c *candidate, err error) bool {
	var conflict *patch.ConflictError
	return c.fromProposer() && c.base != "" && !s.m.Config.DropConflicting && errors.As(err, &conflict)
}

// commitOnBase commits c's files as they were written, on c.base, in sl's
// working copy. For the slot in the main worktree this moves the run's
// branch to the older commit while it trains, as a confirmation run does;
// the judge moves it back unless the change wins.
func (s *session) commitOnBase(sl *slot, c *candidate, run Run) (string, error) {
	if err := s.resetSlot(sl, run, c.base); err != nil {
		return "", err
	}
	if err := s.writeFiles(sl.repo, c.files); err != nil {
		return "", err
	}
	paths := make([]string, 0, len(c.files))
	for p := range c.files {
		paths = append(paths, p)
	}
	if err := checkBranch(sl.repo, slotBranch(sl, run)); err != nil {
		return "", err
	}
	return sl.repo.Commit(OneLine(c.description), paths, s.m.Config.Author)
}

// staleTree is a stale candidate's code as it trains (or trained): a
// proposal made on a newer best can give exactly the same editable files
// (the new best changed only the line the stale one sets), which is the
// same experiment again under another base. The repeat check refuses it.
type staleTree struct {
	number      int // 0 until its experiment is recorded as started
	description string
}

// noteStaleTree remembers the editable files c trains with on its base
// and returns the key to give the experiment's number to once started.
func (s *session) noteStaleTree(c *candidate) string {
	key := s.treeKey(c.base, c.files)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.staleTrees == nil {
		s.staleTrees = map[string]*staleTree{}
	}
	s.staleTrees[key] = &staleTree{description: c.description}
	return key
}

// numberStaleTree records the number the stale candidate got; dropStaleTree
// forgets one that never started.
func (s *session) numberStaleTree(key string, number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.staleTrees[key]; t != nil {
		t.number = number
	}
}

func (s *session) dropStaleTree(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.staleTrees, key)
}

// checkStaleTree refuses a change on base whose editable files equal those
// of a stale candidate that trains or trained in this session.
func (s *session) checkStaleTree(base string, files map[string]string) error {
	s.mu.Lock()
	none := len(s.staleTrees) == 0
	s.mu.Unlock()
	if none {
		return nil
	}
	key := s.treeKey(base, files)
	s.mu.Lock()
	t := s.staleTrees[key]
	var st staleTree
	if t != nil {
		st = *t
	}
	s.mu.Unlock()
	if t == nil {
		return nil
	}
	if st.number > 0 {
		return &RefusedError{Reason: fmt.Sprintf("this change gives exactly the %s of experiment #%d (%s), trained on an older commit; try something else", strings.Join(s.m.Config.Editable, ", "), st.number, st.description)}
	}
	return &RefusedError{Reason: fmt.Sprintf("this change gives exactly the %s of %q, which is about to train on an older commit; try something else", strings.Join(s.m.Config.Editable, ", "), st.description)}
}

// treeKey hashes every editable file as it is after changing base's files
// into files.
func (s *session) treeKey(base string, files map[string]string) string {
	paths := append([]string(nil), s.m.Config.Editable...)
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		content, ok := files[p]
		if !ok {
			data, err := s.propRepo.FileAt(base, p)
			if err != nil {
				data = nil // a file the base lacks stays absent
			}
			content = string(data)
		}
		fmt.Fprintf(h, "%s\x00%d\x00%s", p, len(content), content)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// conflictsWith tells whether retry's change no longer applies on commit.
func (s *session) conflictsWith(retry *candidate, commit string) bool {
	for path, content := range retry.files {
		old, _ := s.m.Repo.FileAt(retry.base, path) // a file the base lacks: added
		now, err := s.m.Repo.FileAt(commit, path)
		if err != nil {
			return false // the slot finds out, and says so
		}
		var conflict *patch.ConflictError
		if _, err := patch.Rebase(string(old), content, string(now)); errors.As(err, &conflict) {
			return true
		}
	}
	return false
}

// uncontestedPart is retry's change without what contests commit's own
// change (the lines both set keep commit's values), as a retry on top of
// commit; nil when nothing is left.
func (s *session) uncontestedPart(retry *candidate, commit, of string) *candidate {
	files := map[string]string{}
	for path, content := range retry.files {
		old, _ := s.m.Repo.FileAt(retry.base, path)
		now, err := s.m.Repo.FileAt(commit, path)
		if err != nil {
			return nil
		}
		if merged, _ := patch.MergeKeepingOurs(string(old), string(now), content); merged != string(now) {
			files[path] = merged
		}
	}
	if len(files) == 0 {
		return nil
	}
	return &candidate{kind: KindRetry, base: commit, files: files,
		description: "retry of the improvement " + of + " on the adopted best, without the lines the best sets itself"}
}
