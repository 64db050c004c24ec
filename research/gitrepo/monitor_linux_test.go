//go:build linux

package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMonitorOverflowFallsBackToAFullCheck fills the kernel's event queue
// (more creates than /proc/sys/fs/inotify/max_queued_events) between two
// statuses: the monitor must drop what it knew and check everything again.
func TestMonitorOverflowFallsBackToAFullCheck(t *testing.T) {
	dir, mon, scan := monitorRepo(t)
	all := []int{0, 1, 2}
	sameStatus(t, "start", mon, scan, all)
	queued := 16384
	if b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events"); err == nil {
		fmt.Sscan(string(b), &queued)
	}
	if queued > 200000 {
		t.Skipf("max_queued_events is %d: too many files to write", queued)
	}
	for i := 0; i <= queued+10; i++ {
		f, err := os.Create(filepath.Join(dir, "data", "x", fmt.Sprintf("flood%06d", i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	// A change the lost events would have reported.
	writeFile(t, dir, "src/b/deep/m2.py", "b = 99\n")
	if _, err := mon.DirtyTracked(); err != nil {
		t.Fatal(err)
	}
	if mon.mon.overflows == 0 {
		t.Fatalf("no IN_Q_OVERFLOW seen after %d creates", queued+11)
	}
	if n := len(strings.Fields(git(t, dir, "ls-files"))); mon.lastChecked != n {
		t.Errorf("after the overflow DirtyTracked looked at %d tracked entries, want all %d", mon.lastChecked, n)
	}
	sameStatus(t, "after the flood", mon, scan, all)
	if !mon.mon.live() {
		t.Fatalf("the monitor stopped after an overflow (%s); it should start over", mon.mon.off)
	}
	writeFile(t, dir, "docs/d0.md", "changed\n")
	sameStatus(t, "after starting over", mon, scan, all)
}

// TestMonitorOverBudgetFallsBackToFullScans: a tree with more directories
// than the budget turns the monitor off; answers stay those of a full scan.
func TestMonitorOverBudgetFallsBackToFullScans(t *testing.T) {
	dir, mon, scan := monitorRepo(t)
	mon.watchBudget = 3
	all := []int{0, 1, 2}
	sameStatus(t, "start", mon, scan, all)
	if mon.mon.live() {
		t.Fatal("the monitor watches more directories than its budget")
	}
	if mon.mon.fd >= 0 {
		t.Error("the stopped monitor kept its inotify descriptor")
	}
	writeFile(t, dir, "src/a/m0.py", "changed\n")
	sameStatus(t, "after a change", mon, scan, all)
	if n := len(strings.Fields(git(t, dir, "ls-files"))); mon.lastChecked != n {
		t.Errorf("without the monitor DirtyTracked looked at %d entries, want all %d", mon.lastChecked, n)
	}
}

// TestSmallTreesStartNoMonitor: below monitorFrom a Repo holds no inotify
// instance; once its tree has grown past it, the next check starts one.
func TestSmallTreesStartNoMonitor(t *testing.T) {
	dir, r := researchRepo(t)
	if _, err := r.Changes(); err != nil {
		t.Fatal(err)
	}
	if r.mon != nil {
		t.Fatal("a repo of a few files started a monitor")
	}
	for i := 0; i < monitorFrom; i++ {
		writeFile(t, dir, fmt.Sprintf("data/shard%d/f%d.bin", i/100, i), "x")
	}
	for i := 0; i < 2; i++ { // the first walk learns the size, the next starts
		if _, err := r.Changes(); err != nil {
			t.Fatal(err)
		}
	}
	if !r.mon.live() {
		t.Fatalf("no monitor after the untracked walk listed %d entries", r.listed)
	}
	r.Close()
}

// TestCloseReleasesTheMonitor: Close gives the inotify descriptor back and
// the Repo keeps answering (by full scans); a Repo dropped without Close
// gives it back when collected.
func TestCloseReleasesTheMonitor(t *testing.T) {
	dir, mon, scan := monitorRepo(t)
	sameStatus(t, "start", mon, scan, []int{0, 1, 2})
	fd := mon.mon.fd
	if fd < 0 {
		t.Fatal("no monitor started")
	}
	before := monitorsOpen.Load()
	mon.Close()
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("inotify fd %d still open after Close (%v)", fd, err)
	}
	if got := monitorsOpen.Load(); got != before-1 {
		t.Errorf("monitors open = %d after Close, want %d", got, before-1)
	}
	writeFile(t, dir, "train.py", trainV2)
	sameStatus(t, "after Close", mon, scan, []int{0, 1, 2})

	dropped := func() int32 {
		r, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		r.monitorFrom = 0
		if _, err := r.Changes(); err != nil {
			t.Fatal(err)
		}
		if !r.mon.live() {
			t.Fatal("no monitor started")
		}
		return monitorsOpen.Load()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for monitorsOpen.Load() >= dropped {
		if time.Now().After(deadline) {
			t.Fatal("a dropped Repo's monitor was not released after collection")
		}
		runtime.GC()
		runtime.Gosched()
	}
}
