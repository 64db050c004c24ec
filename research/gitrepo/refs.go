package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// go-git writes a ref by truncating its file and writing it in place: a
// kill between the two leaves an empty ref, which git calls a broken branch.
// Every ref this package moves goes through setRef instead.

// reflogIdentity signs the reflog lines the harness writes.
const reflogIdentity = "autoresearch <autoresearch@localhost>"

// refPath is where a loose ref lives: HEAD in the per-worktree git dir,
// everything else (refs/heads/...) in the common dir.
func (r *Repo) refPath(name plumbing.ReferenceName) string {
	if name == plumbing.HEAD {
		return filepath.Join(r.gitDir, "HEAD")
	}
	return filepath.Join(r.commonDir, filepath.FromSlash(string(name)))
}

// logPath is the reflog of a ref.
func (r *Repo) logPath(name plumbing.ReferenceName) string {
	if name == plumbing.HEAD {
		return filepath.Join(r.gitDir, "logs", "HEAD")
	}
	return filepath.Join(r.commonDir, "logs", filepath.FromSlash(string(name)))
}

// setHashRef points name at h atomically and logs the move in its reflog
// (and in HEAD's when HEAD follows name), as git does.
func (r *Repo) setHashRef(name plumbing.ReferenceName, h plumbing.Hash, msg string) error {
	old := r.currentHash(name)
	if err := r.writeRef(name, h.String()+"\n"); err != nil {
		return err
	}
	r.appendReflog(name, old, h, msg)
	if name != plumbing.HEAD {
		if target, err := r.headTarget(); err == nil && target == name {
			r.appendReflog(plumbing.HEAD, old, h, msg)
		}
	}
	return nil
}

// setSymbolicHead points HEAD at the branch ref atomically.
func (r *Repo) setSymbolicHead(ref plumbing.ReferenceName, msg string) error {
	old := r.currentHash(plumbing.HEAD)
	if err := r.writeRef(plumbing.HEAD, "ref: "+string(ref)+"\n"); err != nil {
		return err
	}
	r.appendReflog(plumbing.HEAD, old, r.currentHash(ref), msg)
	return nil
}

func (r *Repo) writeRef(name plumbing.ReferenceName, content string) error {
	l, err := lockFor(r.refPath(name))
	if err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	if err := l.commit([]byte(content)); err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	return nil
}

// currentHash is what name resolves to now, zero when it does not.
func (r *Repo) currentHash(name plumbing.ReferenceName) plumbing.Hash {
	ref, err := r.repo.Reference(name, true)
	if err != nil || !r.isCommit(ref.Hash()) {
		return plumbing.ZeroHash // a torn ref parses as some hash: not a reflog entry
	}
	return ref.Hash()
}

// appendReflog adds one line to name's reflog. One write(2) of one line on
// an O_APPEND file: a kill cannot leave half a line. A failure only loses
// history, so it is not an error for the caller.
func (r *Repo) appendReflog(name plumbing.ReferenceName, old, h plumbing.Hash, msg string) {
	p := r.logPath(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(reflogLine(old, h, time.Now(), msg))
}

func reflogLine(old, h plumbing.Hash, when time.Time, msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	return fmt.Sprintf("%s %s %s %d %s\t%s\n", old, h, reflogIdentity, when.Unix(), when.Format("-0700"), msg)
}

var hashLine = regexp.MustCompile(`^[0-9a-f]{40}\n?$`)

// readLooseHash reads a loose ref file that must hold a hash: ok is false
// when it is empty, torn or not a hash (a symbolic ref included).
func readLooseHash(path string) (h plumbing.Hash, exists, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return plumbing.ZeroHash, !os.IsNotExist(err), false
	}
	if !hashLine.Match(data) {
		return plumbing.ZeroHash, true, false
	}
	return plumbing.NewHash(strings.TrimSpace(string(data))), true, true
}

// reflogCommits lists the new-hash column of a reflog, newest first.
func reflogCommits(path string) []plumbing.Hash {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	lines := strings.Split(string(data), "\n")
	var out []plumbing.Hash
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) >= 2 && len(f[1]) == 40 && hashLine.MatchString(f[1]) {
			out = append(out, plumbing.NewHash(f[1]))
		}
	}
	return out
}
