package trainer

import (
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research/proctree"
)

// trackEvery is how often the processes of a running experiment are
// listed. A process that forks, calls setsid and outlives its parent is
// re-parented to the shim (or to us): it is still found at the next scan.
const trackEvery = 250 * time.Millisecond

// procKey is a process's identity: a pid alone may be reused.
type procKey struct {
	pid   int
	start uint64
}

// tracker keeps the list of every process an experiment ran (the shim or
// the shell, everything below it, the members of its process group) and,
// when path is set, a record of them on disk for a restart after kill -9.
type tracker struct {
	root, pgid int
	rootStart  uint64 // root's identity: once it is reaped its pid may be reused
	path       string
	logger     *slog.Logger

	mu    sync.Mutex
	known map[procKey]proctree.Proc
	order []procKey
}

func newTracker(root, pgid int, path string, logger *slog.Logger) *tracker {
	t := &tracker{root: root, pgid: pgid, path: path, logger: logger, known: map[procKey]proctree.Proc{}}
	if p, err := proctree.Stat(root); err == nil {
		t.rootStart = p.StartTime
	}
	return t
}

// scan adds the processes now below root or in the group, rewrites the
// record when there are new ones, and returns every known process.
func (t *tracker) scan() []proctree.Proc {
	root := t.root
	if p, err := proctree.Stat(root); err != nil || p.StartTime != t.rootStart {
		root = 0 // gone, or someone else now: the group and what we know remain
	}
	procs, err := proctree.Descendants(root, t.pgid)
	t.mu.Lock()
	defer t.mu.Unlock()
	added := false
	if err == nil {
		for _, p := range procs {
			k := procKey{p.PID, p.StartTime}
			if _, ok := t.known[k]; !ok {
				t.order = append(t.order, k)
				added = true
			}
			t.known[k] = p
		}
	}
	all := make([]proctree.Proc, 0, len(t.order))
	for _, k := range t.order {
		all = append(all, t.known[k])
	}
	if added && t.path != "" {
		if err := proctree.WriteRecord(t.path, all); err != nil {
			t.logger.Warn("recording the experiment's processes", "path", t.path, "err", err)
		}
	}
	return all
}

// run scans at once, then every trackEvery until stop is closed.
func (t *tracker) run(stop <-chan struct{}) {
	t.scan()
	tick := time.NewTicker(trackEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			t.scan()
		}
	}
}

// others are the known processes other than root (root is an exec.Cmd's
// child, waited for by its Wait).
func (t *tracker) others(all []proctree.Proc) []proctree.Proc {
	out := make([]proctree.Proc, 0, len(all))
	for _, p := range all {
		if p.PID != t.root {
			out = append(out, p)
		}
	}
	return out
}

// signal sends sig to every known process that still runs (after a fresh
// scan, so processes born since the last one are included).
func (t *tracker) signal(sig syscall.Signal) {
	proctree.SignalAll(t.others(t.scan()), sig)
}

// anyAlive reports whether a known process other than root still runs.
func (t *tracker) anyAlive() bool {
	others := t.others(t.scan())
	// Orphans re-parented to us die as our zombies: reap them as we go.
	proctree.Reap(others)
	return proctree.AnyAlive(others)
}

// forget removes the record: the caller saw every process gone.
func (t *tracker) forget() {
	if t.path != "" {
		_ = os.Remove(t.path)
	}
}

// finish removes the record once nothing of the experiment runs; a record
// of survivors stays for the next start to end.
func (t *tracker) finish() {
	if t.path == "" {
		return
	}
	if t.anyAlive() {
		t.logger.Error("processes of the experiment survived; their record stays for the next start", "path", t.path)
		return
	}
	_ = os.Remove(t.path)
}
