// Package command is the language of chat commands: the verbs people type
// in Slack or at the terminal, their usage and help text, and the pure
// parser that turns a message into a Command. Carrying a command out is
// the bot's dispatcher's job; nothing here looks at or changes any state.
package command

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/autoresearch/autoresearch/research"
)

// Name identifies a chat command. The value is the verb people type
// (two words for "program append").
type Name string

const (
	Start         Name = "start"
	Stop          Name = "stop"
	Pause         Name = "pause"
	Resume        Name = "resume"
	Status        Name = "status"
	Idea          Name = "idea"
	Ideas         Name = "ideas"
	Unpin         Name = "unpin"
	Program       Name = "program" // show program.md / open the editor
	ProgramAppend Name = "program append"
	Results       Name = "results"
	Best          Name = "best"
	Show          Name = "show"
	Log           Name = "log"
	Retry         Name = "retry"
	Digest        Name = "digest"
	Review        Name = "review"
	Help          Name = "help"
)

// DefaultName is the slash command the bot answers to unless
// configured otherwise ("/autoresearch status").
const DefaultName = "autoresearch"

// DefaultResults is how many experiments `results` lists when no N is given.
const DefaultResults = 20

// ResultsAll is Command.N for "results all".
const ResultsAll = -1

// Command is a parsed chat command. Only the fields its Name uses are set.
type Command struct {
	Name Name
	Tag  string // start
	From string // start --from REF ("" = HEAD)
	Now  bool   // stop now
	On   bool   // review on|off
	Text string // idea, program append: the rest of the message, as typed
	ID   int64  // unpin: idea ID
	// N is the experiment number (show, log, retry) or how many results to
	// list: 0 = not given (front end's default), ResultsAll = every one.
	N int
}

// ChangesState reports whether the command steers the loop or its inputs,
// so front ends can restrict it to admins. `program` counts: in Slack it
// opens the editor whose submission replaces program.md, and refusing
// before someone types is kinder than refusing after.
func (c Command) ChangesState() bool {
	switch c.Name {
	case Start, Stop, Pause, Resume, Idea, Unpin,
		Program, ProgramAppend, Retry, Review:
		return true
	}
	return false
}

// UsageError explains why a command could not be parsed. Front ends show
// Error() as is: the problem, then how the command is used.
type UsageError struct {
	Command Name // "" when the verb itself is unknown
	Message string
	Usage   string // the usage line(s) for Command, or a pointer to help
}

func (e *UsageError) Error() string {
	if e.Usage == "" {
		return e.Message
	}
	return e.Message + "\nusage: " + e.Usage
}

// commandSpec is the single table the parser, the suggestions and the help
// text are built from, so they cannot drift apart.
type commandSpec struct {
	name  Name
	usage string
	help  string
}

var commandSpecs = []commandSpec{
	{Start, "start TAG [--from REF]", "start a run on branch autoresearch/TAG (from REF, default HEAD)"},
	{Stop, "stop [now]", "stop after the running experiment, or at once with 'now'"},
	{Pause, "pause", "pause the loop after the running experiment"},
	{Resume, "resume", "resume a paused loop"},
	{Status, "status", "what the loop is doing, best result, counts"},
	{Idea, "idea TEXT", "pin an idea for the next proposals"},
	{Ideas, "ideas", "list the open ideas"},
	{Unpin, "unpin ID", "drop an open idea"},
	{Program, "program", "show program.md (in Slack: open the editor)"},
	{ProgramAppend, "program append TEXT", "append TEXT to program.md (committed between experiments)"},
	{Results, "results [N|all]", "table of the last N experiments (default 20)"},
	{Best, "best", "the best experiment so far, with its diff"},
	{Show, "show N", "experiment N: figures, reason and diff"},
	{Log, "log N", "tail of experiment N's training log"},
	{Retry, "retry N", "try experiment N's change again"},
	{Digest, "digest", "summary of the run so far"},
	{Review, "review on|off", "hold each proposal for a person's approval (Slack buttons), or stop doing so"},
	{Help, "help", "this list"},
}

// Names lists every command, in the order help shows them.
func Names() []Name {
	names := make([]Name, len(commandSpecs))
	for i, s := range commandSpecs {
		names[i] = s.name
	}
	return names
}

func usageOf(name Name) string {
	for _, s := range commandSpecs {
		if s.name == name {
			return s.usage
		}
	}
	return ""
}

// HelpText lists every command with its usage, one per line.
func HelpText() string {
	width := 0
	for _, s := range commandSpecs {
		width = max(width, len(s.usage))
	}
	var b strings.Builder
	b.WriteString("commands:\n")
	for _, s := range commandSpecs {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, s.usage, s.help)
	}
	return b.String()
}

// Parser parses commands for a bot answering to a given slash-command name.
type Parser struct {
	// Name is the slash command without '/' (DefaultName when empty).
	// A leading "/Name" or "Name" is optional in the text.
	Name string
}

// Parse parses text with the default command name.
func Parse(text string) (Command, error) {
	return Parser{}.Parse(text)
}

// Parse turns one chat message or terminal line into a Command. It is pure:
// it neither looks at nor changes any state. An empty message asks for help.
func (p Parser) Parse(text string) (Command, error) {
	name := p.Name
	if name == "" {
		name = DefaultName
	}
	name = strings.TrimPrefix(name, "/")

	verb, rest := nextWord(text)
	lv := strings.ToLower(verb)
	if lv == "/"+strings.ToLower(name) || lv == strings.ToLower(name) {
		verb, rest = nextWord(rest)
		lv = strings.ToLower(verb)
	}
	if lv == "" {
		return Command{Name: Help}, nil
	}

	switch Name(lv) {
	case Start:
		return parseStart(rest)
	case Stop:
		return parseStop(rest)
	case Idea:
		t := strings.TrimSpace(rest)
		if t == "" {
			return Command{}, usageErr(Idea, "an idea needs some text, e.g. \"idea try a cosine LR schedule\"")
		}
		return Command{Name: Idea, Text: t}, nil
	case Program:
		return parseProgram(rest)
	case Unpin:
		id, err := oneNumber(Unpin, rest, "the ID of the idea to unpin (see 'ideas')")
		if err != nil {
			return Command{}, err
		}
		return Command{Name: Unpin, ID: int64(id)}, nil
	case Results:
		return parseResults(rest)
	case Review:
		switch args := strings.Fields(strings.ToLower(rest)); {
		case len(args) == 1 && args[0] == "on":
			return Command{Name: Review, On: true}, nil
		case len(args) == 1 && args[0] == "off":
			return Command{Name: Review}, nil
		}
		return Command{}, usageErr(Review, fmt.Sprintf("review takes \"on\" or \"off\" (got %q)", strings.TrimSpace(rest)))
	case Show, Log, Retry:
		n, err := oneNumber(Name(lv), rest, "an experiment number (see 'results')")
		if err != nil {
			return Command{}, err
		}
		return Command{Name: Name(lv), N: n}, nil
	case Pause, Resume, Status, Ideas, Best, Digest, Help:
		if extra, _ := nextWord(rest); extra != "" {
			return Command{}, usageErr(Name(lv), fmt.Sprintf("%s takes no arguments (got %q)", lv, strings.TrimSpace(rest)))
		}
		return Command{Name: Name(lv)}, nil
	case "?":
		return Command{Name: Help}, nil
	}
	return Command{}, unknownCommand(verb)
}

func parseStart(rest string) (Command, error) {
	c := Command{Name: Start}
	args := strings.Fields(rest)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.EqualFold(a, "--from"):
			if i+1 >= len(args) {
				return Command{}, usageErr(Start, missingRef)
			}
			i++
			c.From = args[i]
		case len(a) >= 7 && strings.EqualFold(a[:7], "--from="):
			if c.From = a[7:]; c.From == "" {
				return Command{}, usageErr(Start, missingRef)
			}
		case strings.HasPrefix(a, "-"):
			return Command{}, usageErr(Start, fmt.Sprintf("unknown option %q; start only knows --from", a))
		case c.Tag != "":
			return Command{}, usageErr(Start, fmt.Sprintf("start takes one tag; got %q and %q", c.Tag, a))
		default:
			c.Tag = a
		}
	}
	if c.Tag == "" {
		return Command{}, usageErr(Start, "start needs a run tag, e.g. \"start mar20\" (the branch becomes autoresearch/mar20)")
	}
	if err := research.ValidateTag(c.Tag); err != nil {
		return Command{}, usageErr(Start, err.Error())
	}
	// A ref starting with '-' would be read by git as an option.
	if strings.HasPrefix(c.From, "-") {
		return Command{}, usageErr(Start, fmt.Sprintf("%q is not a git ref: refs cannot start with '-'", c.From))
	}
	return c, nil
}

const missingRef = "--from needs a git ref (branch, tag or commit), e.g. \"--from master\""

func parseStop(rest string) (Command, error) {
	args := strings.Fields(rest)
	switch {
	case len(args) == 0:
		return Command{Name: Stop}, nil
	case len(args) == 1 && strings.EqualFold(args[0], "now"):
		return Command{Name: Stop, Now: true}, nil
	}
	return Command{}, usageErr(Stop, fmt.Sprintf("stop takes only \"now\" (got %q): \"stop\" finishes the running experiment first, \"stop now\" ends it at once", strings.Join(args, " ")))
}

func parseProgram(rest string) (Command, error) {
	sub, text := nextWord(rest)
	switch strings.ToLower(sub) {
	case "", "edit", "show":
		if extra, _ := nextWord(text); extra != "" {
			return Command{}, usageErr(Program, fmt.Sprintf("program %s takes no more arguments (got %q); to add text use \"program append TEXT\"", strings.ToLower(sub), strings.TrimSpace(text)))
		}
		return Command{Name: Program}, nil
	case "append":
		t := strings.TrimSpace(text)
		if t == "" {
			return Command{}, usageErr(ProgramAppend, "program append needs the text to add to program.md")
		}
		return Command{Name: ProgramAppend, Text: t}, nil
	}
	return Command{}, &UsageError{
		Command: Program,
		Message: fmt.Sprintf("unknown program subcommand %q", sub),
		Usage:   usageOf(Program) + "\n       " + usageOf(ProgramAppend),
	}
}

func parseResults(rest string) (Command, error) {
	args := strings.Fields(rest)
	switch {
	case len(args) == 0:
		return Command{Name: Results}, nil
	case len(args) == 1 && strings.EqualFold(args[0], "all"):
		return Command{Name: Results, N: ResultsAll}, nil
	}
	n, err := oneNumber(Results, rest, "how many experiments to list, or \"all\"")
	if err != nil {
		return Command{}, err
	}
	return Command{Name: Results, N: n}, nil
}

// oneNumber parses exactly one positive whole number, "#12" allowed since
// experiments are shown that way.
func oneNumber(cmd Name, rest, what string) (int, error) {
	args := strings.Fields(rest)
	if len(args) == 0 {
		return 0, usageErr(cmd, fmt.Sprintf("%s needs %s", cmd, what))
	}
	if len(args) > 1 {
		return 0, usageErr(cmd, fmt.Sprintf("%s takes one number; got %q", cmd, strings.Join(args, " ")))
	}
	s := strings.TrimPrefix(args[0], "#")
	n, err := strconv.Atoi(s)
	switch {
	case err != nil && isDigits(s):
		return 0, usageErr(cmd, fmt.Sprintf("%q is too large", args[0]))
	case err != nil:
		return 0, usageErr(cmd, fmt.Sprintf("%q is not a number; %s takes %s", args[0], cmd, what))
	case n <= 0:
		return 0, usageErr(cmd, fmt.Sprintf("%q: the number must be 1 or more", args[0]))
	}
	return n, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func usageErr(cmd Name, msg string) *UsageError {
	return &UsageError{Command: cmd, Message: msg, Usage: usageOf(cmd)}
}

func unknownCommand(verb string) *UsageError {
	msg := fmt.Sprintf("unknown command %q", verb)
	if s := closestVerb(strings.ToLower(verb)); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return &UsageError{Message: msg, Usage: "type \"help\" for the list of commands"}
}

// closestVerb suggests the verb nearest to a mistyped one: a unique prefix
// ("stat" -> status), else the closest by edit distance when it is close
// enough to be a typo rather than a different word.
func closestVerb(v string) string {
	var prefixed []string
	for _, s := range commandSpecs {
		first, _, _ := strings.Cut(string(s.name), " ")
		if len(v) >= 2 && strings.HasPrefix(first, v) && first != v {
			prefixed = append(prefixed, first)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestD := "", 3
	for _, s := range commandSpecs {
		first, _, _ := strings.Cut(string(s.name), " ")
		limit := 2
		if len(first) <= 4 {
			limit = 1
		}
		if d := editDistance(v, first); d <= limit && d < bestD {
			best, bestD = first, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and adjacent transpositions ("stauts") cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// nextWord splits off the first whitespace-separated word, keeping the rest
// as typed (idea text keeps its line breaks and spacing).
func nextWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// ResultsLimit is how many experiments `results [N]` asks for: N, the
// default when none was given, 0 (all) for `results all`.
func (c Command) ResultsLimit() int {
	switch c.N {
	case 0:
		return DefaultResults
	case ResultsAll:
		return 0
	}
	return c.N
}
