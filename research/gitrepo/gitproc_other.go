//go:build !linux

package gitrepo

import (
	"path/filepath"
	"strings"
)

// gitRunningIn cannot see other processes here: it assumes one runs, so
// Repair leaves lock files alone and says so.
func gitRunningIn(dirs ...string) bool { return true }

func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}
