//go:build linux

package trainer

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// shimAttr is how the harness starts the shim: always in a process group
// of its own; for namespaces also in new PID and mount namespaces, and in a
// new user namespace (our uid and gid mapped to themselves) unless we are
// root, who needs none.
func shimAttr(mode Isolation) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if mode != IsolationNamespaces {
		return attr
	}
	attr.Cloneflags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNS
	if os.Geteuid() != 0 {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
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
