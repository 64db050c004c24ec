package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Exclude appends each pattern not already present to info/exclude (the
// common dir's, which git reads for every linked worktree too), creating the
// file if needed. Unlike .gitignore this changes nothing tracked.
func (r *Repo) Exclude(patterns ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	file := filepath.Join(r.commonDir, "info", "exclude")
	old, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", file, err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(old), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	var add strings.Builder
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" || have[p] {
			continue
		}
		if strings.ContainsAny(p, "\n\r") {
			return fmt.Errorf("exclude pattern %q: %w", p, ErrBadPath)
		}
		have[p] = true
		add.WriteString(p + "\n")
	}
	if add.Len() == 0 {
		return nil
	}
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		old = append(old, '\n')
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	// Rewrite whole rather than append so a missing final newline is fixed.
	if err := os.WriteFile(file, append(old, add.String()...), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}
