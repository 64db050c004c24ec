package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2 // bad input: nothing was changed
)

// IO bundles the streams a subcommand uses, so tests run it in-process.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

type subcommand struct {
	name    string
	summary string
	run     func(args []string, io IO) error
}

func subcommands() []subcommand {
	return []subcommand{
		{"run", "run the research loop in the terminal", runCmd},
		{"demo", "run the loop on a bundled CPU-only example (no GPU, Slack or API key)", demoCmd},
		{"results", "print a run's experiments (table, --tsv or --json)", resultsCmd},
		{"doctor", "check everything a run needs (repo, data, GPU, Slack, LLM, disk) and say what to fix", doctorCmd},
		{"bot", "run the Slack bot with the loop inside it (idles until /autoresearch start TAG)", botCmd},
		{"digest", "print the digest of the last hours (--hours 24; --chart FILE writes the PNG)", digestCmd},
		{"slack-manifest", "print the Slack app manifest to create the bot's app from", slackManifestCmd},
		{"bench", "measure GPU occupancy, multi-slot throughput, harness gap and memory on a simulated trainer and LLM", benchCmd},
	}
}

// Main runs the command line and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	streams := IO{In: stdin, Out: stdout, Err: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range subcommands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], streams)
		return report(err, stderr)
	}
	fmt.Fprintf(stderr, "autoresearch: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// report prints err and maps it to an exit status: refusals of bad input
// (which changed nothing) exit 2.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "autoresearch: %v\n", err)
	var ue *usageError
	if research.IsInputError(err) || errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

// usageError is a bad flag or argument.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("autoresearch: an autonomous ML research loop you steer from Slack or the terminal\n\nUsage:\n  autoresearch COMMAND [flags]\n\nCommands:\n")
	for _, c := range subcommands() {
		fmt.Fprintf(&b, "  %-15s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun `autoresearch COMMAND -h` for a command's flags.\n")
	io.WriteString(w, b.String())
}

// newFlagSet makes a flag set that reports errors instead of exiting.
func newFlagSet(name string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet("autoresearch "+name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors and refusing
// stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags go before it? see `%s -h`)", fs.Arg(0), fs.Name())
	}
	return nil
}
