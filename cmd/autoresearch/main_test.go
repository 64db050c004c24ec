package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// TestMain lets tests run this binary as the real command line in a
// subprocess (for kill -9 and signal tests) by re-executing the test binary.
func TestMain(m *testing.M) {
	trainer.RunShimIfRequested()
	if os.Getenv("AUTORESEARCH_TEST_MAIN") == "1" {
		_ = trainer.ProtectHarness()
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	// The CLIs these tests start inherit the PATH, and with it the
	// interpreter without a version manager's shim.
	researchtest.PreferRealPython()
	os.Exit(m.Run())
}

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// snapshot captures what a refused command must leave untouched.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(researchtest.Git(t, dir, "status", "--porcelain", "--ignored", "-uall"))
	b.WriteString("\n" + researchtest.Git(t, dir, "branch", "--list"))
	b.WriteString("\n" + researchtest.Git(t, dir, "rev-parse", "HEAD"))
	if data, err := os.ReadFile(filepath.Join(dir, ".git", "info", "exclude")); err == nil {
		b.Write(data)
	}
	return b.String()
}

func TestRunRefusesBadInputWithStatus2AndChangesNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		args    []string
		want    string
	}{
		{"invalid tag", nil, []string{"--tag", "Mar 20"}, `tag "Mar 20" is invalid`},
		{"missing tag", nil, nil, "a run needs a tag"},
		{"dirty tracked file", func(t *testing.T, dir string) {
			researchtest.Write(t, dir, "train.py", "VAL = 2\n")
		}, []string{"--tag", "t1"}, "tracked files have uncommitted changes (train.py)"},
		{"branch exists", func(t *testing.T, dir string) {
			researchtest.Git(t, dir, "branch", "autoresearch/t1")
		}, []string{"--tag", "t1"}, "branch autoresearch/t1 already exists"},
		{"missing prepare.py", func(t *testing.T, dir string) {
			researchtest.Git(t, dir, "rm", "-q", "prepare.py")
			researchtest.Git(t, dir, "commit", "-q", "-m", "drop prepare")
		}, []string{"--tag", "t1"}, "prepare.py is missing"},
		{"resume without branch", nil, []string{"--tag", "t1", "--resume"}, "nothing to resume"},
		{"bad proposer", nil, []string{"--tag", "t1", "--proposer", "magic"}, "--proposer must be llm, command or sweep"},
		{"command without agent", nil, []string{"--tag", "t1", "--proposer", "command"}, "--proposer command needs --agent-cmd"},
		{"unknown flag", nil, []string{"--tag", "t1", "--bogus"}, "flag provided but not defined: -bogus"},
		{"bad plausible range", nil, []string{"--tag", "t1", "--plausible-bpb", "20..0.1"}, `--plausible-bpb "20..0.1": want 0 < MIN < MAX`},
		{"plausible range not a range", nil, []string{"--tag", "t1", "--plausible-bpb", "5"}, `--plausible-bpb "5": want MIN..MAX, e.g. 0.1..20`},
		{"negative implausible gain", nil, []string{"--tag", "t1", "--implausible-gain", "-1"}, "--implausible-sigma and --implausible-gain must be 0 (never) or more"},
		{"early-stop window covers the budget", nil, []string{"--tag", "t1", "--early-stop", "--early-stop-warmup", "0.6", "--early-stop-warmdown", "0.5"}, "leave no part of the budget in which to stop"},
		{"early-stop warmup not a fraction", nil, []string{"--tag", "t1", "--early-stop-warmup", "20"}, "early-stop warmup 20 must be a fraction of the budget between 0 and 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has its own repo
			dir := researchtest.New(t)
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			before := snapshot(t, dir)
			args := append([]string{"run", "--repo", dir, "--proposer", "sweep"}, tc.args...)
			code, _, stderr := runMain(t, args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", stderr, tc.want)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("the repo changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if _, err := os.Stat(filepath.Join(dir, ".autoresearch")); !os.IsNotExist(err) {
				t.Error("a state dir was created")
			}
		})
	}
}

func TestRunRefusesNonRepository(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, stderr := runMain(t, "run", "--repo", dir, "--tag", "t1", "--proposer", "sweep")
	if code != exitUsage || !strings.Contains(stderr, "is not a git repository") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the directory changed: %v", entries)
	}
}

func TestLLMProposerWithoutKeyIsRefused(t *testing.T) {
	dir := researchtest.New(t)
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	code, _, stderr := runMain(t, "run", "--repo", dir, "--tag", "t1")
	if code != exitUsage || !strings.Contains(stderr, "needs OPENAI_API_KEY") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".autoresearch")); !os.IsNotExist(err) {
		t.Error("a state dir was created")
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	code, _, stderr := runMain(t, "frobnicate")
	if code != exitUsage || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
