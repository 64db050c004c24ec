package research

import (
	"bytes"
	"context"
	_ "embed"
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

// checkMetric refuses a change to f that adds a finding of the metric
// check. Findings the file already had at HEAD are not the proposal's
// doing and do not count (a person's train.py may legitimately contain
// them); the check is skipped without a Python interpreter.
func (c *Checker) checkMetric(ctx context.Context, f string) error {
	if c.Python == "" || c.Python == "none" {
		return nil
	}
	py, err := exec.LookPath(c.Python)
	if err != nil {
		return nil
	}
	after, err := c.metricFindings(ctx, py, filepath.Join(c.Repo.Root(), f))
	if err != nil {
		return err
	}
	if len(after) == 0 {
		return nil
	}
	known := map[string]int{}
	if head, err := c.Repo.Head(); err == nil {
		if old, err := c.Repo.FileAt(head, f); err == nil {
			tmp, err := os.CreateTemp("", "autoresearch-before-*.py")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			_, werr := tmp.Write(old)
			if cerr := tmp.Close(); werr != nil || cerr != nil {
				return fmt.Errorf("writing %s as of HEAD: %v %v", f, werr, cerr)
			}
			before, err := c.metricFindings(ctx, py, tmp.Name())
			if err != nil {
				return err
			}
			for _, b := range before {
				known[b.msg]++
			}
		}
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

type metricFinding struct {
	line int
	msg  string
}

func (c *Checker) metricFindings(ctx context.Context, py, path string) ([]metricFinding, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	args := []string{"-c", metricCheckScript, path}
	for _, ro := range c.ReadOnly {
		args = append(args, filepath.Join(c.Repo.Root(), ro))
	}
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Dir = c.Repo.Root()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("metric check of %s: %v: %s", path, err, Tail(errOut.Bytes(), 6))
	}
	var findings []metricFinding
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
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
	return findings, nil
}
