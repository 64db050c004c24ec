package main

import (
	"flag"

	"github.com/autoresearch/autoresearch/research/trainer"
)

// isolationFlags is --isolation: how far the trainer is kept from the
// harness (trainer.Isolation). auto picks the strongest this host allows.
type isolationFlags struct {
	value string
}

func (i *isolationFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&i.value, "isolation", "auto", "how the trainer is kept from this process: auto (the strongest the host allows), namespaces (own PID and mount namespaces, a fresh /proc), reaper (no namespaces; every descendant still ends with the experiment) or none")
}

func (i *isolationFlags) validate() error {
	switch i.value {
	case "auto", "reaper", "none":
		return nil
	case "namespaces":
		if p := trainer.Probe(); p.Mode != trainer.IsolationNamespaces {
			return usagef("--isolation namespaces is not available here: %s. %s", p.Why, p.Hint)
		}
		return nil
	default:
		return usagef("--isolation must be auto, namespaces, reaper or none, not %q", i.value)
	}
}

// mode is the trainer's Isolation ("" lets it probe).
func (i *isolationFlags) mode() trainer.Isolation {
	if i.value == "auto" || i.value == "" {
		return ""
	}
	return trainer.Isolation(i.value)
}

// describe says which isolation is in effect and how to get the strongest.
func (i *isolationFlags) describe() trainer.ProbeResult {
	p := trainer.Probe()
	if m := i.mode(); m != "" && m != p.Mode {
		hint := p.Hint
		if p.Mode == trainer.IsolationNamespaces {
			hint = "Namespaces are available here: drop --isolation."
		}
		return trainer.ProbeResult{Mode: m, Why: "--isolation " + string(m), Hint: hint}
	}
	return p
}
