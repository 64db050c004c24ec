package main

import (
	"errors"
	"os"
	"strings"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/statelock"
)

// ownerRefusal turns another process's hold on the state dir into bad input
// (exit status 2: nothing was changed) that names the holder.
func ownerRefusal(err error) error {
	var he *statelock.HeldError
	if errors.As(err, &he) {
		return &research.InputError{Msg: he.Error(), Err: err}
	}
	return err
}

// probeOwner refuses at once, changing nothing, when another process owns
// the repo's state dir. It runs before anything else looks at the repo, so
// the refusal names the owner instead of a symptom of its work (a dirty
// train.py, a branch that exists).
func probeOwner(f *loopFlags) error {
	dir, err := f.absRepo()
	if err != nil {
		return err
	}
	return ownerRefusal(statelock.Probe(f.config(dir).StateDir))
}

// takeOwnership makes this process the repo's one owner for its life: every
// command that changes the repo (run, bot, demo) holds it. A process killed
// with -9 loses it with its life, so a restart is never blocked.
func takeOwnership(f *loopFlags, tag string) (*statelock.Lock, error) {
	dir, err := f.absRepo()
	if err != nil {
		return nil, err
	}
	l, err := statelock.Acquire(f.config(dir).StateDir, statelock.Owner{Command: commandLine(), Tag: tag})
	return l, ownerRefusal(err)
}

func commandLine() string {
	return strings.Join(append([]string{"autoresearch"}, os.Args[1:]...), " ")
}
