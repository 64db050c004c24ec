// Package proctree finds, records and ends every process an experiment
// started, including those that left its process group (setsid, double
// fork). It reads Linux's /proc; elsewhere it finds nothing and says so.
//
// A pid alone is not an identity: after a process exits the kernel may hand
// its pid to an unrelated process. Every Proc carries its start time (field
// 22 of /proc/PID/stat, in clock ticks since boot), and nothing here signals
// a pid whose start time no longer matches.
package proctree

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// ProcRoot is where the proc filesystem is mounted.
const ProcRoot = "/proc"

// ErrNoProc: /proc cannot be read (not Linux, or not mounted).
var ErrNoProc = errors.New("proctree: /proc cannot be read")

// Proc is one process as /proc/PID/stat shows it.
type Proc struct {
	PID       int
	PPID      int
	PGID      int
	SID       int
	State     byte   // R, S, D, Z, T, ...
	StartTime uint64 // clock ticks after boot; with PID, the identity
}

// Dead reports whether the process has exited (a zombie waits only to be
// reaped: it holds no memory, no GPU and no file).
func (p Proc) Dead() bool { return p.State == 'Z' || p.State == 'X' || p.State == 'x' }

// Stat reads /proc/PID/stat. comm, the second field, may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func Stat(pid int) (Proc, error) {
	b, err := os.ReadFile(ProcRoot + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Proc{}, err
	}
	return parseStat(pid, b)
}

func parseStat(pid int, b []byte) (Proc, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Proc{}, fmt.Errorf("proctree: /proc/%d/stat: no comm", pid)
	}
	// After ')': state(3) ppid(4) pgrp(5) session(6) ... starttime(22).
	f := bytes.Fields(b[i+1:])
	const startField = 22 - 3
	if len(f) <= startField || len(f[0]) != 1 {
		return Proc{}, fmt.Errorf("proctree: /proc/%d/stat: %d fields", pid, len(f))
	}
	p := Proc{PID: pid, State: f[0][0]}
	var err error
	ints := []*int{&p.PPID, &p.PGID, &p.SID}
	for k, dst := range ints {
		if *dst, err = strconv.Atoi(string(f[1+k])); err != nil {
			return Proc{}, fmt.Errorf("proctree: /proc/%d/stat: %w", pid, err)
		}
	}
	if p.StartTime, err = strconv.ParseUint(string(f[startField]), 10, 64); err != nil {
		return Proc{}, fmt.Errorf("proctree: /proc/%d/stat: start time: %w", pid, err)
	}
	return p, nil
}

// All returns every process /proc shows. Processes that exit while it reads
// are left out.
func All() ([]Proc, error) {
	d, err := os.Open(ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoProc, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoProc, err)
	}
	procs := make([]Proc, 0, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		if p, err := Stat(pid); err == nil {
			procs = append(procs, p)
		}
	}
	return procs, nil
}

// Descendants returns the processes below root (children, their children,
// ...) and the members of process group pgid (0: none), root itself
// included when it is alive. Processes that left the group with setsid are
// still found through their parent links, and orphans are found as long as
// their new parent (a subreaper) is below root.
func Descendants(root, pgid int) ([]Proc, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	return descendantsOf(all, root, pgid), nil
}

func descendantsOf(all []Proc, root, pgid int) []Proc {
	children := make(map[int][]Proc, len(all))
	in := map[int]bool{}
	var out []Proc
	var queue []Proc
	for _, p := range all {
		children[p.PPID] = append(children[p.PPID], p)
		if p.PID == root || (pgid > 0 && p.PGID == pgid) {
			in[p.PID] = true
			queue = append(queue, p)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		for _, c := range children[p.PID] {
			if !in[c.PID] {
				in[c.PID] = true
				queue = append(queue, c)
			}
		}
	}
	return out
}

// Alive reports whether p still runs: same pid, same start time, not a
// zombie.
func Alive(p Proc) bool {
	now, err := Stat(p.PID)
	return err == nil && now.StartTime == p.StartTime && !now.Dead()
}

// Signal sends sig to p if p is still the same process (see Alive). The
// check and the kill are two steps; the window between them is a few
// microseconds, and a pid is reused only after its previous owner was
// reaped, which for our own descendants is done by us or our shim.
func Signal(p Proc, sig syscall.Signal) error {
	now, err := Stat(p.PID)
	if err != nil || now.StartTime != p.StartTime {
		return syscall.ESRCH
	}
	return syscall.Kill(p.PID, sig)
}
