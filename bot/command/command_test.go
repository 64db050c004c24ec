package command

import (
	"errors"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestParseCommandOK(t *testing.T) {
	cases := []struct {
		in   string
		want Command
	}{
		{"status", Command{Name: Status}},
		{"/autoresearch status", Command{Name: Status}},
		{"autoresearch status", Command{Name: Status}},
		{"/AutoResearch   STATUS  ", Command{Name: Status}},
		{"  \tStatus\n", Command{Name: Status}},
		{"", Command{Name: Help}},
		{"/autoresearch", Command{Name: Help}},
		{"   ", Command{Name: Help}},
		{"help", Command{Name: Help}},
		{"?", Command{Name: Help}},
		{"start mar20", Command{Name: Start, Tag: "mar20"}},
		{"START mar20", Command{Name: Start, Tag: "mar20"}},
		{"start mar20 --from master", Command{Name: Start, Tag: "mar20", From: "master"}},
		{"start --from abc1234 mar20", Command{Name: Start, Tag: "mar20", From: "abc1234"}},
		{"start mar20 --from=autoresearch/mar19", Command{Name: Start, Tag: "mar20", From: "autoresearch/mar19"}},
		{"start mar20 --FROM Main", Command{Name: Start, Tag: "mar20", From: "Main"}},
		{"start a", Command{Name: Start, Tag: "a"}},
		{"start 2024.03_20-b", Command{Name: Start, Tag: "2024.03_20-b"}},
		{"stop", Command{Name: Stop}},
		{"stop now", Command{Name: Stop, Now: true}},
		{"stop NOW", Command{Name: Stop, Now: true}},
		{"pause", Command{Name: Pause}},
		{"resume", Command{Name: Resume}},
		{"idea try a cosine LR schedule", Command{Name: Idea, Text: "try a cosine LR schedule"}},
		{"IDEA   Keep  CASE and  spacing  ", Command{Name: Idea, Text: "Keep  CASE and  spacing"}},
		{"/autoresearch idea line one\nline two", Command{Name: Idea, Text: "line one\nline two"}},
		{"idea\nstarts on the next line", Command{Name: Idea, Text: "starts on the next line"}},
		{"ideas", Command{Name: Ideas}},
		{"unpin 7", Command{Name: Unpin, ID: 7}},
		{"unpin #7", Command{Name: Unpin, ID: 7}},
		{"program", Command{Name: Program}},
		{"program edit", Command{Name: Program}},
		{"program show", Command{Name: Program}},
		{"program append Prefer small changes.", Command{Name: ProgramAppend, Text: "Prefer small changes."}},
		{"Program APPEND  x", Command{Name: ProgramAppend, Text: "x"}},
		{"results", Command{Name: Results}},
		{"results 5", Command{Name: Results, N: 5}},
		{"results all", Command{Name: Results, N: ResultsAll}},
		{"best", Command{Name: Best}},
		{"show 12", Command{Name: Show, N: 12}},
		{"show #12", Command{Name: Show, N: 12}},
		{"log 3", Command{Name: Log, N: 3}},
		{"retry 4", Command{Name: Retry, N: 4}},
		{"review on", Command{Name: Review, On: true}},
		{"Review OFF", Command{Name: Review}},
		{"digest", Command{Name: Digest}},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): unexpected error %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	cases := []struct {
		in      string
		cmd     Name
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
		{"start", Start, `start needs a run tag, e.g. "start mar20" (the branch becomes autoresearch/mar20)`},
		{"start --from master", Start, `start needs a run tag, e.g. "start mar20" (the branch becomes autoresearch/mar20)`},
		{"start Mar20", Start, `tag "Mar20" is invalid; ` + research.TagRule + ` (try "mar20")`},
		{"start mar 20", Start, `start takes one tag; got "mar" and "20"`},
		{"start mar20 --force", Start, `unknown option "--force"; start only knows --from`},
		{"start mar20 --from", Start, missingRef},
		{"start mar20 --from=", Start, missingRef},
		{"start mar20 --from --x", Start, `"--x" is not a git ref: refs cannot start with '-'`},
		{"start a..b", Start, `tag "a..b" contains "..", which git does not allow in branch names`},
		{"stop later", Stop, `stop takes only "now" (got "later"): "stop" finishes the running experiment first, "stop now" ends it at once`},
		{"stop now please", Stop, `stop takes only "now" (got "now please"): "stop" finishes the running experiment first, "stop now" ends it at once`},
		{"idea", Idea, `an idea needs some text, e.g. "idea try a cosine LR schedule"`},
		{"idea   \n ", Idea, `an idea needs some text, e.g. "idea try a cosine LR schedule"`},
		{"results abc", Results, `"abc" is not a number; results takes how many experiments to list, or "all"`},
		{"results 0", Results, `"0": the number must be 1 or more`},
		{"results -3", Results, `"-3": the number must be 1 or more`},
		{"results 99999999999999999999", Results, `"99999999999999999999" is too large`},
		{"show", Show, `show needs an experiment number (see 'results')`},
		{"show twelve", Show, `"twelve" is not a number; show takes an experiment number (see 'results')`},
		{"log 1 2", Log, `log takes one number; got "1 2"`},
		{"retry x", Retry, `"x" is not a number; retry takes an experiment number (see 'results')`},
		{"review maybe", Review, `review takes "on" or "off" (got "maybe")`},
		{"unpin", Unpin, `unpin needs the ID of the idea to unpin (see 'ideas')`},
		{"unpin 1.5", Unpin, `"1.5" is not a number; unpin takes the ID of the idea to unpin (see 'ideas')`},
		{"status please", Status, `status takes no arguments (got "please")`},
		{"pause now", Pause, `pause takes no arguments (got "now")`},
		{"program append", ProgramAppend, `program append needs the text to add to program.md`},
		{"program delete", Program, `unknown program subcommand "delete"`},
		{"program edit now", Program, `program edit takes no more arguments (got "now"); to add text use "program append TEXT"`},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Parse(%q) = %+v, %v; want a *UsageError", c.in, got, err)
			continue
		}
		if ue.Message != c.message {
			t.Errorf("Parse(%q) message\n got %q\nwant %q", c.in, ue.Message, c.message)
		}
		if ue.Command != c.cmd {
			t.Errorf("Parse(%q) command = %q, want %q", c.in, ue.Command, c.cmd)
		}
		if ue.Usage == "" {
			t.Errorf("Parse(%q): no usage line", c.in)
		}
		if got != (Command{}) {
			t.Errorf("Parse(%q) returned %+v with an error; want the zero Command", c.in, got)
		}
	}
}

func TestUsageErrorText(t *testing.T) {
	_, err := Parse("stop later")
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
		if err != nil || got.Name != Status {
			t.Errorf("Parse(%q) = %+v, %v; want status", in, got, err)
		}
	}
	// The default name is just an unknown verb to a bot with another name.
	if _, err := p.Parse("/autoresearch status"); err == nil {
		t.Errorf("Parse(/autoresearch status) with name ar: want an error")
	}
}

func TestChangesState(t *testing.T) {
	changing := map[Name]bool{
		Start: true, Stop: true, Pause: true, Resume: true,
		Idea: true, Unpin: true, Program: true, ProgramAppend: true, Retry: true, Review: true,
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
	examples := map[Name]string{
		Start: "start t", Idea: "idea x", Unpin: "unpin 1", ProgramAppend: "program append x",
		Show: "show 1", Log: "log 1", Retry: "retry 1", Review: "review on",
	}
	for _, s := range commandSpecs {
		in, ok := examples[s.name]
		if !ok {
			in = string(s.name)
		}
		if c, err := Parse(in); err != nil || c.Name != s.name {
			t.Errorf("Parse(%q) = %+v, %v; want %s", in, c, err, s.name)
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
