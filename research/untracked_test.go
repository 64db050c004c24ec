package research

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGuardReportsDeletedAndRewrittenUntrackedFilesOnly(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"train.py": "x = 1\n", ".venv/lib/a.py": "a", ".venv/lib/b.py": "b", ".venv/lib/c.py": "c",
		"notes.txt": "mine\n", "data/keep.bin": "k", "results.tsv": "header\n", ".git/HEAD": "ref: x\n",
		".autoresearch/logs/0001.log": "log", "__pycache__/m.pyc": "pyc",
	})
	skip := []string{".autoresearch"}
	before, err := pictureTree(root, skip, GuardMaxPaths)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".git/HEAD", ".autoresearch/logs/0001.log", "results.tsv", "__pycache__/m.pyc"} {
		if _, ok := before.files[p]; ok {
			t.Errorf("%s is in the picture", p)
		}
	}
	// The training: deletes the .venv, rewrites notes (same size, later
	// mtime), changes train.py (tracked), makes a checkpoint, appends to
	// results.tsv (the harness's own file) and rewrites a cache.
	if err := os.RemoveAll(filepath.Join(root, ".venv")); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	writeTree(t, root, map[string]string{"notes.txt": "MINE\n", "train.py": "x = 2\n", "ckpt.pt": "w",
		"results.tsv": "header\nforged\n", "__pycache__/m.pyc": "new", ".autoresearch/logs/0002.log": "log"})
	if err := os.Chtimes(filepath.Join(root, "notes.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	after, err := pictureTree(root, skip, GuardMaxPaths)
	if err != nil {
		t.Fatal(err)
	}
	d := compareTrees(before, after, func(p string) bool { return p == "train.py" })
	if got, want := d.note(before), "train.py deleted .venv/ (3 paths); rewrote notes.txt"; got != want {
		t.Fatalf("note = %q, want %q (deleted %v, rewritten %v)", got, want, d.deleted, d.rewritten)
	}
	if compareTrees(after, after, func(string) bool { return false }).note(after) != "" {
		t.Error("an untouched tree has a note")
	}
}

func TestGuardWalkIsBounded(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 30; i++ {
		files[fmt.Sprintf("big/%02d", i)] = "x"
	}
	writeTree(t, root, files)
	before, err := pictureTree(root, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !before.truncated || len(before.files) != 10 {
		t.Fatalf("truncated %v with %d paths", before.truncated, len(before.files))
	}
	// A deletion within the bound is seen; nothing beyond it is made up.
	if err := os.Remove(filepath.Join(root, "big", "00")); err != nil {
		t.Fatal(err)
	}
	after, _ := pictureTree(root, nil, 10)
	d := compareTrees(before, after, func(string) bool { return false })
	if len(d.deleted) != 1 || d.deleted[0] != "big/00" || len(d.rewritten) != 0 {
		t.Fatalf("deleted %v rewritten %v", d.deleted, d.rewritten)
	}
}

// BenchmarkUntrackedGuard measures the two pictures and the comparison a
// training costs with a .venv-sized tree of 20,000 files in 400 folders.
func BenchmarkUntrackedGuard(b *testing.B) {
	root := b.TempDir()
	files := map[string]string{}
	for d := 0; d < 400; d++ {
		for f := 0; f < 50; f++ {
			files[fmt.Sprintf(".venv/lib/pkg%03d/mod%02d.py", d, f)] = "x = 1\n"
		}
	}
	writeTree(b, root, files)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before, err := pictureTree(root, nil, GuardMaxPaths)
		if err != nil {
			b.Fatal(err)
		}
		after, err := pictureTree(root, nil, GuardMaxPaths)
		if err != nil {
			b.Fatal(err)
		}
		if d := compareTrees(before, after, func(string) bool { return false }); len(d.deleted)+len(d.rewritten) != 0 {
			b.Fatal("damage in an untouched tree")
		}
	}
	b.ReportMetric(float64(len(files)), "files")
}
