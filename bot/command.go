package bot

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/autoresearch/autoresearch/research"
)

// CommandName identifies a chat command. The value is the verb people type
// (two words for "program append").
type CommandName string

const (
	CmdStart         CommandName = "start"
	CmdStop          CommandName = "stop"
	CmdPause         CommandName = "pause"
	CmdResume        CommandName = "resume"
	CmdStatus        CommandName = "status"
	CmdIdea          CommandName = "idea"
	CmdIdeas         CommandName = "ideas"
	CmdUnpin         CommandName = "unpin"
	CmdProgram       CommandName = "program" // show program.md / open the editor
	CmdProgramAppend CommandName = "program append"
	CmdResults       CommandName = "results"
	CmdBest          CommandName = "best"
	CmdShow          CommandName = "show"
	CmdLog           CommandName = "log"
	CmdRetry         CommandName = "retry"
	CmdDigest        CommandName = "digest"
	CmdReview        CommandName = "review"
	CmdHelp          CommandName = "help"
)

// DefaultCommandName is the slash command the bot answers to unless
// configured otherwise ("/autoresearch status").
const DefaultCommandName = "autoresearch"

// ResultsAll is Command.N for "results all".
const ResultsAll = -1

// Command is a parsed chat command. Only the fields its Name uses are set.
type Command struct {
	Name CommandName
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
	case CmdStart, CmdStop, CmdPause, CmdResume, CmdIdea, CmdUnpin,
		CmdProgram, CmdProgramAppend, CmdRetry, CmdReview:
		return true
	}
	return false
}

// UsageError explains why a command could not be parsed. Front ends show
// Error() as is: the problem, then how the command is used.
type UsageError struct {
	Command CommandName // "" when the verb itself is unknown
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
	name  CommandName
	usage string
	help  string
}

var commandSpecs = []commandSpec{
	{CmdStart, "start TAG [--from REF]", "start a run on branch autoresearch/TAG (from REF, default HEAD)"},
	{CmdStop, "stop [now]", "stop after the running experiment, or at once with 'now'"},
	{CmdPause, "pause", "pause the loop after the running experiment"},
	{CmdResume, "resume", "resume a paused loop"},
	{CmdStatus, "status", "what the loop is doing, best result, counts"},
	{CmdIdea, "idea TEXT", "pin an idea for the next proposals"},
	{CmdIdeas, "ideas", "list the open ideas"},
	{CmdUnpin, "unpin ID", "drop an open idea"},
	{CmdProgram, "program", "show program.md (in Slack: open the editor)"},
	{CmdProgramAppend, "program append TEXT", "append TEXT to program.md (committed between experiments)"},
	{CmdResults, "results [N|all]", "table of the last N experiments (default 20)"},
	{CmdBest, "best", "the best experiment so far, with its diff"},
	{CmdShow, "show N", "experiment N: figures, reason and diff"},
	{CmdLog, "log N", "tail of experiment N's training log"},
	{CmdRetry, "retry N", "try experiment N's change again"},
	{CmdDigest, "digest", "summary of the run so far"},
	{CmdReview, "review on|off", "hold each proposal for a person's approval (Slack buttons), or stop doing so"},
	{CmdHelp, "help", "this list"},
}

func usageOf(name CommandName) string {
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
	// Name is the slash command without '/' (DefaultCommandName when empty).
	// A leading "/Name" or "Name" is optional in the text.
	Name string
}

// ParseCommand parses text with the default command name.
func ParseCommand(text string) (Command, error) {
	return Parser{}.Parse(text)
}

// Parse turns one chat message or terminal line into a Command. It is pure:
// it neither looks at nor changes any state. An empty message asks for help.
func (p Parser) Parse(text string) (Command, error) {
	name := p.Name
	if name == "" {
		name = DefaultCommandName
	}
	name = strings.TrimPrefix(name, "/")

	verb, rest := nextWord(text)
	lv := strings.ToLower(verb)
	if lv == "/"+strings.ToLower(name) || lv == strings.ToLower(name) {
		verb, rest = nextWord(rest)
		lv = strings.ToLower(verb)
	}
	if lv == "" {
		return Command{Name: CmdHelp}, nil
	}

	switch CommandName(lv) {
	case CmdStart:
		return parseStart(rest)
	case CmdStop:
		return parseStop(rest)
	case CmdIdea:
		t := strings.TrimSpace(rest)
		if t == "" {
			return Command{}, usageErr(CmdIdea, "an idea needs some text, e.g. \"idea try a cosine LR schedule\"")
		}
		return Command{Name: CmdIdea, Text: t}, nil
	case CmdProgram:
		return parseProgram(rest)
	case CmdUnpin:
		id, err := oneNumber(CmdUnpin, rest, "the ID of the idea to unpin (see 'ideas')")
		if err != nil {
			return Command{}, err
		}
		return Command{Name: CmdUnpin, ID: int64(id)}, nil
	case CmdResults:
		return parseResults(rest)
	case CmdReview:
		switch args := strings.Fields(strings.ToLower(rest)); {
		case len(args) == 1 && args[0] == "on":
			return Command{Name: CmdReview, On: true}, nil
		case len(args) == 1 && args[0] == "off":
			return Command{Name: CmdReview}, nil
		}
		return Command{}, usageErr(CmdReview, fmt.Sprintf("review takes \"on\" or \"off\" (got %q)", strings.TrimSpace(rest)))
	case CmdShow, CmdLog, CmdRetry:
		n, err := oneNumber(CommandName(lv), rest, "an experiment number (see 'results')")
		if err != nil {
			return Command{}, err
		}
		return Command{Name: CommandName(lv), N: n}, nil
	case CmdPause, CmdResume, CmdStatus, CmdIdeas, CmdBest, CmdDigest, CmdHelp:
		if extra, _ := nextWord(rest); extra != "" {
			return Command{}, usageErr(CommandName(lv), fmt.Sprintf("%s takes no arguments (got %q)", lv, strings.TrimSpace(rest)))
		}
		return Command{Name: CommandName(lv)}, nil
	case "?":
		return Command{Name: CmdHelp}, nil
	}
	return Command{}, unknownCommand(verb)
}

func parseStart(rest string) (Command, error) {
	c := Command{Name: CmdStart}
	args := strings.Fields(rest)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.EqualFold(a, "--from"):
			if i+1 >= len(args) {
				return Command{}, usageErr(CmdStart, missingRef)
			}
			i++
			c.From = args[i]
		case len(a) >= 7 && strings.EqualFold(a[:7], "--from="):
			if c.From = a[7:]; c.From == "" {
				return Command{}, usageErr(CmdStart, missingRef)
			}
		case strings.HasPrefix(a, "-"):
			return Command{}, usageErr(CmdStart, fmt.Sprintf("unknown option %q; start only knows --from", a))
		case c.Tag != "":
			return Command{}, usageErr(CmdStart, fmt.Sprintf("start takes one tag; got %q and %q", c.Tag, a))
		default:
			c.Tag = a
		}
	}
	if c.Tag == "" {
		return Command{}, usageErr(CmdStart, "start needs a run tag, e.g. \"start mar20\" (the branch becomes autoresearch/mar20)")
	}
	if err := research.ValidateTag(c.Tag); err != nil {
		return Command{}, usageErr(CmdStart, err.Error())
	}
	// A ref starting with '-' would be read by git as an option.
	if strings.HasPrefix(c.From, "-") {
		return Command{}, usageErr(CmdStart, fmt.Sprintf("%q is not a git ref: refs cannot start with '-'", c.From))
	}
	return c, nil
}

const missingRef = "--from needs a git ref (branch, tag or commit), e.g. \"--from master\""

func parseStop(rest string) (Command, error) {
	args := strings.Fields(rest)
	switch {
	case len(args) == 0:
		return Command{Name: CmdStop}, nil
	case len(args) == 1 && strings.EqualFold(args[0], "now"):
		return Command{Name: CmdStop, Now: true}, nil
	}
	return Command{}, usageErr(CmdStop, fmt.Sprintf("stop takes only \"now\" (got %q): \"stop\" finishes the running experiment first, \"stop now\" ends it at once", strings.Join(args, " ")))
}

func parseProgram(rest string) (Command, error) {
	sub, text := nextWord(rest)
	switch strings.ToLower(sub) {
	case "", "edit", "show":
		if extra, _ := nextWord(text); extra != "" {
			return Command{}, usageErr(CmdProgram, fmt.Sprintf("program %s takes no more arguments (got %q); to add text use \"program append TEXT\"", strings.ToLower(sub), strings.TrimSpace(text)))
		}
		return Command{Name: CmdProgram}, nil
	case "append":
		t := strings.TrimSpace(text)
		if t == "" {
			return Command{}, usageErr(CmdProgramAppend, "program append needs the text to add to program.md")
		}
		return Command{Name: CmdProgramAppend, Text: t}, nil
	}
	return Command{}, &UsageError{
		Command: CmdProgram,
		Message: fmt.Sprintf("unknown program subcommand %q", sub),
		Usage:   usageOf(CmdProgram) + "\n       " + usageOf(CmdProgramAppend),
	}
}

func parseResults(rest string) (Command, error) {
	args := strings.Fields(rest)
	switch {
	case len(args) == 0:
		return Command{Name: CmdResults}, nil
	case len(args) == 1 && strings.EqualFold(args[0], "all"):
		return Command{Name: CmdResults, N: ResultsAll}, nil
	}
	n, err := oneNumber(CmdResults, rest, "how many experiments to list, or \"all\"")
	if err != nil {
		return Command{}, err
	}
	return Command{Name: CmdResults, N: n}, nil
}

// oneNumber parses exactly one positive whole number, "#12" allowed since
// experiments are shown that way.
func oneNumber(cmd CommandName, rest, what string) (int, error) {
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

func usageErr(cmd CommandName, msg string) *UsageError {
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
