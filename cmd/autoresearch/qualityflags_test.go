package main

import (
	"flag"
	"testing"
)

// TestLoopFlagsZeroMeansNone: the counts and thresholds whose 0 means none
// or never on the command line reach the Config as explicit zeros, and
// their defaults as the documented defaults.
func TestLoopFlagsZeroMeansNone(t *testing.T) {
	t.Parallel()
	config := func(args ...string) (fix, repeats, plateau int, sigma, implSigma, implGain, lo, hi float64) {
		var f loopFlags
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(append([]string{"--proposer", "sweep"}, args...)); err != nil {
			t.Fatal(err)
		}
		if err := f.validate(); err != nil {
			t.Fatal(err)
		}
		c := f.config(t.TempDir())
		return *c.FixAttempts, *c.BaselineRepeats, *c.PlateauAfter, *c.ConfirmSigma, *c.ImplausibleSigma, *c.ImplausibleGain, *c.PlausibleMin, *c.PlausibleMax
	}
	fix, repeats, plateau, sigma, implSigma, implGain, lo, hi := config()
	if fix != 2 || repeats != 2 || plateau != 15 || sigma != 2 || implSigma != 25 || implGain != 0.02 || lo != 0.1 || hi != 20 {
		t.Errorf("defaults: fix %d, repeats %d, plateau %d, confirm σ %v, implausible %vσ %v, range %v..%v",
			fix, repeats, plateau, sigma, implSigma, implGain, lo, hi)
	}
	fix, repeats, plateau, sigma, implSigma, implGain, lo, hi = config("--fix-attempts", "0", "--baseline-repeats", "0", "--plateau-after", "0",
		"--confirm-sigma", "0", "--implausible-sigma", "0", "--implausible-gain", "0", "--plausible-bpb", "0.5..3")
	if fix != 0 || repeats != 0 || plateau != 0 || sigma != 0 || implSigma != 0 || implGain != 0 || lo != 0.5 || hi != 3 {
		t.Errorf("zeros: fix %d, repeats %d, plateau %d, confirm σ %v, implausible %vσ %v, range %v..%v",
			fix, repeats, plateau, sigma, implSigma, implGain, lo, hi)
	}
}
