package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// Diff returns the unified diff between two revisions (as git diff from to
// prints it) and a stat such as
//
//	" train.py | 4 ++--\n 1 file changed, 2 insertions(+), 2 deletions(-)\n".
//
// Binary files appear in the patch but not in the stat.
func (r *Repo) Diff(from, to string) (patch, stat string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, err := r.commitObject(from)
	if err != nil {
		return "", "", err
	}
	b, err := r.commitObject(to)
	if err != nil {
		return "", "", err
	}
	p, err := a.Patch(b)
	if err != nil {
		return "", "", fmt.Errorf("diff %s..%s: %w", from, to, err)
	}
	stats := p.Stats()
	if len(stats) == 0 {
		return p.String(), "", nil // git diff --stat prints nothing either
	}
	return p.String(), stats.String() + statSummary(stats), nil
}

// statSummary is git's closing stat line; git shows a zero count only when
// both are zero.
func statSummary(stats object.FileStats) string {
	var add, del int
	for _, s := range stats {
		add += s.Addition
		del += s.Deletion
	}
	var b strings.Builder
	fmt.Fprintf(&b, " %d %s changed", len(stats), plural(len(stats), "file", "files"))
	if add > 0 || del == 0 {
		fmt.Fprintf(&b, ", %d %s(+)", add, plural(add, "insertion", "insertions"))
	}
	if del > 0 || add == 0 {
		fmt.Fprintf(&b, ", %d %s(-)", del, plural(del, "deletion", "deletions"))
	}
	b.WriteString("\n")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (r *Repo) commitObject(rev string) (*object.Commit, error) {
	h, err := r.resolve(rev)
	if err != nil {
		return nil, err
	}
	c, err := r.repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrUnknownRevision, rev, err)
	}
	return c, nil
}

// FileAt reads path as of commit (any revision ResolveRef accepts).
func (r *Repo) FileAt(commit, path string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.cleanPath(path)
	if err != nil {
		return nil, err
	}
	c, err := r.commitObject(commit)
	if err != nil {
		return nil, err
	}
	f, err := c.File(p)
	if errors.Is(err, object.ErrFileNotFound) {
		return nil, fmt.Errorf("%w: %s at %s", ErrPathNotFound, p, commit)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", p, commit, err)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}
