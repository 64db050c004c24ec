package slack

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// Verbosity is how much the bot says at the top level of the channel,
// where every message is a phone notification for somebody.
type Verbosity string

const (
	// VerbosityQuiet (the default): one top-level message per experiment
	// and per run event that matters (start, stop, pause, resume, plateau,
	// digest). A command's announcement and the loop's confirmation are one
	// message; program diffs, baseline repeats, confirmation reruns and the
	// loop's notices go in threads.
	VerbosityQuiet Verbosity = "quiet"
	// VerbosityNormal is quiet, except that the loop's notices (noise
	// floor, budget warnings, refused program edits) are top-level.
	VerbosityNormal Verbosity = "normal"
	// VerbosityAll posts everything at the top level, each command's own
	// announcement included, as the bot did before it learnt to be quiet.
	VerbosityAll Verbosity = "all"
)

// ParseVerbosity reads --channel-verbosity.
func ParseVerbosity(s string) (Verbosity, error) {
	switch v := Verbosity(strings.ToLower(strings.TrimSpace(s))); v {
	case "":
		return VerbosityQuiet, nil
	case VerbosityQuiet, VerbosityNormal, VerbosityAll:
		return v, nil
	}
	return "", fmt.Errorf("channel verbosity %q: want quiet (the default), normal or all", s)
}

// announcesCommands: commands post their own announcement besides the
// loop's message (only "all"; otherwise the person gets an ephemeral
// answer and the channel hears it once, from the loop).
func (v Verbosity) announcesCommands() bool { return v == VerbosityAll }

// threadsDetails: diffs, repeats and confirmations go in threads.
func (v Verbosity) threadsDetails() bool { return v != VerbosityAll }

// threadsNotices: the loop's notices go in the run header's thread.
func (v Verbosity) threadsNotices() bool { return v == VerbosityQuiet || v == "" }

// confirmsNumber reads the experiment a confirmation rerun confirms from
// its description ("confirm #4: ...").
var confirmsNumber = regexp.MustCompile(`^confirm #(\d+):`)

// parentKey is the message an experiment belongs under when details are
// threaded: a baseline repeat under the run's first baseline, a
// confirmation under the experiment it confirms; "" for the others.
func parentKey(e research.Experiment, baseline string) string {
	switch research.RoleOf(e) {
	case research.RoleBaselineRepeat:
		return baseline
	case research.RoleConfirmation:
		m := confirmsNumber.FindStringSubmatch(e.Description)
		if m == nil {
			return ""
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n >= e.Number {
			return ""
		}
		return expKey(research.Experiment{RunID: e.RunID, Number: n})
	}
	return ""
}
