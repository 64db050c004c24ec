package gitrepo

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// listRefs reads every ref of the repository (loose ones over packed ones)
// as git prints them: a hash, or "ref: TARGET" for a symbolic ref. HEAD is
// not among them.
//
// go-git's own listing reads every file under refs/, lock files included,
// and fails on an empty one: the lock a ref update holds for an instant
// (another worktree's commit, git itself) made a guard's snapshot fail with
// "ref file is empty". A name ending in .lock is an update in progress, not
// a ref, and is skipped here; a loose ref that is empty or torn (a kill in
// the middle of another program's in-place write) is listed with what it
// holds, so that a change to it still shows.
func (r *Repo) listRefs() (map[string]string, error) {
	refs := map[string]string{}
	if err := readPackedRefs(filepath.Join(r.commonDir, "packed-refs"), refs); err != nil {
		return nil, err
	}
	root := filepath.Join(r.commonDir, "refs")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while listing: a race with a delete
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(d.Name(), ".lock") {
			return nil
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(r.commonDir, path)
		if err != nil {
			return err
		}
		refs[filepath.ToSlash(rel)] = strings.TrimSpace(string(data))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return refs, nil
}

// readPackedRefs adds the refs of a packed-refs file ("HASH NAME" lines;
// comments and peeled "^HASH" lines skipped). A missing file holds none.
func readPackedRefs(path string, into map[string]string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '^' {
			continue
		}
		if hash, name, ok := strings.Cut(line, " "); ok {
			into[name] = hash
		}
	}
	return sc.Err()
}
