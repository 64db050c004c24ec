package trainer

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// pollInterval is how often we look whether a process group is gone.
const pollInterval = 20 * time.Millisecond

// signalGroup sends sig to every process in the group. ESRCH (nobody left)
// is not an error worth reporting: the caller only wants them gone.
func signalGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}

// groupAlive reports whether any process of group pgid is still running.
//
// kill(-pgid, 0) alone is not enough: members that died but were not reaped
// (zombies) still count for it, and orphans are reparented to PID 1, which in
// a container is often not an init that reaps. A zombie holds no GPU memory
// and no pipe, so on Linux we look in /proc and count only live members.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	live, ok := liveGroupMembers(pgid)
	if !ok {
		return true // no /proc to ask: trust kill
	}
	return live
}

// liveGroupMembers scans /proc for a non-zombie process in group pgid. ok is
// false when /proc cannot be read.
func liveGroupMembers(pgid int) (live, ok bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false, false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, group, ok := procStat(pid)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			return true, true
		}
	}
	return false, true
}

// procStat reads the state letter and process group of pid from
// /proc/PID/stat: "pid (comm) state ppid pgrp ...". comm may contain spaces
// and parentheses, so fields are counted from the last ')'.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 3 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(fields[2]))
	if err != nil {
		return 0, 0, false
	}
	return fields[0][0], pgrp, true
}

// waitUntil polls cond until it holds or d has passed; it reports cond's
// last answer.
func waitUntil(cond func() bool, d time.Duration) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if cond() {
				return true
			}
		case <-deadline.C:
			return cond()
		}
	}
}
