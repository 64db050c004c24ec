package research_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestRedactorHidesKnownSecretsOnly(t *testing.T) {
	t.Parallel()
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

// A log far larger than the chunk RedactFile streams is redacted whole,
// secrets across chunk boundaries included.
func TestRedactFileStreamsLargeLogs(t *testing.T) {
	t.Parallel()
	const secret = "hf_ChunkBoundarySecret_0123456789"
	r := research.NewRedactor(map[string]string{"HF_TOKEN": secret})
	var want, in strings.Builder
	for i := 0; in.Len() < 5<<20; i++ {
		// Lines of varying length put the secret across every offset.
		line := fmt.Sprintf("%s%d %s\n", strings.Repeat("x", i%7), i%10, secret)
		in.WriteString(line)
		want.WriteString(strings.ReplaceAll(line, secret, "[redacted HF_TOKEN]"))
	}
	path := filepath.Join(t.TempDir(), "big.log")
	if err := os.WriteFile(path, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.RedactFile(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != want.String() {
		t.Fatalf("redacted log differs (%d bytes vs %d); holds the secret: %t", len(got), want.Len(), strings.Contains(string(got), secret))
	}
}

func BenchmarkRedactLogTail(b *testing.B) {
	secrets := map[string]string{}
	for i := range 20 {
		secrets[fmt.Sprintf("SECRET_%d", i)] = fmt.Sprintf("sk-%032d", i)
	}
	r := research.NewRedactor(secrets)
	text := strings.Repeat("step 00123 (41.0%) | loss: 3.2 | remaining: 177s\n", 8<<20/50)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = r.Redact(text)
	}
}
