package research

import "time"

// EventKind tells what happened.
type EventKind string

const (
	EventRunStarted         EventKind = "run_started"  // Run set; Text says "started" or "resumed"
	EventProposing          EventKind = "proposing"    // Number set: the proposer is working on it
	EventExperimentStarted  EventKind = "exp_started"  // Experiment set (status running), Ideas used
	EventProgress           EventKind = "progress"     // Experiment + Progress set
	EventExperimentFinished EventKind = "exp_finished" // Experiment set (final), Best set
	EventRefused            EventKind = "refused"      // a proposal was refused before training; Text says why
	EventProgramEdited      EventKind = "program_edit" // ProgramEdit set
	EventPaused             EventKind = "paused"       // Text says why
	EventResumed            EventKind = "resumed"
	EventPlateau            EventKind = "plateau"     // K experiments without a keep; Text invites ideas
	EventNotice             EventKind = "notice"      // anything worth telling people; Text
	EventRunStopped         EventKind = "run_stopped" // Text says why
)

// Event is one thing the loop reports to its front ends.
type Event struct {
	Kind        EventKind
	Time        time.Time
	Run         Run
	Number      int
	Experiment  *Experiment
	Best        *Experiment // best experiment after this event, if any
	Progress    *Progress
	Ideas       []Idea
	ProgramEdit *ProgramEdit
	Telemetry   *Telemetry // GPU aggregates of a finished experiment, when watched
	Verdict     *Verdict   // how the judge compared a finished experiment (nil for crashes)
	Text        string
	// By is the person who caused a pause, resume or stop (a Slack user ID,
	// or "terminal"), so each front end can name them its own way.
	By string
}

// Observer receives events. It must not block for long: slow front ends
// queue (the Slack adapter writes to its outbox).
type Observer interface {
	Event(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Event calls f.
func (f ObserverFunc) Event(e Event) { f(e) }
