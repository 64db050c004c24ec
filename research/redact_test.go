package research_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestRedactorHidesKnownSecretsOnly(t *testing.T) {
	r := research.NewRedactor(map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-1234-abcdefgh",
		"LONGER":          "xoxb-1234-abcdefgh-and-more",
		"SHORT":           "abc", // too short to hide: it would blank ordinary words
	})
	got := r.Redact("a xoxb-1234-abcdefgh-and-more b xoxb-1234-abcdefgh c abc")
	if want := "a [redacted LONGER] b [redacted SLACK_BOT_TOKEN] c abc"; got != want {
		t.Fatalf("Redact = %q, want %q", got, want)
	}
	var none *research.Redactor
	if none.Redact("xoxb-1234-abcdefgh") != "xoxb-1234-abcdefgh" || research.NewRedactor(map[string]string{"A": "x"}) != nil {
		t.Fatal("a nil Redactor changed text, or one was built from nothing to hide")
	}

	// A log file is rewritten only when it holds a secret, keeping its mode.
	path := filepath.Join(t.TempDir(), "0001.log")
	if err := os.WriteFile(path, []byte("token xoxb-1234-abcdefgh\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := r.RedactFile(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	info, _ := os.Stat(path)
	if string(data) != "token [redacted SLACK_BOT_TOKEN]\n" || info.Mode().Perm() != 0o640 {
		t.Fatalf("redacted file = %q, mode %v", data, info.Mode())
	}
	if err := r.RedactFile(filepath.Join(t.TempDir(), "missing.log")); err != nil {
		t.Fatalf("missing file: %v", err)
	}
}
