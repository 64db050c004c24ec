package research

import (
	"fmt"
	"sort"
	"strings"
)

// GitState is the part of a repository's git metadata that train.py must
// leave as it found it: where HEAD points, every ref, the hooks and the
// config the harness relies on. train.py is code a model wrote; a `git
// checkout master` in it would otherwise make the harness commit onto the
// user's branch, and a hook it installs would run under the user's git.
type GitState struct {
	HeadTarget string            // full ref name HEAD points at; "" when detached
	HeadCommit string            // the commit HEAD resolves to ("" when unborn)
	HeadRaw    []byte            // the HEAD file's bytes, restored verbatim
	Refs       map[string]string // full ref name -> commit (or "ref: X" when symbolic)
	Hooks      map[string][]byte // path under the hooks directory -> content
	Config     map[string][]byte // config files (config, config.worktree) -> content; absent when missing
}

// GitGuard is a Repo that can snapshot and restore its GitState. Repos that
// cannot (test fakes) are simply not guarded.
type GitGuard interface {
	GitState() (GitState, error)
	RestoreGitState(GitState) error
}

// GitStateChanges lists, in words, what differs from before to after.
// Refs named in ignore (full names) are not compared: another slot's judge
// may move the run branch while this one trains.
func GitStateChanges(before, after GitState, ignore ...string) []string {
	var out []string
	skip := map[string]bool{}
	for _, r := range ignore {
		skip[r] = true
	}
	switch {
	case before.HeadTarget != after.HeadTarget && after.HeadTarget == "":
		out = append(out, "detached HEAD at "+ShortCommit(after.HeadCommit))
	case before.HeadTarget != after.HeadTarget:
		out = append(out, "checked out "+shortRef(after.HeadTarget))
	case before.HeadTarget == "" && before.HeadCommit != after.HeadCommit:
		out = append(out, fmt.Sprintf("moved the detached HEAD from %s to %s", ShortCommit(before.HeadCommit), ShortCommit(after.HeadCommit)))
	}
	for _, name := range sortedKeys(before.Refs, after.Refs) {
		if skip[name] {
			continue
		}
		b, inBefore := before.Refs[name]
		a, inAfter := after.Refs[name]
		switch {
		case !inAfter:
			out = append(out, "deleted "+refKind(name)+" "+shortRef(name))
		case !inBefore:
			out = append(out, "created "+refKind(name)+" "+shortRef(name))
		case a != b:
			out = append(out, fmt.Sprintf("moved %s %s from %s to %s", refKind(name), shortRef(name), ShortCommit(b), ShortCommit(a)))
		}
	}
	for _, name := range sortedKeys(before.Hooks, after.Hooks) {
		b, inBefore := before.Hooks[name]
		a, inAfter := after.Hooks[name]
		switch {
		case !inAfter:
			out = append(out, "deleted hook "+name)
		case !inBefore:
			out = append(out, "installed hook "+name+" (removed)")
		case string(a) != string(b):
			out = append(out, "changed hook "+name)
		}
	}
	for _, name := range sortedKeys(before.Config, after.Config) {
		b, inBefore := before.Config[name]
		a, inAfter := after.Config[name]
		if inBefore != inAfter || string(a) != string(b) {
			out = append(out, "edited .git/"+name)
		}
	}
	return out
}

// GitStateError is the crash reason of a training that changed git state.
type GitStateError struct {
	Changes []string
	// RestoreErr is set when putting the state back failed too.
	RestoreErr error
}

func (e *GitStateError) Error() string {
	msg := "train.py changed git state: " + strings.Join(e.Changes, "; ")
	if e.RestoreErr != nil {
		return msg + " (restoring it failed: " + e.RestoreErr.Error() + ")"
	}
	return msg + " (restored)"
}

func (e *GitStateError) Unwrap() error { return e.RestoreErr }

func refKind(name string) string {
	switch {
	case strings.HasPrefix(name, "refs/heads/"):
		return "branch"
	case strings.HasPrefix(name, "refs/tags/"):
		return "tag"
	default:
		return "ref"
	}
}

func shortRef(name string) string {
	for _, p := range []string{"refs/heads/", "refs/tags/", "refs/remotes/"} {
		if s, ok := strings.CutPrefix(name, p); ok {
			return s
		}
	}
	return name
}

func sortedKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}
