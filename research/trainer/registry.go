package trainer

import (
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// liveTraining is a training in progress, for EndAll.
type liveTraining struct {
	pgid  int
	track *tracker
	dir   string // the working copy it trains in
}

var (
	liveMu sync.Mutex
	live   = map[*liveTraining]struct{}{}
)

func register(pgid int, track *tracker, dir string) *liveTraining {
	lt := &liveTraining{pgid: pgid, track: track, dir: filepath.Clean(dir)}
	liveMu.Lock()
	live[lt] = struct{}{}
	liveMu.Unlock()
	return lt
}

func unregister(lt *liveTraining) {
	liveMu.Lock()
	delete(live, lt)
	liveMu.Unlock()
}

// EndAll kills, with SIGKILL, every process of every training this process
// still runs, and waits up to wait for them to be gone. It is the last
// thing main does before exiting after a shutdown that ran out of time: no
// process of ours may outlive us, and a trainer that ignores SIGTERM would.
// It returns how many trainings it had to kill.
func EndAll(wait time.Duration) int { return EndUnder(nil, wait) }

// EndUnder is EndAll for the trainings whose working copy lies under one
// of roots (a run's repository and state dir): one loop's last sweep must
// not end another's, where several share a process (the CLI's tests run
// loops side by side). No roots: every training.
func EndUnder(roots []string, wait time.Duration) int {
	liveMu.Lock()
	all := make([]*liveTraining, 0, len(live))
	for lt := range live {
		if len(roots) == 0 || under(lt.dir, roots) {
			all = append(all, lt)
		}
	}
	liveMu.Unlock()
	for _, lt := range all {
		signalTree(lt.pgid, lt.track, syscall.SIGKILL)
	}
	waitUntil(func() bool {
		for _, lt := range all {
			if groupAlive(lt.pgid) || lt.track.anyAlive() {
				return false
			}
		}
		return true
	}, wait)
	return len(all)
}

// under tells whether dir is one of roots or lies below one.
func under(dir string, roots []string) bool {
	for _, r := range roots {
		r = filepath.Clean(r)
		if dir == r || strings.HasPrefix(dir, r+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
