package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gitrepo"
)

// slotFlags choose where experiments train and whether proposals overlap
// with training.
type slotFlags struct {
	gpus     string
	pipeline bool
}

func (s *slotFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.gpus, "gpus", "", "train on several GPUs at once, one worker each: a list like 0,1,2,3, or all")
	fs.BoolVar(&s.pipeline, "pipeline", true, "prepare the next proposal while an experiment trains (false: strictly one after the other)")
}

// parseGPUs turns --gpus into GPU indexes; count is the number of GPUs the
// host has (for `all`; 0 when unknown).
func parseGPUs(spec string, count int) ([]int, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	if spec == "all" {
		if count == 0 {
			return nil, &research.InputError{Msg: "--gpus all: no GPUs found through NVML (is the driver there? `autoresearch doctor` says more); list them instead, e.g. --gpus 0,1"}
		}
		out := make([]int, count)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, part := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 0 {
			return nil, usagef("--gpus %q: want GPU indexes like 0,1,2,3 or `all`", spec)
		}
		if seen[n] {
			return nil, usagef("--gpus %q lists GPU %d twice", spec, n)
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// slotSpecs makes one slot per GPU, each pinned with CUDA_VISIBLE_DEVICES.
func slotSpecs(gpus []int) []research.SlotSpec {
	if len(gpus) < 2 {
		return nil
	}
	var specs []research.SlotSpec
	for _, g := range gpus {
		specs = append(specs, research.SlotSpec{
			Name: fmt.Sprintf("gpu%d", g), GPU: g,
			Env: []string{"CUDA_DEVICE_ORDER=PCI_BUS_ID", fmt.Sprintf("CUDA_VISIBLE_DEVICES=%d", g)},
		})
	}
	return specs
}

// worktrees makes per-slot working copies under STATE_DIR/worktrees, linked
// to the repository so their commits are its commits. The repo's .venv is
// shared through a symlink, so `uv run` finds the same environment.
func worktrees(root, stateDir string) func(name, commit string) (research.Repo, error) {
	return func(name, commit string) (research.Repo, error) {
		dir := filepath.Join(research.Config{StateDir: stateDir}.WorktreesDir(), name)
		repo, err := gitrepo.AddWorktree(root, dir, commit)
		if err != nil {
			return nil, err
		}
		venv := filepath.Join(root, ".venv")
		if _, err := os.Stat(venv); err == nil {
			link := filepath.Join(dir, ".venv")
			// A link made before the repo was moved or copied names the
			// old place: point it here again (only our own symlink).
			if target, err := os.Readlink(link); err == nil && target != venv {
				if err := os.Remove(link); err != nil {
					return nil, err
				}
			}
			if _, err := os.Lstat(link); os.IsNotExist(err) {
				if err := os.Symlink(venv, link); err != nil {
					return nil, err
				}
			}
		}
		return repo, nil
	}
}
