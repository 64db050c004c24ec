//go:build linux

package gitrepo

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// gitRunningIn tells whether a git process (other than this one) works in
// one of dirs: its working directory is inside one of them. A lock file such
// a process holds (index.lock while `git commit` waits for an editor) is its
// own and must stay. When /proc cannot be read the answer is yes: better to
// leave a lock than to break someone's git.
func gitRunningIn(dirs ...string) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "git") {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil {
			continue // gone, or not ours to see
		}
		for _, d := range dirs {
			if within(cwd, d) {
				return true
			}
		}
	}
	return false
}

// within: p is dir or below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}
