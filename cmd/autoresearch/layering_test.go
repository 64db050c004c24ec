package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/autoresearch/autoresearch"

// The domain comes first: package store imports research, never the
// reverse, so the chat front end and the pure research packages build
// without the SQLite driver. cmd wires the store in. This test fails
// naming each package that breaks the rule and who imports it.
func TestDomainAndFrontEndDoNotLinkTheStore(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list dependencies with")
	}
	forbidden := func(path string) bool {
		return strings.HasPrefix(path, "modernc.org/sqlite") || path == module+"/store" || strings.HasPrefix(path, module+"/store/")
	}
	for _, root := range []string{"research", "research/sweep", "research/patch", "research/bench", "research/doctor",
		"bot", "bot/command", "bot/render", "bot/terminal", "bot/slack", "bot/slack/mrkdwn", "bot/digest", "bot/chart"} {
		pkg := module + "/" + root
		// Every dependency with its own imports, to name the importer.
		cmd := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, pkg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr.String())
		}
		importers := map[string][]string{}
		var deps []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			deps = append(deps, fields[0])
			for _, imp := range fields[1:] {
				importers[imp] = append(importers[imp], fields[0])
			}
		}
		if len(deps) < 2 {
			t.Fatalf("go list -deps %s listed %d packages: %q", pkg, len(deps), out)
		}
		for _, dep := range deps {
			if forbidden(dep) || strings.HasPrefix(root, "research") && (dep == module+"/bot" || strings.HasPrefix(dep, module+"/bot/")) {
				t.Errorf("%s depends on %s (imported by %s); the store must stay behind research.Store and research knows no chat side, both wired in cmd",
					root, dep, strings.Join(importers[dep], ", "))
			}
		}
	}
}
