package research

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// train.py is code a model wrote: besides git state it can delete a .venv
// or overwrite a person's notes. The harness cannot undo that, but it
// notices and says so. Before and after each training it takes a cheap
// picture of the working tree's files (path, size, mtime, mode; no
// hashing), and reports what disappeared or changed among the files that
// git does not track.

// GuardMaxPaths bounds the walk of one picture: a huge tree (a dataset
// unpacked into the repo) costs at most this many lstat calls per training.
const GuardMaxPaths = 200_000

type fileStamp struct {
	size  int64
	mtime int64
	mode  fs.FileMode
}

// treePicture is the state of a working tree's files at one moment.
type treePicture struct {
	files     map[string]fileStamp // slash paths relative to the root
	truncated bool                 // stopped at the bound: paths after last unknown
	last      string               // the last path pictured, in walk order
	// watched: the slot's treeWatch holds the picture (files is empty);
	// untrackedDamage asks it what changed.
	watched bool
}

// harnessOwned are files in the repo the harness itself rewrites during a
// training: no business of train.py's report.
var harnessOwned = map[string]bool{"results.tsv": true, resultsTemp: true, "run.log": true}

// pictureTree walks root without following links, leaving out .git, the
// paths skip names (the state dir, say), the harness's own files and
// Python's bytecode caches, which any run may rewrite.
func pictureTree(root string, skip []string, max int) (treePicture, error) {
	p := treePicture{files: map[string]fileStamp{}}
	skipped := map[string]bool{".git": true}
	for _, s := range skip {
		skipped[s] = true
	}
	errStop := errors.New("bound reached")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if path == root {
			return err
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // vanished while we walked
			}
			return err
		}
		rel, rerr := filepath.Rel(root, path)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if skipped[rel] || harnessOwned[rel] || d.IsDir() && d.Name() == "__pycache__" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if len(p.files) >= max {
			p.truncated = true
			return errStop
		}
		p.last = rel
		if d.IsDir() {
			// A directory's own size and mtime change whenever a file is
			// made in it; only its existence counts (and no lstat is spent).
			p.files[rel] = fileStamp{mode: fs.ModeDir}
			return nil
		}
		info, ierr := d.Info()
		if ierr != nil {
			if errors.Is(ierr, fs.ErrNotExist) {
				return nil
			}
			return ierr
		}
		p.files[rel] = fileStamp{size: info.Size(), mtime: info.ModTime().UnixNano(), mode: info.Mode()}
		return nil
	})
	if err != nil && err != errStop {
		return p, err
	}
	return p, nil
}

// treeDamage is what a training did to files that existed before it.
type treeDamage struct {
	deleted   []string
	rewritten []string
}

// compareTrees lists the paths of before that are gone or changed in after.
// tracked tells whether git tracks a path (git's guard covers those); new
// files are no damage (training makes checkpoints and caches).
func compareTrees(before, after treePicture, tracked func(string) bool) treeDamage {
	var d treeDamage
	for path, old := range before.files {
		now, ok := after.files[path]
		switch {
		case !ok && after.truncated && !walkedBefore(path, after.last):
			// Beyond the bound of the second walk: unknown, not deleted.
		case !ok:
			if !tracked(path) {
				d.deleted = append(d.deleted, path)
			}
		case now != old:
			if !tracked(path) {
				d.rewritten = append(d.rewritten, path)
			}
		}
	}
	sort.Strings(d.deleted)
	sort.Strings(d.rewritten)
	return d
}

// walkedBefore tells whether the walk (lexical by name within each
// directory, depth first) reaches a no later than b.
func walkedBefore(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) <= len(bs)
}

// note says in one line what the training did, grouped by top-level
// entry: "train.py deleted .venv/ (3 paths); rewrote notes.txt". Empty when
// nothing was damaged.
func (d treeDamage) note(before treePicture) string {
	var parts []string
	if g := groupPaths(d.deleted, before); g != "" {
		parts = append(parts, "deleted "+g)
	}
	if g := groupPaths(d.rewritten, before); g != "" {
		parts = append(parts, "rewrote "+g)
	}
	if len(parts) == 0 {
		return ""
	}
	return "train.py " + strings.Join(parts, "; ")
}

// groupPaths folds paths by their top-level entry: a directory reads
// "dir/ (N paths)", counting the files in it (or the directories, when
// only empty ones went), a file reads as its name.
func groupPaths(paths []string, before treePicture) string {
	type group struct {
		dir          bool
		files, other int
	}
	groups := map[string]*group{}
	var order []string
	for _, p := range paths {
		top, _, nested := strings.Cut(p, "/")
		g := groups[top]
		if g == nil {
			g = &group{}
			groups[top] = g
			order = append(order, top)
		}
		isDir := before.files[p].mode.IsDir()
		g.dir = g.dir || nested || isDir
		if isDir {
			g.other++
		} else {
			g.files++
		}
	}
	var out []string
	for _, top := range order {
		g := groups[top]
		if !g.dir {
			out = append(out, top)
			continue
		}
		n := g.files
		if n == 0 {
			n = g.other
		}
		word := "paths"
		if n == 1 {
			word = "path"
		}
		out = append(out, fmt.Sprintf("%s/ (%d %s)", top, n, word))
	}
	const shown = 5
	if len(out) > shown {
		out = append(out[:shown], fmt.Sprintf("and %d more", len(out)-shown))
	}
	return strings.Join(out, ", ")
}

// guardSkips are the paths under a slot's root the picture leaves out: the
// state dir when it lies inside (logs, worktrees, the store).
func (s *session) guardSkips(root string) []string {
	rel, err := filepath.Rel(root, s.m.Config.StateDir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil
	}
	return []string{filepath.ToSlash(rel)}
}

// pictureSlot takes the picture of a slot's working tree before a
// training; ok false when it could not (the training goes on unguarded).
// Where the slot's tree can be watched (inotify) the picture is kept
// current by the watch and only what changed since is looked at.
func (s *session) pictureSlot(sl *slot) (treePicture, bool) {
	root := sl.repo.Root()
	if w := s.slotWatch(sl); w != nil {
		err := w.sync()
		if err == nil {
			return treePicture{watched: true}, true
		}
		s.dropWatch(sl, err)
	}
	p, err := pictureTree(root, s.guardSkips(root), GuardMaxPaths)
	if err != nil {
		s.m.logger().Warn("picturing untracked files before training", "dir", root, "err", err)
		return p, false
	}
	return p, true
}

// untrackedDamage compares the slot's tree after a training with before
// and returns the note for the experiment's record ("" when untouched).
func (s *session) untrackedDamage(sl *slot, before treePicture, commit string) string {
	root := sl.repo.Root()
	tracked := func(path string) bool {
		_, err := sl.repo.FileAt(commit, path)
		return err == nil
	}
	var d treeDamage
	if before.watched {
		var err error
		if d, before, err = sl.watch.changes(tracked); err != nil {
			s.dropWatch(sl, err)
			s.m.logger().Warn("following untracked files during training", "dir", root, "err", err)
			return ""
		}
	} else {
		after, err := pictureTree(root, s.guardSkips(root), GuardMaxPaths)
		if err != nil {
			s.m.logger().Warn("picturing untracked files after training", "dir", root, "err", err)
			return ""
		}
		d = compareTrees(before, after, tracked)
	}
	note := d.note(before)
	if note != "" {
		s.m.logger().Warn("the training damaged untracked files", "dir", root, "deleted", len(d.deleted), "rewritten", len(d.rewritten))
	}
	return note
}

// slotWatch is the slot's tree watch, made at its first training; nil where
// none can be made (no inotify, too few watches allowed, a tree past
// GuardMaxPaths): the guard then walks the tree each time.
func (s *session) slotWatch(sl *slot) *treeWatch {
	if sl.watch != nil || sl.noWatch {
		return sl.watch
	}
	root := sl.repo.Root()
	w, err := newTreeWatch(root, s.guardSkips(root), GuardMaxPaths)
	if err != nil {
		sl.noWatch = true
		s.m.logger().Info("not watching the working tree; the untracked-files guard walks it instead", "dir", root, "err", err)
		return nil
	}
	sl.watch = w
	return w
}

// dropWatch gives up the slot's watch after an error; walks take over.
func (s *session) dropWatch(sl *slot, err error) {
	s.m.logger().Warn("the working tree's watch failed; the untracked-files guard walks it instead", "dir", sl.repo.Root(), "err", err)
	sl.watch.close()
	sl.watch, sl.noWatch = nil, true
}
