package research

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Checker decides whether the worktree holds an acceptable proposal: a
// non-empty change to editable files only, read-only files untouched, Python
// that parses. It never changes the worktree.
type Checker struct {
	Repo     Repo
	Editable []string
	ReadOnly []string
	Python   string            // "" disables the syntax check
	Hashes   map[string]string // read-only file -> sha256, taken at run start
	// Protected lines compute or print the metric: a change that adds,
	// removes or alters a line matching one of them is refused.
	Protected []*regexp.Regexp

	preexisting map[string]bool // untracked files present before the proposal

	mu       sync.Mutex
	findings map[string][]metricFinding // metric findings per file version at HEAD (headFindings)
	py       *pyServer                  // the Python checks' interpreter (Close ends it)
}

// Snapshot remembers the untracked files that exist before a proposal, so
// that a person's notes in the repo are neither counted as the proposal's
// change nor deleted when a refused proposal is undone.
func (c *Checker) Snapshot() error {
	paths, err := c.Repo.Changes()
	if err != nil {
		return err
	}
	c.preexisting = make(map[string]bool, len(paths))
	for _, p := range paths {
		c.preexisting[p] = true
	}
	return nil
}

// untrackedLister is a Repo that lists its untracked files alone.
type untrackedLister interface {
	Untracked() ([]string, error)
}

// SnapshotAfterReset is Snapshot for a working tree just reset to HEAD:
// its tracked files are clean by construction, so only the untracked
// files are listed (a big tree's tracked files are not stat'ed again).
func (c *Checker) SnapshotAfterReset() error {
	ul, ok := c.Repo.(untrackedLister)
	if !ok {
		return c.Snapshot()
	}
	paths, err := ul.Untracked()
	if err != nil {
		return err
	}
	c.preexisting = make(map[string]bool, len(paths))
	for _, p := range paths {
		c.preexisting[p] = true
	}
	return nil
}

// Changed lists what the proposal changed since Snapshot.
func (c *Checker) Changed() ([]string, error) {
	paths, err := c.Repo.Changes()
	if err != nil {
		return nil, err
	}
	out := paths[:0]
	for _, p := range paths {
		if !c.preexisting[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// HashFiles returns the sha256 of each file under root.
func HashFiles(root string, files []string) (map[string]string, error) {
	out := make(map[string]string, len(files))
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		out[f] = hex.EncodeToString(sum[:])
	}
	return out, nil
}

// VerifyReadOnly checks the read-only files still hash as at run start.
func (c *Checker) VerifyReadOnly() error {
	now, err := HashFiles(c.Repo.Root(), c.ReadOnly)
	if err != nil {
		return &RefusedError{Reason: fmt.Sprintf("cannot read a read-only file: %v", err)}
	}
	for f, h := range c.Hashes {
		if now[f] != h {
			return &RefusedError{Reason: fmt.Sprintf("%s is read-only and was changed; changes to it are never accepted", f), Files: []string{f}}
		}
	}
	return nil
}

// Check returns the changed paths, or a *RefusedError saying why the change
// cannot be trained (the changed paths are returned either way so the caller
// can restore them).
func (c *Checker) Check(ctx context.Context) ([]string, error) {
	// The Python checks of the editable files start while the tree is
	// compared with HEAD: in a big tree the status and an interpreter's
	// start each cost tens of milliseconds. Only the results for files the
	// proposal changed are used, in the order below.
	early := c.startPython(ctx)
	defer early.stop()
	changed, err := c.Changed()
	if err != nil {
		return nil, err
	}
	if len(changed) == 0 {
		return nil, &RefusedError{Reason: "the proposal changed nothing; make a change to " + strings.Join(c.Editable, ", ")}
	}
	for _, f := range changed {
		if slices.Contains(c.ReadOnly, f) {
			return changed, &RefusedError{Reason: fmt.Sprintf("%s is read-only; only %s may be changed", f, strings.Join(c.Editable, ", ")), Files: []string{f}}
		}
	}
	var outside []string
	for _, f := range changed {
		if !slices.Contains(c.Editable, f) {
			outside = append(outside, f)
		}
	}
	if len(outside) > 0 {
		return changed, &RefusedError{Reason: fmt.Sprintf("only %s may be changed; the proposal also changed %s", strings.Join(c.Editable, ", "), strings.Join(outside, ", ")), Files: outside}
	}
	if err := c.VerifyReadOnly(); err != nil {
		return changed, err
	}
	if err := c.checkProtected(changed); err != nil {
		return changed, err
	}
	for _, f := range changed {
		if !strings.HasSuffix(f, ".py") {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.Repo.Root(), f)); err != nil {
			return changed, &RefusedError{Reason: fmt.Sprintf("%s was deleted; editable files must stay in place", f), Files: []string{f}}
		}
		if err := early.result(ctx, f); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// pythonRuns are checkPython runs started ahead of need.
type pythonRuns struct {
	c      *Checker
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   map[string]chan error // per file; each gets one result
}

// startPython starts checkPython on every editable Python file.
func (c *Checker) startPython(ctx context.Context) *pythonRuns {
	ctx, cancel := context.WithCancel(ctx)
	r := &pythonRuns{c: c, cancel: cancel, done: map[string]chan error{}}
	if c.Python == "" || c.Python == "none" {
		return r
	}
	for _, f := range c.Editable {
		if !strings.HasSuffix(f, ".py") {
			continue
		}
		ch := make(chan error, 1)
		r.done[f] = ch
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			ch <- c.checkPython(ctx, f)
		}()
	}
	return r
}

// result is checkPython's verdict on f: the early run's, or a run now.
func (r *pythonRuns) result(ctx context.Context, f string) error {
	if ch, ok := r.done[f]; ok {
		return <-ch
	}
	return r.c.checkPython(ctx, f)
}

// stop ends the runs no longer needed and waits for them (no interpreter
// outlives the check).
func (r *pythonRuns) stop() {
	r.cancel()
	r.wg.Wait()
}

// syntaxScript parses the file named by argv[1]; a SyntaxError ends the
// interpreter with its traceback. The metric check runs in the same
// process after it (checkPython): one interpreter start per file.
const syntaxScript = "import ast,sys\n_src=open(sys.argv[1],encoding='utf-8').read()\nast.parse(_src, sys.argv[1])\nprint(" + parsedMarker + ")\n"

// parsedMarker is printed once the file parsed: a failure without it is
// the file's syntax, one after it the metric check's own.
const parsedMarker = `"#parsed"`

// checkProtected refuses changes to the lines that compute or print the
// metric: a proposal must not be able to improve val_bpb by redefining it.
func (c *Checker) checkProtected(changed []string) error {
	if len(c.Protected) == 0 {
		return nil
	}
	head, err := c.Repo.Head()
	if err != nil {
		return err
	}
	for _, f := range changed {
		before, err := c.Repo.FileAt(head, f)
		if err != nil {
			continue // a new file has no protected lines to lose
		}
		after, err := os.ReadFile(filepath.Join(c.Repo.Root(), f))
		if err != nil {
			return err
		}
		if line, ok := protectedChange(string(before), string(after), c.Protected); ok {
			return &RefusedError{Reason: fmt.Sprintf("%s: the line `%s` computes or prints the metric and may not be changed", f, strings.TrimSpace(line)), Files: []string{f}}
		}
	}
	return nil
}

// protectedChange returns a protected line that appears a different number
// of times before and after (added, removed or edited).
func protectedChange(before, after string, patterns []*regexp.Regexp) (string, bool) {
	count := func(text string) map[string]int {
		m := map[string]int{}
		for _, line := range strings.Split(text, "\n") {
			for _, p := range patterns {
				if p.MatchString(line) {
					m[strings.TrimRight(line, " \t\r")]++
					break
				}
			}
		}
		return m
	}
	b, a := count(before), count(after)
	for line, n := range b {
		if a[line] != n {
			return line, true
		}
	}
	for line, n := range a {
		if b[line] != n {
			return line, true
		}
	}
	return "", false
}
