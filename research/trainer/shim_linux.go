//go:build linux

package trainer

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// shimAttr is how the harness starts the shim: always in a process group
// of its own; for namespaces also in new PID and mount namespaces, and in a
// new user namespace unless we are root, who needs none. There our uid and
// gid are mapped to 0: an unprivileged user may map only its own ids, and
// only root of the namespace keeps the capabilities it needs to mount /proc
// across the exec of the shim. The command runs as that root, without
// CAP_SYS_ADMIN and CAP_SYS_PTRACE (dropPowers) and with no power outside
// the namespace; its files are ours on disk.
func shimAttr(mode Isolation) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if mode != IsolationNamespaces {
		return attr
	}
	attr.Cloneflags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNS
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	return attr
}

// mountFreshProc replaces /proc, in our new mount namespace, by one of our
// new PID namespace: it shows only the experiment's processes. Mounts are
// made private first so nothing propagates back to the host.
func mountFreshProc() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the mounts private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting a fresh /proc: %w", err)
	}
	return nil
}

// dropPowers removes, for the command and everything it starts, the
// capabilities that would let a root trainer read a non-dumpable harness
// (CAP_SYS_PTRACE) or undo its fresh /proc and namespaces (CAP_SYS_ADMIN).
// They leave the bounding set, so no exec can get them back. Without
// CAP_SETPCAP (not root) there is nothing to drop: an unprivileged command
// has neither.
func dropPowers() {
	for _, c := range []uintptr{unix.CAP_SYS_PTRACE, unix.CAP_SYS_ADMIN} {
		_ = unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0)
	}
}

// dumpableMu serialises startCmd's window in which we are dumpable.
var dumpableMu sync.Mutex

// startCmd starts cmd. A new user namespace needs its uid_map written by
// us through /proc/CHILD/uid_map, and the child, until it execs, shares our
// non-dumpable flag, which makes that file root's: so for the few
// milliseconds of the start we are dumpable again. Only trainers in
// namespaces start this way, and they cannot see us.
func startCmd(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil || cmd.SysProcAttr.Cloneflags&syscall.CLONE_NEWUSER == 0 {
		return cmd.Start()
	}
	dumpableMu.Lock()
	defer dumpableMu.Unlock()
	was, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil || was == 1 {
		return cmd.Start()
	}
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0)
	defer unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(was), 0, 0, 0)
	return cmd.Start()
}
