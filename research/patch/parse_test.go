package patch

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// gitRepo creates an empty repository in a temp dir and returns a function
// that runs git there (isolated from the user's configuration).
func gitRepo(t *testing.T) (dir string, git func(args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	git = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
			"LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	git("init", "-q")
	git("config", "core.quotePath", "true")
	return dir, git
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if content == "\x00delete" {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestParseGitDiff captures real `git diff` output and checks that every
// parsed FilePatch turns the old content into the new one.
func TestParseGitDiff(t *testing.T) {
	base := trainPy(120)
	before := map[string]string{
		"train.py":         base,
		"nonl.txt":         "one\ntwo",
		"gone.txt":         "bye\nbye\n",
		"sub/keep.txt":     "a\nb\nc\n",
		"to-nonl.txt":      "x\ny\n",
		"with space.txt":   "s\n",
		"caf\u00e9.txt":    "accent\n",
		"renamed-from.txt": lines(1, 30),
	}
	after := map[string]string{
		"train.py": replaceOnce(t, replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"),
			"self.fc9 = nn.Linear(dim, 2 * dim)", "self.fc9 = nn.Linear(dim, 4 * dim)\n        self.drop = nn.Dropout(0.1)"),
		"nonl.txt":         "one\nTWO",
		"gone.txt":         "\x00delete",
		"new.txt":          "fresh\nfile",
		"to-nonl.txt":      "x\ny",
		"with space.txt":   "s\nt\n",
		"caf\u00e9.txt":    "accent\nagain\n",
		"renamed-from.txt": "\x00delete",
		"renamed-to.txt":   strings.Replace(lines(1, 30), "l15\n", "L15\n", 1),
	}
	dir, git := gitRepo(t)
	writeFiles(t, dir, before)
	git("add", "-A")
	git("commit", "-q", "-m", "base")
	writeFiles(t, dir, after)
	git("add", "-A")

	for _, args := range [][]string{
		{"diff", "--cached"},
		{"diff", "--cached", "-U1"},
		{"diff", "--cached", "-U0"},
		{"diff", "--cached", "--no-renames", "-U5"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out := git(args...)
			patches, err := Parse(out)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, out)
			}
			checkPatches(t, patches, before, after, out)
		})
	}

	// A commit rendered by format-patch: message, "---", diffstat, patch,
	// signature.
	git("commit", "-q", "-m", "change\n\n--- not a header\n-- nor this")
	t.Run("format-patch", func(t *testing.T) {
		out := git("format-patch", "-1", "--stdout")
		patches, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse: %v\n%s", err, out)
		}
		checkPatches(t, patches, before, after, out)
	})
}

func checkPatches(t *testing.T, patches []FilePatch, before, after map[string]string, out string) {
	t.Helper()
	var got, want []string
	for _, p := range patches {
		got = append(got, p.Path)
	}
	renames := strings.Contains(out, "rename from")
	for name, content := range after {
		if before[name] != content && !(renames && name == "renamed-from.txt") {
			want = append(want, name)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("paths = %q, want %q\n%s", got, want, out)
	}
	for _, p := range patches {
		old := before[p.Path]
		if p.Path == "renamed-to.txt" && renames {
			old = before["renamed-from.txt"]
		}
		want := after[p.Path]
		if want == "\x00delete" {
			want = ""
		}
		res, err := Apply(old, p)
		if err != nil || res != want {
			t.Errorf("%s: Apply = %q, %v; want %q\n%s", p.Path, res, err, want, p)
		}
	}
}

// TestGitApplyAcceptsString checks that git itself applies FilePatch.String
// output, and that round trips through Parse keep the patch.
func TestGitApplyAcceptsString(t *testing.T) {
	base := trainPy(100)
	tests := []struct {
		name     string
		old, new string
		context  int
	}{
		{"edit", base, replaceOnce(t, base, "LR = 0.04\n", "LR = 0.05\n"), 3},
		{"two hunks", base, replaceOnce(t, replaceOnce(t, base, "DEPTH = 8\n", ""), "self.fc9(x)", "self.fc9(x) * 2"), 3},
		{"no newline at end", "a\nb", "a\nc", 3},
		{"add newline at end", "a\nb", "a\nb\n", 3},
		{"drop newline at end", "a\nb\n", "a\nb", 3},
		{"insert at start", "a\nb\n", "x\na\nb\n", 3},
		{"insert at end", "a\nb\n", "a\nb\nx\n", 3},
		{"delete all", "a\nb\n", "", 3},
		{"zero context", base, replaceOnce(t, base, "WIDTH = 512\n", "WIDTH = 768\n"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, git := gitRepo(t)
			writeFiles(t, dir, map[string]string{"train.py": tt.old})
			p := Diff("train.py", tt.old, tt.new, tt.context)
			writeFiles(t, dir, map[string]string{"change.patch": p.String()})
			args := []string{"apply"}
			if tt.context == 0 {
				args = append(args, "--unidiff-zero")
			}
			git(append(args, "change.patch")...)
			got, err := os.ReadFile(filepath.Join(dir, "train.py"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.new {
				t.Fatalf("git apply gave %q, want %q", got, tt.new)
			}
			ps, err := Parse(p.String())
			if err != nil || len(ps) != 1 || !reflect.DeepEqual(ps[0], p) {
				t.Fatalf("Parse(String()) = %#v, %v; want %#v", ps, err, p)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []FilePatch
	}{
		{
			name: "plain diff -u with timestamps",
			in:   "--- train.py\t2024-01-01 00:00:00.000000000 +0000\n+++ train.py.new\t2024-01-01 00:00:01.000000000 +0000\n@@ -1 +1 @@\n-a\n+b\n",
			want: []FilePatch{{Path: "train.py.new", Hunks: []Hunk{{1, 1, 1, 1, []string{"-a", "+b"}}}}},
		},
		{
			name: "section heading, blank context line with stripped space",
			in:   "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@ def main():\n a\n\n-b\n+c\n",
			want: []FilePatch{{Path: "f", Hunks: []Hunk{{1, 3, 1, 3, []string{" a", " ", "-b", "+c"}}}}},
		},
		{
			name: "new and deleted files",
			in: "diff --git a/n b/n\nnew file mode 100644\nindex 0000000..e69de29\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n" +
				"diff --git a/d b/d\ndeleted file mode 100644\nindex e69de29..0000000\n--- a/d\n+++ /dev/null\n@@ -1 +0,0 @@\n-y\n\\ No newline at end of file\n",
			want: []FilePatch{
				{Path: "n", Hunks: []Hunk{{0, 0, 1, 1, []string{"+x"}}}},
				{Path: "d", Hunks: []Hunk{{1, 1, 0, 0, []string{"-y", NoNewline}}}},
			},
		},
		{
			name: "sections without hunks",
			in: "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n" +
				"diff --git a/empty b/empty\nnew file mode 100644\nindex 0000000..e69de29\n" +
				"diff --git a/old name b/new name\nsimilarity index 100%\nrename from old name\nrename to new name\n",
			want: []FilePatch{{Path: "run.sh"}, {Path: "empty"}, {Path: "new name"}},
		},
		{
			name: "quoted names",
			in:   "diff --git \"a/caf\\303\\251.txt\" \"b/caf\\303\\251.txt\"\nindex 1..2 100644\n--- \"a/caf\\303\\251.txt\"\n+++ \"b/caf\\303\\251.txt\"\n@@ -1 +1 @@\n-a\n+b\n",
			want: []FilePatch{{Path: "caf\u00e9.txt", Hunks: []Hunk{{1, 1, 1, 1, []string{"-a", "+b"}}}}},
		},
		{
			name: "removed line that looks like a header",
			in:   "--- a/f\n+++ b/f\n@@ -1,2 +1 @@\n--- x\n-+++ y\n+z\n",
			want: []FilePatch{{Path: "f", Hunks: []Hunk{{1, 2, 1, 1, []string{"--- x", "-+++ y", "+z"}}}}},
		},
		{
			name: "text around patches is skipped",
			in:   "commit 123\nAuthor: t\n\n    msg\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n\ncommit 456\n",
			want: []FilePatch{{Path: "f", Hunks: []Hunk{{1, 1, 1, 1, []string{"-a", "+b"}}}}},
		},
		{
			name: "empty input",
			in:   "",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %#v, %v\nwant %#v", got, err, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"hunk before header", "@@ -1 +1 @@\n-a\n+b\n", 1, "before any file header"},
		{"malformed hunk header", "--- a/f\n+++ b/f\n@@ -1 +x @@\n-a\n", 3, "malformed hunk header"},
		{"zero start with lines", "--- a/f\n+++ b/f\n@@ -0,1 +1 @@\n-a\n+b\n", 3, "malformed hunk header"},
		{"truncated hunk", "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n", 6, "truncated: 1 old and 1 new lines missing"},
		{"hunk longer than header", "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n+c\n", 6, "outside a hunk"},
		{"too many removals", "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n-b\n+c\n", 5, "more lines than its header says"},
		{"stray line in hunk", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n*b\n", 5, "unexpected \"*b\""},
		{"--- without +++", "diff --git a/f b/f\n--- a/f\n@@ -1 +1 @@\n", 2, "not followed by a \"+++ \" line"},
		{"missing file name", "--- \n+++ b/f\n", 1, "missing file name"},
		{"both /dev/null", "--- /dev/null\n+++ /dev/null\n", 1, "both sides are /dev/null"},
		{"binary", "diff --git a/m.bin b/m.bin\nindex 1..2 100644\nBinary files a/m.bin and b/m.bin differ\n", 3, "binary patch for m.bin"},
		{"misplaced no-newline marker", "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n a\n\\ No newline at end of file\n+b\n", 3, "not the last line of its side"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %#v, %v; want a *ParseError", got, err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Fatalf("error = %v; want line %d containing %q", err, tt.line, tt.msg)
			}
		})
	}
}
