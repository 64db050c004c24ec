package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/bot/digest"
)

// digestCmd prints the digest of the last N hours: the headline, then each
// thread message; --chart writes the progress chart PNG.
func digestCmd(args []string, streams IO) error {
	fs := newFlagSet("digest", streams)
	repo := fs.String("repo", ".", "the research repository")
	stateDir := fs.String("state-dir", "", "the state dir (default REPO/.autoresearch)")
	hours := fs.Float64("hours", 24, "how many hours back the digest covers")
	chart := fs.String("chart", "", "write the progress chart (PNG) to FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *hours <= 0 || *hours > 24*366 {
		return usagef("--hours must be more than 0 (and at most a year), not %g", *hours)
	}
	db, err := openExistingStore(*repo, *stateDir)
	if err != nil {
		return err
	}
	defer db.Close()
	now := time.Now()
	sched := &digest.Scheduler{Records: db, Location: time.Local}
	d, err := sched.Build(context.Background(), now.Add(-time.Duration(*hours*float64(time.Hour))), now)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(d.Text() + "\n")
	for _, t := range d.ThreadTexts(nil) {
		b.WriteString("\n" + t + "\n")
	}
	// Slack's escapes of &, < and > read badly in a terminal.
	plain := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(b.String())
	if _, err := fmt.Fprint(streams.Out, plain); err != nil {
		return err
	}
	if *chart == "" {
		return nil
	}
	if len(d.Chart) == 0 {
		return fmt.Errorf("no chart: no experiment finished in the last %g hours (%s not written)", *hours, *chart)
	}
	if err := os.WriteFile(*chart, d.Chart, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(streams.Err, "chart written to %s\n", *chart)
	return nil
}
