package bottest

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The main renderings people see are golden files: a change to what the
// channel shows is a visible diff in review. Regenerate with
//
//	go test ./bot/... -run TestGolden -update
//
// and read the diff (they are drawn at phone width, 44 columns).
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// PhoneColumns is the width golden files are drawn at: a phone's.
const PhoneColumns = 44

// PhoneRender draws a message roughly as a phone shows it: the blocks
// wrapped at phone width, then the notification text.
func PhoneRender(t *testing.T, text string, blocks json.RawMessage) string {
	t.Helper()
	var b strings.Builder
	if len(blocks) > 0 {
		var bs []map[string]any
		if err := json.Unmarshal(blocks, &bs); err != nil {
			t.Fatalf("blocks: %v", err)
		}
		for _, blk := range bs {
			switch blk["type"] {
			case "header":
				b.WriteString(Wrap("▌ "+blockString(blk["text"]), PhoneColumns) + "\n")
			case "section":
				b.WriteString(Wrap(blockString(blk["text"]), PhoneColumns) + "\n")
			case "context":
				elems, _ := blk["elements"].([]any)
				var parts []string
				for _, e := range elems {
					parts = append(parts, blockString(e))
				}
				b.WriteString(Wrap("· "+strings.Join(parts, "  "), PhoneColumns) + "\n")
			case "actions":
				elems, _ := blk["elements"].([]any)
				var parts []string
				for _, e := range elems {
					m, _ := e.(map[string]any)
					parts = append(parts, "["+blockString(m["text"])+"]")
				}
				b.WriteString(Wrap(strings.Join(parts, " "), PhoneColumns) + "\n")
			case "divider":
				b.WriteString(strings.Repeat("─", PhoneColumns) + "\n")
			case "image":
				fmt.Fprintf(&b, "[image: %v]\n", blk["alt_text"])
			default:
				fmt.Fprintf(&b, "[%v block]\n", blk["type"])
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("notification: " + AsShown(text) + "\n")
	return b.String()
}

func blockString(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["text"].(string)
	return AsShown(s)
}

var (
	shownLink    = regexp.MustCompile(`<https?://[^|>]+\|([^>]*)>`)
	shownMention = regexp.MustCompile(`<@([A-Z0-9]+)>`)
)

// AsShown turns Slack markup into what a reader sees: link labels (marked
// ↗), @mentions and decoded entities.
func AsShown(s string) string {
	s = shownLink.ReplaceAllString(s, "${1}↗")
	s = shownMention.ReplaceAllString(s, "@$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// Wrap breaks lines longer than width at spaces (code lines are cut
// where they must be, as a phone does).
func Wrap(s string, width int) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for len([]rune(line)) > width {
			r := []rune(line)
			cut := strings.LastIndex(string(r[:width]), " ")
			if cut <= 0 {
				cut = len(string(r[:width]))
			}
			out = append(out, strings.TrimRight(line[:cut], " "))
			line = strings.TrimLeft(line[cut:], " ")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// Golden compares got with testdata/golden/name, or rewrites it with -update.
func Golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./bot/... -run TestGolden -update` to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed; if that is intended, rerun with -update and review the diff.\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}
