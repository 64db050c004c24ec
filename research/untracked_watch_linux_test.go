//go:build linux

package research

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// watchAgainstWalk runs op between a sync and a changes of w and checks
// that the watch reports exactly what two walks of the tree report.
func watchAgainstWalk(t *testing.T, w *treeWatch, root string, skip []string, op func()) string {
	t.Helper()
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	before, err := pictureTree(root, skip, GuardMaxPaths)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before.files, w.pic.files) {
		t.Fatalf("the watch's picture differs from a walk:\nwatch %v\nwalk  %v", w.pic.files, before.files)
	}
	op()
	tracked := func(p string) bool { return p == "train.py" }
	got, gotBefore, err := w.changes(tracked)
	if err != nil {
		t.Fatal(err)
	}
	after, err := pictureTree(root, skip, GuardMaxPaths)
	if err != nil {
		t.Fatal(err)
	}
	want := compareTrees(before, after, tracked)
	if g, wn := got.note(gotBefore), want.note(before); g != wn || !reflect.DeepEqual(got, want) {
		t.Fatalf("watch: %q %+v\nwalk:  %q %+v", g, got, wn, want)
	}
	if !reflect.DeepEqual(after.files, w.pic.files) {
		t.Fatalf("after the training the watch's picture differs from a walk:\nwatch %v\nwalk  %v", w.pic.files, after.files)
	}
	return got.note(gotBefore)
}

func TestWatchReportsWhatTwoWalksReport(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"train.py": "x = 1\n", ".venv/lib/a.py": "a", ".venv/lib/b.py": "b", ".venv/lib/c.py": "c",
		"notes.txt": "mine\n", "data/keep.bin": "k", "data/deep/x.bin": "x", "results.tsv": "header\n", ".git/HEAD": "ref: x\n",
		".autoresearch/logs/0001.log": "log", "__pycache__/m.pyc": "pyc", "cache/a/b/c.txt": "c", "old/name.txt": "n",
	})
	skip := []string{".autoresearch"}
	w, err := newTreeWatch(root, skip, GuardMaxPaths)
	if err != nil {
		t.Skipf("no inotify here: %v", err)
	}
	defer w.close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(time.Minute)

	// The hostile training of the walk test: delete the .venv, rewrite
	// notes, change train.py (tracked), make a checkpoint, forge
	// results.tsv (the harness's), rewrite a bytecode cache.
	note := watchAgainstWalk(t, w, root, skip, func() {
		must(os.RemoveAll(filepath.Join(root, ".venv")))
		writeTree(t, root, map[string]string{"notes.txt": "MINE\n", "train.py": "x = 2\n", "ckpt.pt": "w",
			"results.tsv": "header\nforged\n", "__pycache__/m.pyc": "new", ".autoresearch/logs/0002.log": "log"})
		must(os.Chtimes(filepath.Join(root, "notes.txt"), later, later))
	})
	if want := "train.py deleted .venv/ (3 paths); rewrote notes.txt"; note != want {
		t.Errorf("note = %q, want %q", note, want)
	}

	// Between trainings a person edits and adds files: not the training's.
	writeTree(t, root, map[string]string{"notes.txt": "edited by a person\n", "mine/new.txt": "n"})

	// Renames: a directory within the tree, one moved out, a file over
	// another; a directory made, filled and partly deleted again; a touch.
	outside := t.TempDir()
	note = watchAgainstWalk(t, w, root, skip, func() {
		must(os.Rename(filepath.Join(root, "old"), filepath.Join(root, "new")))
		must(os.Rename(filepath.Join(root, "cache", "a"), filepath.Join(outside, "a")))
		must(os.Rename(filepath.Join(root, "ckpt.pt"), filepath.Join(root, "data", "keep.bin")))
		writeTree(t, root, map[string]string{"tmp/1/x": "x", "tmp/1/y": "y"})
		must(os.Remove(filepath.Join(root, "tmp", "1", "x")))
		must(os.Chtimes(filepath.Join(root, "data", "deep", "x.bin"), later.Add(time.Hour), later.Add(time.Hour)))
	})
	if note == "" {
		t.Error("no note for renames and deletions")
	}

	// The renamed directory is watched under its new name: a change there
	// in the next training is seen.
	note = watchAgainstWalk(t, w, root, skip, func() {
		writeTree(t, root, map[string]string{"new/name.txt": "rewritten at its new place"})
		must(os.Remove(filepath.Join(root, "tmp", "1", "y")))
	})
	if want := "train.py deleted tmp/ (1 path); rewrote new/ (1 path)"; note != want {
		t.Errorf("note = %q, want %q", note, want)
	}

	// A quiet training reports nothing.
	if note := watchAgainstWalk(t, w, root, skip, func() {}); note != "" {
		t.Errorf("note %q for a training that touched nothing", note)
	}
}

func TestWatchGivesWayToWalksPastTheBound(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 20; i++ {
		files[fmt.Sprintf("d/f%02d", i)] = "x"
	}
	writeTree(t, root, files)
	if _, err := newTreeWatch(root, nil, 10); !errors.Is(err, errWatchTooBig) {
		t.Fatalf("a tree past the bound: %v, want errWatchTooBig", err)
	}
	w, err := newTreeWatch(root, nil, 25)
	if err != nil {
		t.Skipf("no inotify here: %v", err)
	}
	defer w.close()
	writeTree(t, root, map[string]string{"e/1": "1", "e/2": "2", "e/3": "3", "e/4": "4", "e/5": "5"})
	if err := w.sync(); !errors.Is(err, errWatchTooBig) {
		t.Fatalf("growing past the bound: %v, want errWatchTooBig", err)
	}
}

// TestWatchOverflowFallsBackToAWalk makes more distinct events than the
// kernel queues: the watch then compares a fresh walk with its picture.
func TestWatchOverflowFallsBackToAWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("makes tens of thousands of files")
	}
	raw, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skipf("no inotify limits here: %v", err)
	}
	var queued int
	if _, err := fmt.Sscan(string(raw), &queued); err != nil || queued > 100_000 {
		t.Skipf("max_queued_events %q: too many events to make here", raw)
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"notes.txt": "mine\n", "data/keep.bin": "k"})
	w, err := newTreeWatch(root, nil, GuardMaxPaths)
	if err != nil {
		t.Skipf("no inotify here: %v", err)
	}
	defer w.close()
	note := watchAgainstWalk(t, w, root, nil, func() {
		if err := os.Remove(filepath.Join(root, "notes.txt")); err != nil {
			t.Fatal(err)
		}
		for i := 0; i <= queued; i++ {
			if err := os.WriteFile(filepath.Join(root, "data", fmt.Sprintf("c%06d", i)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	if want := "train.py deleted notes.txt"; note != want {
		t.Errorf("note = %q, want %q", note, want)
	}
	// The rebuilt watch follows the next training.
	if note := watchAgainstWalk(t, w, root, nil, func() {
		if err := os.Remove(filepath.Join(root, "data", "keep.bin")); err != nil {
			t.Fatal(err)
		}
	}); note != "train.py deleted data/ (1 path)" {
		t.Errorf("after the overflow: note = %q", note)
	}
}
