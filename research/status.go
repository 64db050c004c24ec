package research

import "time"

// Phase is what the loop is doing right now.
type Phase string

const (
	PhaseIdle      Phase = "idle"      // no active run
	PhaseProposing Phase = "proposing" // the proposer is preparing the next change
	PhaseTraining  Phase = "training"  // an experiment is training
	PhasePaused    Phase = "paused"    // the run is paused (by a person or by the harness)
	PhaseStopping  Phase = "stopping"  // stop requested; finishing the running experiment
)

// Counts tallies a run's experiments by outcome.
type Counts struct {
	Keep, Discard, Crash, Running int
	// Repeats are baseline repeats run for the noise estimate: stored as
	// discards, but they tried nothing, so they are counted apart.
	Repeats int
}

// Total is the number of experiments counted.
func (c Counts) Total() int { return c.Keep + c.Discard + c.Crash + c.Running + c.Repeats }

// Status is a snapshot of the loop for `status` answers.
type Status struct {
	Run         *Run // nil when no run was ever started
	Active      bool // a run is being worked on
	Phase       Phase
	PauseReason string
	Current     *Experiment // training now (status running)
	Progress    *Progress   // latest progress of Current
	Proposing   int         // number being proposed, when PhaseProposing
	// History is what the run's experiments say (baseline, best, noise,
	// counts); Best, Baseline and Counts are its fields, for short.
	History  History
	Best     *Experiment
	Baseline *Experiment
	Counts   Counts
	Usage    Usage   // LLM tokens spent by the run
	CostUSD  float64 // what Usage cost, when the model's price is known (0 otherwise)
	// LastTelemetry is the GPU record of the last finished experiment.
	LastTelemetry *Telemetry
	OpenIdeas     []Idea
	Slots         []SlotStatus // what each slot trains (several GPUs)
	Since         time.Time    // when the run (re)started in this process
}

// StartRequest asks for a new run (or to resume one).
type StartRequest struct {
	Tag    string
	From   string // git ref to branch from; "" = HEAD
	By     string // who asked ("terminal" or a Slack user ID)
	Resume bool   // continue an existing run of this tag
	// KeepPaused leaves a paused run paused when it is resumed (the bot
	// coming back after a restart); otherwise resuming a paused run is a
	// person asking it to go on, e.g. `run --resume` without a terminal.
	KeepPaused bool
}
