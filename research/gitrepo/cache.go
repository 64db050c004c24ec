package gitrepo

import (
	"maps"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// The experiment loop asks the same questions of a big tree many times an
// experiment (what changed, reset, commit), and most answers do not change
// between two questions: a commit's tree never changes, and the index only
// when a file replaces it. Repo keeps both in memory so that each question
// costs what actually differs, as the git CLI does with its index.

// snapshotsKept bounds the commit snapshots kept: HEAD, the best commit and
// the one being trained are what the loop moves between.
const snapshotsKept = 4

// cachedSnapshot returns the flattened tree of commit, reading it at most
// once while it stays among the recently used ones. Callers must not change
// the snapshot.
func (r *Repo) cachedSnapshot(commit plumbing.Hash) (*snapshot, bool) {
	for i, s := range r.snapshots {
		if s.commit == commit {
			// Most recently used last.
			r.snapshots = append(append(r.snapshots[:i:i], r.snapshots[i+1:]...), s)
			return s, true
		}
	}
	return nil, false
}

func (r *Repo) keepSnapshot(s *snapshot) {
	if len(r.snapshots) >= snapshotsKept {
		r.snapshots = append(r.snapshots[:0:0], r.snapshots[1:]...)
	}
	r.snapshots = append(r.snapshots, s)
}

// indexStamp identifies one version of the index file. Every writer (this
// package, the git CLI) replaces the file by renaming a lock file over it,
// so a new version has a new inode; size, mtime and ctime guard against the
// rest.
type indexStamp struct {
	ino, size    uint64
	mtime, ctime time.Time
}

// cachedIndex returns a copy of the parsed index when the file on disk is
// still the version it was parsed from (or written from).
func (r *Repo) cachedIndex(stamp indexStamp) *indexState {
	if r.index == nil || r.indexStamp != stamp {
		return nil
	}
	return r.index.clone()
}

func (r *Repo) keepIndex(st *indexState, stamp indexStamp) {
	r.index, r.indexStamp = st.clone(), stamp
}

// clone copies the maps and slices of st; the entries themselves are
// shared and never changed in place (see smudgeRacy).
func (st *indexState) clone() *indexState {
	return &indexState{
		version:  st.version,
		entries:  maps.Clone(st.entries),
		unmerged: append([]*index.Entry(nil), st.unmerged...),
		mtime:    st.mtime,
		fresh:    map[string]bool{},
		names:    st.names,
	}
}
