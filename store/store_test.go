package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file that is not an SQLite database is refused with its name and what
// to do, and left as it was.
func TestOpenRefusesGarbageStoreNamingTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autoresearch.db")
	garbage := []byte(strings.Repeat("this is not a database\n", 200))
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err == nil {
		db.Close()
		t.Fatal("a garbage store was opened")
	}
	var de *DamagedError
	if !errors.As(err, &de) || de.Path != path {
		t.Fatalf("err = %v, want a DamagedError for %s", err, path)
	}
	for _, want := range []string{path, "not an SQLite database", "Restore it from a backup", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if data, _ := os.ReadFile(path); string(data) != string(garbage) {
		t.Fatal("the damaged store was changed")
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatal("opening the damaged store created a -wal file")
	}
}

// A store whose pages are corrupt (the header intact) fails quick_check on
// open instead of being written to.
func TestOpenRunsQuickCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autoresearch.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 3*4096 {
		t.Fatalf("store is only %d bytes", len(data))
	}
	for i := 4096; i < len(data); i++ {
		data[i] = 0xA5 // every page after the first
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path)
	if err == nil {
		db.Close()
		t.Fatal("a corrupt store was opened")
	}
	var de *DamagedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want a DamagedError naming the file", err)
	}
}

func TestProbe(t *testing.T) {
	dir := t.TempDir()
	if s, err := Probe(filepath.Join(dir, "none.db")); s != FileMissing || err != nil {
		t.Fatalf("missing: %v %v", s, err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Probe(empty); s != FileEmpty || err != nil {
		t.Fatalf("empty: %v %v", s, err)
	}
}
