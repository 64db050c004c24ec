package gitrepo

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// basePatterns are the ignore rules that apply everywhere: the user's global
// excludes file and .git/info/exclude (the common dir's, as git uses for
// linked worktrees). Per-directory .gitignore files are added during the walk.
// sig changes when one of the files they come from does (the files that
// name the global excludes file and the default ones; an excludes file
// named elsewhere is not followed).
func (r *Repo) basePatterns() (ps []gitignore.Pattern, sig uint64) {
	home, _ := os.UserHomeDir()
	exclude := filepath.Join(r.commonDir, "info", "exclude")
	for _, f := range []string{filepath.Join(home, ".gitconfig"), xdgIgnoreFile(), exclude} {
		sig = mixSig(sig, fileSig(f))
	}
	global, _ := gitignore.LoadGlobalPatterns(osfs.New("/"))
	if global == nil {
		global = readPatternFile(xdgIgnoreFile(), nil)
	}
	return append(global, readPatternFile(exclude, nil)...), sig
}

// xdgIgnoreFile is git's default global excludes file, used when
// core.excludesFile is not set.
func xdgIgnoreFile() string {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "git", "ignore")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "git", "ignore")
}

// readPatternFile parses an ignore file whose patterns are relative to
// domain (the directory holding it, as path components). A missing or
// unreadable file has no patterns, as for git.
func readPatternFile(file string, domain []string) []gitignore.Pattern {
	if file == "" {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}
