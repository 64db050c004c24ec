package trainer

import (
	"sync"
	"syscall"
	"time"
)

// liveTraining is a training in progress, for EndAll.
type liveTraining struct {
	pgid  int
	track *tracker
}

var (
	liveMu sync.Mutex
	live   = map[*liveTraining]struct{}{}
)

func register(pgid int, track *tracker) *liveTraining {
	lt := &liveTraining{pgid: pgid, track: track}
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
func EndAll(wait time.Duration) int {
	liveMu.Lock()
	all := make([]*liveTraining, 0, len(live))
	for lt := range live {
		all = append(all, lt)
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
