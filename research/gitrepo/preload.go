package gitrepo

import (
	"runtime"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// preloadMin is the number of entries from which checking the worktree is
// split over several goroutines. Nearly all of a big tree's status is one
// lstat per tracked file, which waits on the kernel: git runs that part on
// up to 20 threads as well (core.preloadIndex).
const preloadMin = 500

// preloadThreads bounds the goroutines of one preload.
const preloadThreads = 16

// cleanEntries runs worktreeClean for every entry of st whose name want
// accepts (nil: all) and returns the names found clean. The first error
// wins.
func (r *Repo) cleanEntries(st *indexState, want func(*index.Entry) bool) (map[string]bool, error) {
	var list []*index.Entry
	for _, e := range st.entries {
		if want == nil || want(e) {
			list = append(list, e)
		}
	}
	clean := make(map[string]bool, len(list))
	threads := min(runtime.GOMAXPROCS(0)*2, preloadThreads, len(list)/preloadMin+1)
	if threads <= 1 {
		for _, e := range list {
			ok, err := r.worktreeClean(e, st.mtime)
			if err != nil {
				return nil, err
			}
			clean[e.Name] = ok
		}
		return clean, nil
	}
	results := make([]bool, len(list))
	errs := make([]error, threads)
	var wg sync.WaitGroup
	chunk := (len(list) + threads - 1) / threads
	for t := 0; t < threads; t++ {
		lo, hi := t*chunk, min((t+1)*chunk, len(list))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ok, err := r.worktreeClean(list[i], st.mtime)
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
	for i, e := range list {
		clean[e.Name] = results[i]
	}
	return clean, nil
}
