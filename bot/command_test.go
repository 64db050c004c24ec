package bot

import (
	"errors"
	"github.com/autoresearch/autoresearch/research"
	"strings"
	"testing"
)

func TestParseCommandOK(t *testing.T) {
	cases := []struct {
		in   string
		want Command
	}{
		{"status", Command{Name: CmdStatus}},
		{"/autoresearch status", Command{Name: CmdStatus}},
		{"autoresearch status", Command{Name: CmdStatus}},
		{"/AutoResearch   STATUS  ", Command{Name: CmdStatus}},
		{"  \tStatus\n", Command{Name: CmdStatus}},
		{"", Command{Name: CmdHelp}},
		{"/autoresearch", Command{Name: CmdHelp}},
		{"   ", Command{Name: CmdHelp}},
		{"help", Command{Name: CmdHelp}},
		{"?", Command{Name: CmdHelp}},
		{"start mar20", Command{Name: CmdStart, Tag: "mar20"}},
		{"START mar20", Command{Name: CmdStart, Tag: "mar20"}},
		{"start mar20 --from master", Command{Name: CmdStart, Tag: "mar20", From: "master"}},
		{"start --from abc1234 mar20", Command{Name: CmdStart, Tag: "mar20", From: "abc1234"}},
		{"start mar20 --from=autoresearch/mar19", Command{Name: CmdStart, Tag: "mar20", From: "autoresearch/mar19"}},
		{"start mar20 --FROM Main", Command{Name: CmdStart, Tag: "mar20", From: "Main"}},
		{"start a", Command{Name: CmdStart, Tag: "a"}},
		{"start 2024.03_20-b", Command{Name: CmdStart, Tag: "2024.03_20-b"}},
		{"stop", Command{Name: CmdStop}},
		{"stop now", Command{Name: CmdStop, Now: true}},
		{"stop NOW", Command{Name: CmdStop, Now: true}},
		{"pause", Command{Name: CmdPause}},
		{"resume", Command{Name: CmdResume}},
		{"idea try a cosine LR schedule", Command{Name: CmdIdea, Text: "try a cosine LR schedule"}},
		{"IDEA   Keep  CASE and  spacing  ", Command{Name: CmdIdea, Text: "Keep  CASE and  spacing"}},
		{"/autoresearch idea line one\nline two", Command{Name: CmdIdea, Text: "line one\nline two"}},
		{"idea\nstarts on the next line", Command{Name: CmdIdea, Text: "starts on the next line"}},
		{"ideas", Command{Name: CmdIdeas}},
		{"unpin 7", Command{Name: CmdUnpin, ID: 7}},
		{"unpin #7", Command{Name: CmdUnpin, ID: 7}},
		{"program", Command{Name: CmdProgram}},
		{"program edit", Command{Name: CmdProgram}},
		{"program show", Command{Name: CmdProgram}},
		{"program append Prefer small changes.", Command{Name: CmdProgramAppend, Text: "Prefer small changes."}},
		{"Program APPEND  x", Command{Name: CmdProgramAppend, Text: "x"}},
		{"results", Command{Name: CmdResults}},
		{"results 5", Command{Name: CmdResults, N: 5}},
		{"results all", Command{Name: CmdResults, N: ResultsAll}},
		{"best", Command{Name: CmdBest}},
		{"show 12", Command{Name: CmdShow, N: 12}},
		{"show #12", Command{Name: CmdShow, N: 12}},
		{"log 3", Command{Name: CmdLog, N: 3}},
		{"retry 4", Command{Name: CmdRetry, N: 4}},
		{"review on", Command{Name: CmdReview, On: true}},
		{"Review OFF", Command{Name: CmdReview}},
		{"digest", Command{Name: CmdDigest}},
	}
	for _, c := range cases {
		got, err := ParseCommand(c.in)
		if err != nil {
			t.Errorf("ParseCommand(%q): unexpected error %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseCommand(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	cases := []struct {
		in      string
		cmd     CommandName
		message string // exact UsageError.Message
	}{
		{"stauts", "", `unknown command "stauts"; did you mean "status"?`},
		{"strat mar20", "", `unknown command "strat"; did you mean "start"?`},
		{"stat", "", `unknown command "stat"; did you mean "status"?`},
		{"ide foo", "", `unknown command "ide"; did you mean "idea"?`},
		{"resul", "", `unknown command "resul"; did you mean "results"?`},
		{"re", "", `unknown command "re"`}, // results, resume, retry: ambiguous
		{"launch the rockets", "", `unknown command "launch"`},
		{"/other status", "", `unknown command "/other"`},
		{"start", CmdStart, `start needs a run tag, e.g. "start mar20" (the branch becomes autoresearch/mar20)`},
		{"start --from master", CmdStart, `start needs a run tag, e.g. "start mar20" (the branch becomes autoresearch/mar20)`},
		{"start Mar20", CmdStart, `tag "Mar20" is invalid; ` + research.TagRule + ` (try "mar20")`},
		{"start mar 20", CmdStart, `start takes one tag; got "mar" and "20"`},
		{"start mar20 --force", CmdStart, `unknown option "--force"; start only knows --from`},
		{"start mar20 --from", CmdStart, missingRef},
		{"start mar20 --from=", CmdStart, missingRef},
		{"start mar20 --from --x", CmdStart, `"--x" is not a git ref: refs cannot start with '-'`},
		{"start a..b", CmdStart, `tag "a..b" contains "..", which git does not allow in branch names`},
		{"stop later", CmdStop, `stop takes only "now" (got "later"): "stop" finishes the running experiment first, "stop now" ends it at once`},
		{"stop now please", CmdStop, `stop takes only "now" (got "now please"): "stop" finishes the running experiment first, "stop now" ends it at once`},
		{"idea", CmdIdea, `an idea needs some text, e.g. "idea try a cosine LR schedule"`},
		{"idea   \n ", CmdIdea, `an idea needs some text, e.g. "idea try a cosine LR schedule"`},
		{"results abc", CmdResults, `"abc" is not a number; results takes how many experiments to list, or "all"`},
		{"results 0", CmdResults, `"0": the number must be 1 or more`},
		{"results -3", CmdResults, `"-3": the number must be 1 or more`},
		{"results 99999999999999999999", CmdResults, `"99999999999999999999" is too large`},
		{"show", CmdShow, `show needs an experiment number (see 'results')`},
		{"show twelve", CmdShow, `"twelve" is not a number; show takes an experiment number (see 'results')`},
		{"log 1 2", CmdLog, `log takes one number; got "1 2"`},
		{"retry x", CmdRetry, `"x" is not a number; retry takes an experiment number (see 'results')`},
		{"review maybe", CmdReview, `review takes "on" or "off" (got "maybe")`},
		{"unpin", CmdUnpin, `unpin needs the ID of the idea to unpin (see 'ideas')`},
		{"unpin 1.5", CmdUnpin, `"1.5" is not a number; unpin takes the ID of the idea to unpin (see 'ideas')`},
		{"status please", CmdStatus, `status takes no arguments (got "please")`},
		{"pause now", CmdPause, `pause takes no arguments (got "now")`},
		{"program append", CmdProgramAppend, `program append needs the text to add to program.md`},
		{"program delete", CmdProgram, `unknown program subcommand "delete"`},
		{"program edit now", CmdProgram, `program edit takes no more arguments (got "now"); to add text use "program append TEXT"`},
	}
	for _, c := range cases {
		got, err := ParseCommand(c.in)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("ParseCommand(%q) = %+v, %v; want a *UsageError", c.in, got, err)
			continue
		}
		if ue.Message != c.message {
			t.Errorf("ParseCommand(%q) message\n got %q\nwant %q", c.in, ue.Message, c.message)
		}
		if ue.Command != c.cmd {
			t.Errorf("ParseCommand(%q) command = %q, want %q", c.in, ue.Command, c.cmd)
		}
		if ue.Usage == "" {
			t.Errorf("ParseCommand(%q): no usage line", c.in)
		}
		if got != (Command{}) {
			t.Errorf("ParseCommand(%q) returned %+v with an error; want the zero Command", c.in, got)
		}
	}
}

func TestUsageErrorText(t *testing.T) {
	_, err := ParseCommand("stop later")
	want := `stop takes only "now" (got "later"): "stop" finishes the running experiment first, "stop now" ends it at once` +
		"\nusage: stop [now]"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestParserCustomName(t *testing.T) {
	p := Parser{Name: "/ar"}
	for _, in := range []string{"/ar status", "ar status", "status", "/AR status"} {
		got, err := p.Parse(in)
		if err != nil || got.Name != CmdStatus {
			t.Errorf("Parse(%q) = %+v, %v; want status", in, got, err)
		}
	}
	// The default name is just an unknown verb to a bot with another name.
	if _, err := p.Parse("/autoresearch status"); err == nil {
		t.Errorf("Parse(/autoresearch status) with name ar: want an error")
	}
}

func TestChangesState(t *testing.T) {
	changing := map[CommandName]bool{
		CmdStart: true, CmdStop: true, CmdPause: true, CmdResume: true,
		CmdIdea: true, CmdUnpin: true, CmdProgram: true, CmdProgramAppend: true, CmdRetry: true, CmdReview: true,
	}
	for _, s := range commandSpecs {
		if got := (Command{Name: s.name}).ChangesState(); got != changing[s.name] {
			t.Errorf("%s.ChangesState() = %v, want %v", s.name, got, changing[s.name])
		}
	}
}

func TestHelpTextListsEveryCommand(t *testing.T) {
	h := HelpText()
	for _, s := range commandSpecs {
		if !strings.Contains(h, s.usage+" ") {
			t.Errorf("help lacks %q", s.usage)
		}
	}
	// Every documented verb must parse (given arguments where it needs them).
	examples := map[CommandName]string{
		CmdStart: "start t", CmdIdea: "idea x", CmdUnpin: "unpin 1", CmdProgramAppend: "program append x",
		CmdShow: "show 1", CmdLog: "log 1", CmdRetry: "retry 1", CmdReview: "review on",
	}
	for _, s := range commandSpecs {
		in, ok := examples[s.name]
		if !ok {
			in = string(s.name)
		}
		if c, err := ParseCommand(in); err != nil || c.Name != s.name {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %s", in, c, err, s.name)
		}
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"stauts", "status", 1}, {"sttus", "status", 1},
		{"kitten", "sitting", 3}, {"", "log", 3},
	}
	for _, c := range cases {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
