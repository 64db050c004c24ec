package research

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// metricCheckScript reads a proposal's Python file and lists the places
// that rebind, shadow or monkeypatch the metric function or another name
// from the read-only files: assignment, def, import-as, globals()/vars()/
// __dict__/sys.modules writes, setattr, exec. The protected-line check
// alone cannot see `globals()["evaluate" + "_bpb"] = ...`.
//
//go:embed metriccheck.py
var metricCheckScript string

// checkPython parses f with the Python interpreter, so a typo costs a
// second, not a training run, and refuses a change to f that adds a
// finding of the metric check, in one interpreter. Findings the file
// already had at HEAD are not the proposal's doing and do not count (a
// person's train.py may legitimately contain them); they are computed once
// per version of the file. Without an interpreter both checks are skipped.
func (c *Checker) checkPython(ctx context.Context, f string) error {
	if c.Python == "" || c.Python == "none" {
		return nil
	}
	py, err := exec.LookPath(c.Python)
	if err != nil {
		return nil
	}
	// f relative to the root (the working directory): tracebacks name it as the model knows it.
	after, out, parsed, err := c.runPython(ctx, py, syntaxScript+metricCheckScript, f, f)
	if err != nil && !parsed {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &RefusedError{Reason: fmt.Sprintf("%s does not parse as Python:\n%s", f, Tail(out, 6)), Files: []string{f}}
	}
	if err != nil {
		return err
	}
	if len(after) == 0 {
		return nil
	}
	known := map[string]int{}
	before, err := c.headFindings(ctx, py, f)
	if err != nil {
		return err
	}
	for _, b := range before {
		known[b.msg]++
	}
	var fresh []string
	for _, a := range after {
		if known[a.msg] > 0 {
			known[a.msg]--
			continue
		}
		fresh = append(fresh, fmt.Sprintf("line %d %s", a.line, a.msg))
	}
	if len(fresh) == 0 {
		return nil
	}
	return &RefusedError{
		Reason: fmt.Sprintf("%s: %s; the metric and what train.py takes from %s may not be redefined, shadowed or patched",
			f, strings.Join(fresh, "; "), strings.Join(c.ReadOnly, ", ")),
		Files: []string{f},
	}
}

// headFindings are the metric check's findings in f as of HEAD (none for
// a new file), kept per content: HEAD's train.py is checked once, not at
// every proposal. The read-only files they depend on do not change during
// a run (VerifyReadOnly).
func (c *Checker) headFindings(ctx context.Context, py, f string) ([]metricFinding, error) {
	head, err := c.Repo.Head()
	if err != nil {
		return nil, nil
	}
	old, err := c.Repo.FileAt(head, f)
	if err != nil {
		return nil, nil
	}
	sum := sha256.Sum256(old)
	key := f + "\x00" + hex.EncodeToString(sum[:])
	c.mu.Lock()
	found, ok := c.findings[key]
	c.mu.Unlock()
	if ok {
		return found, nil
	}
	tmp, err := os.CreateTemp("", "autoresearch-before-*.py")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(old)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return nil, fmt.Errorf("writing %s as of HEAD: %v %v", f, werr, cerr)
	}
	found, out, _, err := c.runPython(ctx, py, metricCheckScript, tmp.Name(), tmp.Name())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("metric check of %s: %v: %s", f, err, Tail(out, 6))
	}
	c.mu.Lock()
	if c.findings == nil || len(c.findings) >= 16 {
		c.findings = map[string][]metricFinding{} // a few versions are all a run goes back to
	}
	c.findings[key] = found
	c.mu.Unlock()
	return found, nil
}

type metricFinding struct {
	line int
	msg  string
}

// runPython runs script on path (relative to the root, or absolute) with
// the read-only files as further arguments, and returns the findings it
// printed, its output, and whether it printed parsedMarker; name is what
// an error calls the file.
func (c *Checker) runPython(ctx context.Context, py, script, path, name string) ([]metricFinding, []byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	args := []string{path}
	for _, ro := range c.ReadOnly {
		args = append(args, filepath.Join(c.Repo.Root(), ro))
	}
	res, err := c.server(py).run(ctx, c.Repo.Root(), script, args)
	if err != nil {
		return nil, []byte(res.Output), false, fmt.Errorf("%s: %w", name, err)
	}
	var findings []metricFinding
	parsed := false
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		if line == strings.Trim(parsedMarker, `"`) {
			parsed = true
			continue
		}
		n, msg, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		var f metricFinding
		if _, err := fmt.Sscanf(n, "%d", &f.line); err != nil {
			continue
		}
		f.msg = msg
		findings = append(findings, f)
	}
	if res.Code != 0 {
		return nil, []byte(res.Output), parsed, fmt.Errorf("%s: exit status %d", name, res.Code)
	}
	return findings, []byte(res.Output), parsed, nil
}

// server is the Checker's Python check interpreter (py is c.Python as
// found on PATH, the same for the Checker's life), started on first use.
func (c *Checker) server(py string) *pyServer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.py == nil {
		c.py = &pyServer{python: py}
	}
	return c.py
}

// Close ends the Checker's Python check interpreter, if one runs.
func (c *Checker) Close() {
	c.mu.Lock()
	py := c.py
	c.py = nil
	c.mu.Unlock()
	if py != nil {
		py.Close()
	}
}
