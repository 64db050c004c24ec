//go:build !linux

package trainer

import (
	"errors"
	"os/exec"
	"syscall"
)

// shimAttr: without Linux there are no namespaces (nil), only a process
// group.
func shimAttr(mode Isolation) *syscall.SysProcAttr {
	if mode == IsolationNamespaces {
		return nil
	}
	return &syscall.SysProcAttr{Setpgid: true}
}

func mountFreshProc() error { return errors.New("namespaces need Linux") }

func dropPowers() {}

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }
