package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// refusal is a tool failure the model is told about (never a Go error of
// Propose): a refused path, a missing match, malformed arguments.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

func refusef(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// workspace is the research working copy as the tools see it.
type workspace struct {
	dir      string
	editable []string // cleaned, slash-separated relative paths
	maxRead  int
}

func newWorkspace(dir string, editable []string, maxRead int) *workspace {
	w := &workspace{dir: dir, maxRead: maxRead}
	for _, e := range editable {
		w.editable = append(w.editable, filepath.ToSlash(filepath.Clean(e)))
	}
	return w
}

// resolve turns a model-supplied path into an absolute path inside the
// working copy. It refuses absolute paths, any ".." component (even one that
// would clean back inside: the model has no reason to write one) and any
// symlink on the way, so neither reads nor writes can leave the directory or
// reach a read-only file through a link. A missing final component is
// allowed (write_file may create an editable file); callers check existence.
func (w *workspace) resolve(p string) (rel, abs string, err error) {
	if strings.TrimSpace(p) == "" {
		return "", "", refusef("path is empty")
	}
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return "", "", refusef("%q is an absolute path; use a path relative to the repository root, e.g. train.py", p)
	}
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "", "", refusef("%q contains \"..\"; only files inside the repository are allowed", p)
		}
	}
	rel = filepath.ToSlash(filepath.Clean(p))
	if rel == "." {
		return "", "", refusef("%q is the repository root, not a file", p)
	}
	cur := w.dir
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			if i < len(parts)-1 {
				return "", "", refusef("%s: no such file or directory", strings.Join(parts[:i+1], "/"))
			}
			break
		}
		if err != nil {
			return "", "", refusef("%s: %v", rel, errors.Unwrap(err))
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return "", "", refusef("%s is a symlink; symlinks are refused", strings.Join(parts[:i+1], "/"))
		}
	}
	return rel, cur, nil
}

// resolveWritable is resolve plus the editable-files rule.
func (w *workspace) resolveWritable(p string) (rel, abs string, err error) {
	rel, abs, err = w.resolve(p)
	if err != nil {
		return "", "", err
	}
	if !slices.Contains(w.editable, rel) {
		return "", "", refusef("%s is read-only; only these files may be changed: %s", rel, strings.Join(w.editable, ", "))
	}
	return rel, abs, nil
}
