package research

import (
	"fmt"
	"sync"
)

// SlotSpec describes one place experiments train: a local GPU, a CPU, a
// SLURM job slot. Each slot trains one experiment at a time in its own
// working copy.
type SlotSpec struct {
	Name    string   // "gpu0", "main", "slurm1"; shown in posts and results.tsv
	Trainer Trainer  // nil: the Manager's Trainer
	Env     []string // extra trainer environment, e.g. CUDA_VISIBLE_DEVICES=1
	GPU     int      // GPU index for preflight and telemetry; -1: none
}

// slot is a SlotSpec at work.
type slot struct {
	SlotSpec
	repo Repo
	main bool // trains in the main worktree, on the run's branch itself

	// The untracked-files guard's watch of the working tree (untracked.go);
	// used by the slot's own goroutine only.
	watch   *treeWatch
	noWatch bool // none could be made: walk instead

	mu       sync.Mutex
	current  *Experiment
	progress *Progress
}

// SlotStatus is one slot's part of a Status.
type SlotStatus struct {
	Name     string
	Current  *Experiment
	Progress *Progress
}

func (sl *slot) status() SlotStatus {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	st := SlotStatus{Name: sl.Name}
	if sl.current != nil {
		c := *sl.current
		st.Current = &c
	}
	if sl.progress != nil {
		p := *sl.progress
		st.Progress = &p
	}
	return st
}

// set records what the slot trains; it keeps copies, because the caller
// goes on filling in its experiment while status readers look.
func (sl *slot) set(e *Experiment, p *Progress) {
	var ce *Experiment
	if e != nil {
		c := *e
		ce = &c
	}
	var cp *Progress
	if p != nil {
		c := *p
		cp = &c
	}
	sl.mu.Lock()
	sl.current, sl.progress = ce, cp
	sl.mu.Unlock()
}

// buildSlots opens the working copies: one slot trains in the main worktree
// (upstream's layout); several get a linked worktree each, and the main
// worktree only follows the best commit.
func (m *Manager) buildSlots(best string) ([]*slot, error) {
	specs := m.Config.Slots
	if len(specs) == 0 {
		specs = []SlotSpec{{Name: m.Config.GPU, Env: m.Config.TrainEnv, GPU: m.Config.GPUIndex}}
		if specs[0].Name == "" {
			specs[0].Name = "main"
		}
	}
	var slots []*slot
	for _, spec := range specs {
		if spec.Trainer == nil {
			spec.Trainer = m.Trainer
		}
		if len(specs) == 1 {
			slots = append(slots, &slot{SlotSpec: spec, repo: m.Repo, main: true})
			continue
		}
		if m.Worktree == nil {
			return nil, fmt.Errorf("several slots need Manager.Worktree to make working copies")
		}
		repo, err := m.Worktree(spec.Name, best)
		if err != nil {
			return nil, fmt.Errorf("working copy for %s: %w", spec.Name, err)
		}
		slots = append(slots, &slot{SlotSpec: spec, repo: repo})
	}
	return slots, nil
}

// proposalRepo is where the proposer edits: the main worktree when nothing
// trains meanwhile, else a worktree of its own so that it can work on the
// next change while the GPUs train.
func (m *Manager) proposalRepo(best string, slots []*slot) (Repo, error) {
	if !m.Config.Pipeline && len(slots) == 1 && slots[0].main {
		return m.Repo, nil
	}
	if m.Worktree == nil {
		return nil, fmt.Errorf("pipelining needs Manager.Worktree to make a working copy for the proposer")
	}
	return m.Worktree("propose", best)
}
