package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Write and WriteVolatile (the same without syncs) replace the file whole
// and leave no temporary behind.
func TestWriteReplacesAndLeavesNoTemporary(t *testing.T) {
	for name, write := range map[string]func(string, []byte, os.FileMode, string) error{"Write": Write, "WriteVolatile": WriteVolatile} {
		dir := t.TempDir()
		path := filepath.Join(dir, "train.py")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := write(path, []byte("new"), 0o600, ".w-*"); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if err != nil || string(got) != "new" || fi.Mode().Perm() != 0o600 {
			t.Fatalf("after %s: %q, %v, mode %v", name, got, err, fi.Mode())
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("%s: directory holds %d entries, want only the file: %v", name, len(entries), entries)
		}
	}
}

func TestWriteReplacesASymlinkInsteadOfWritingThroughIt(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "hook")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("mine"), 0o755, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Fatalf("the symlink's target was written: %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Fatalf("the symlink is still there: %v, %v", fi.Mode(), err)
	}
}

func TestWriteViaUsesTheNamedTemporaryAndRemovesItOnFailure(t *testing.T) {
	dir := t.TempDir()
	path, tmp := filepath.Join(dir, "results.tsv"), filepath.Join(dir, "results.tsv.tmp")
	if err := WriteVia(path, tmp, []byte("a\tb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary left behind: %v", err)
	}
	// A directory in the way of the rename: the write fails, path keeps
	// its content and the temporary is gone.
	blocked := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteVia(blocked, tmp, []byte("no"), 0o644); err == nil {
		t.Fatal("WriteVia over a non-empty directory succeeded")
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary left behind after a failure: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "a\tb\n" {
		t.Fatalf("results.tsv = %q", got)
	}
}
