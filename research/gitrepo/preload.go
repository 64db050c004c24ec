package gitrepo

import (
	"runtime"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// preloadMin is the number of entries from which checking the worktree is
// split over several goroutines. Nearly all of a big tree's status is one
// lstat per tracked file, which waits on the kernel: git runs that part on
// up to 20 threads as well (core.preloadIndex).
const preloadMin = 500

// preloadThreads bounds the goroutines of one preload.
const preloadThreads = 16

// entryCheck is a tracked file found clean and what proves it still is
// (monitor.go): the index entry it was found to match, and its directory's
// watch with the generation it had before the file was looked at. heads
// are the last two commits whose tree was found to have the entry's blob
// (zero: none), which spares DirtyTracked and ResetTo a lookup per entry
// while the harness moves between the same two commits.
type entryCheck struct {
	entry *index.Entry
	dir   *watchedDir
	gen   uint64
	heads [2]plumbing.Hash
}

func (c *entryCheck) inCommit(h plumbing.Hash) bool {
	return !h.IsZero() && (c.heads[0] == h || c.heads[1] == h)
}

func (c *entryCheck) addCommit(h plumbing.Hash) {
	if !h.IsZero() && c.heads[0] != h {
		c.heads[1], c.heads[0] = c.heads[0], h
	}
}

// changedEntries returns the names of the index entries whose file is not
// clean (worktreeClean) or, when head is given, whose blob differs from
// head's (staged; their files are not looked at), and how many entries
// head has. With the change monitor, an entry found clean before is not
// looked at again while its directory has seen no event and its index
// entry is the same one. The first error wins.
func (r *Repo) changedEntries(st *indexState, head *snapshot) (changed map[string]bool, inHead int, err error) {
	mon := r.liveMonitor(len(st.entries))
	changed = map[string]bool{}
	var list []*index.Entry
	for name, e := range st.entries {
		var c entryCheck
		known := false // found clean before, and nothing moved since
		if mon != nil {
			c, known = r.checks[name]
			known = known && c.entry == e && c.dir.gen == c.gen
		}
		if head != nil {
			if known && c.inCommit(head.commit) {
				inHead++
				continue
			}
			h, ok := head.files[name]
			if ok {
				inHead++
			}
			if !ok || h.Hash != e.Hash || h.Mode != e.Mode {
				changed[name] = true // staged
				continue
			}
			if known {
				c.addCommit(head.commit)
				r.checks[name] = c
			}
		}
		if !known {
			list = append(list, e)
		}
	}
	var dirs []*watchedDir
	var gens []uint64
	if mon != nil {
		// Watch before looking: an event from then on moves gen.
		dirs, gens = make([]*watchedDir, len(list)), make([]uint64, len(list))
		for i, e := range list {
			if d := mon.watch(parentDir(e.Name)); d != nil {
				dirs[i], gens[i] = d, d.gen
			}
		}
	}
	r.lastChecked = len(list)
	results, err := r.checkEntries(list, st.mtime)
	if err != nil {
		return nil, 0, err
	}
	for i, e := range list {
		if !results[i] {
			changed[e.Name] = true
		}
	}
	var headCommit plumbing.Hash
	if head != nil {
		headCommit = head.commit // every entry in list is as head has it
	}
	if mon.live() {
		r.recordChecks(st, list, results, dirs, gens, headCommit)
	} else {
		r.checks = nil
	}
	return changed, inHead, nil
}

// recordChecks keeps the entries just found clean in a watched directory.
// Those found dirty are looked at again each time (they are few, and the
// harness is about to change them).
func (r *Repo) recordChecks(st *indexState, list []*index.Entry, clean []bool, dirs []*watchedDir, gens []uint64, head plumbing.Hash) {
	if r.checks == nil {
		r.checks = make(map[string]entryCheck, len(st.entries))
	}
	for i, e := range list {
		if clean[i] && dirs[i] != nil {
			r.checks[e.Name] = entryCheck{entry: e, dir: dirs[i], gen: gens[i], heads: [2]plumbing.Hash{head}}
		} else {
			delete(r.checks, e.Name)
		}
	}
	if len(r.checks) > len(st.entries) {
		for name := range r.checks {
			if _, ok := st.entries[name]; !ok {
				delete(r.checks, name)
			}
		}
	}
}

// checkEntries runs worktreeClean on each entry of list, in parallel when
// there are many.
func (r *Repo) checkEntries(list []*index.Entry, indexMtime time.Time) ([]bool, error) {
	results := make([]bool, len(list))
	threads := min(runtime.GOMAXPROCS(0)*2, preloadThreads, len(list)/preloadMin+1)
	if threads <= 1 {
		for i, e := range list {
			ok, err := r.worktreeClean(e, indexMtime)
			if err != nil {
				return nil, err
			}
			results[i] = ok
		}
		return results, nil
	}
	errs := make([]error, threads)
	var wg sync.WaitGroup
	chunk := (len(list) + threads - 1) / threads
	for t := 0; t < threads; t++ {
		lo, hi := t*chunk, min((t+1)*chunk, len(list))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ok, err := r.worktreeClean(list[i], indexMtime)
				if err != nil {
					errs[t] = err
					return
				}
				results[i] = ok
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}
