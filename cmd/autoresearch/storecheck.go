package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/store"
)

// runBranchPrefix is where runs keep their branches (autoresearch/TAG).
const runBranchPrefix = "autoresearch/"

// refuseLostStore refuses a 0-byte store in a repository that shows it had
// one: run branches, or training logs in the state dir. Such a store was
// truncated (a full disk, a bad copy), not created: opening it as new would
// number experiments from #1 again and lose the run's history. A damaged
// store (unreadable, not SQLite) is refused by store.Open itself.
func refuseLostStore(stateDir, repoDir string) error {
	path := filepath.Join(stateDir, "autoresearch.db")
	state, err := store.Probe(path)
	if err != nil {
		return &research.InputError{Msg: err.Error(), Err: err}
	}
	if state != store.FileEmpty {
		return nil
	}
	var evidence []string
	if branches := runBranches(repoDir); len(branches) > 0 {
		if len(branches) > 3 {
			branches = append(branches[:3], fmt.Sprintf("and %d more", len(branches)-3))
		}
		evidence = append(evidence, "run branches ("+strings.Join(branches, ", ")+")")
	}
	if n := countLogs(filepath.Join(stateDir, "logs")); n > 0 {
		evidence = append(evidence, fmt.Sprintf("%d training logs in %s", n, filepath.Join(stateDir, "logs")))
	}
	if len(evidence) == 0 {
		return nil // a store that was never written: new
	}
	derr := &store.DamagedError{Path: path, Reason: "0 bytes, although the repository has " + strings.Join(evidence, " and ")}
	return &research.InputError{Msg: derr.Error(), Err: derr}
}

// runBranches lists the repository's autoresearch/* branches, loose and
// packed, reading .git directly (nothing is opened for writing).
func runBranches(repoDir string) []string {
	gitDir := filepath.Join(repoDir, ".git")
	seen := map[string]bool{}
	heads := filepath.Join(gitDir, "refs", "heads")
	_ = filepath.WalkDir(filepath.Join(heads, filepath.FromSlash(runBranchPrefix)), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if rel, rerr := filepath.Rel(heads, p); rerr == nil {
				seen[filepath.ToSlash(rel)] = true
			}
		}
		return nil
	})
	if f, err := os.Open(filepath.Join(gitDir, "packed-refs")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			_, ref, ok := strings.Cut(sc.Text(), " ")
			if name, found := strings.CutPrefix(ref, "refs/heads/"); ok && found && strings.HasPrefix(name, runBranchPrefix) {
				seen[name] = true
			}
		}
		f.Close()
	}
	var out []string
	for b := range seen {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

// countLogs counts the training logs under dir (logs/TAG/NNNN.log).
func countLogs(dir string) int {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") {
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n
	}
	return n
}

// storeOpenError makes a damaged store a refusal of bad input (exit
// status 2, the message as is) rather than an internal error.
func storeOpenError(err error) error {
	var de *store.DamagedError
	if errors.As(err, &de) {
		return &research.InputError{Msg: de.Error(), Err: err}
	}
	return err
}
