//go:build linux

package proctree

import "golang.org/x/sys/unix"

func setSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// SetNotDumpable makes the calling process non-dumpable
// (PR_SET_DUMPABLE 0): /proc/PID/environ, mem, maps and the like become
// root's, so a process of the same user (a training script) gets EACCES
// reading them, and it cannot ptrace us. Core dumps are off too.
func SetNotDumpable() error {
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
