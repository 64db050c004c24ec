// Command autoresearch runs an autonomous ML research loop on a GPU host and
// lets people steer it from Slack or the terminal.
package main

import (
	"fmt"
	"os"

	"github.com/autoresearch/autoresearch/research/trainer"
)

func main() {
	// First of all: this binary is also the trainer's shim (its own
	// namespaces, a subreaper), started again by the harness.
	trainer.RunShimIfRequested()
	// The harness holds the Slack and LLM tokens: a training script of the
	// same user must not read them from /proc/PID/environ or our memory.
	if err := trainer.ProtectHarness(); err != nil {
		fmt.Fprintf(os.Stderr, "autoresearch: cannot make this process non-dumpable (%v); a training script could read its secrets through /proc\n", err)
	}
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
