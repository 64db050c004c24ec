//go:build cgo

package gpu

// The checks before an experiment: is the GPU there, free enough and not
// used by a foreign process. Apart from nvml.go (opening NVML) and
// nvml_sample.go (telemetry) because telling our processes from foreign
// ones is a subject of its own.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/autoresearch/autoresearch/research"
)

// Preflight checks GPU index before an experiment: present, enough free
// memory, no foreign compute process (a warning only with AllowShared).
func (n *NVML) Preflight(ctx context.Context, index int) error {
	dev, err := n.device(index)
	if err != nil {
		return err
	}
	foreign, err := n.foreignBeforeStart(ctx, dev)
	if err != nil {
		return &research.PreflightError{GPU: index, Reason: err.Error()}
	}
	if n.opts.MinFreeMB > 0 && n.supported("memory") {
		mem, ret := dev.GetMemoryInfo()
		switch {
		case ret == nvml.SUCCESS:
			free := int(mem.Free / mib)
			if free < n.opts.MinFreeMB {
				reason := fmt.Sprintf("only %d MiB free (want %d)", free, n.opts.MinFreeMB)
				if len(foreign) > 0 {
					reason += "; in use by " + strings.Join(foreign, ", ")
				}
				return &research.PreflightError{GPU: index, Reason: reason}
			}
		case n.ok("memory", ret):
		default:
			if !isUnsupported(ret) {
				return &research.PreflightError{GPU: index, Reason: "cannot read its memory: " + ret.Error()}
			}
		}
	}
	if len(foreign) > 0 {
		if n.opts.AllowShared {
			return &research.PreflightError{GPU: index, WarnOnly: true,
				Reason: fmt.Sprintf("shared with %s (--allow-shared-gpu: going ahead; the result is marked shared)", strings.Join(foreign, ", "))}
		}
		return &research.PreflightError{GPU: index,
			Reason: fmt.Sprintf("foreign compute process %s is using it; a shared GPU makes results incomparable (stop it, or pass --allow-shared-gpu)", strings.Join(foreign, ", "))}
	}
	return nil
}

// foreignBeforeStart lists the compute processes on dev that are not ours.
// Our trainer has not started yet, so anything there that we did not see as
// ours while watching is foreign. A process still there after Settle counts.
func (n *NVML) foreignBeforeStart(ctx context.Context, dev nvml.Device) ([]string, error) {
	first, err := n.processes(dev, false)
	if err != nil || len(first) == 0 {
		return nil, err
	}
	settle := n.opts.Settle
	if settle == 0 {
		settle = 2 * time.Second
	}
	if settle < 0 {
		return describeAll(first, n.procs), nil
	}
	t := time.NewTimer(settle)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	second, err := n.processes(dev, false)
	if err != nil {
		return nil, err
	}
	var still []int
	for _, pid := range second {
		for _, p := range first {
			if p == pid {
				still = append(still, pid)
				break
			}
		}
	}
	return describeAll(still, n.procs), nil
}

func describeAll(pids []int, p procTable) []string {
	var out []string
	for _, pid := range pids {
		out = append(out, p.describe(pid))
	}
	return out
}

// processes returns the pids of the foreign compute processes on dev.
//
// Ours are this process and its descendants (the trainer runs in its own
// process group but is still our child). A pid that /proc does not show lives
// in another pid namespace (NVML reports host pids inside a container) or has
// just exited: before our trainer starts it is foreign unless we saw it as
// ours earlier; while we train, it is foreign when one of ours is visible or
// when there is more than one of them (our trainer is one process).
func (n *NVML) processes(dev nvml.Device, watching bool) ([]int, error) {
	if !n.supported("processes") {
		return nil, nil
	}
	list, ret := dev.GetComputeRunningProcesses()
	if ret != nvml.SUCCESS {
		if n.ok("processes", ret) || isUnsupported(ret) {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot list its compute processes: %s", ret.Error())
	}
	var foreign, unknown []int
	seen := map[int]bool{}
	oursNow := false
	for _, p := range list {
		pid := int(p.Pid)
		if pid == 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		ours, visible := n.procs.owner(pid)
		n.mu.Lock()
		if ours {
			n.ours[pid] = true
		}
		known := n.ours[pid]
		n.mu.Unlock()
		switch {
		case ours:
			oursNow = true
		case !visible && known:
			// our trainer that just exited
		case visible:
			foreign = append(foreign, pid)
		default:
			unknown = append(unknown, pid)
		}
	}
	if !watching || oursNow || len(unknown) > 1 {
		foreign = append(foreign, unknown...)
	}
	return foreign, nil
}
