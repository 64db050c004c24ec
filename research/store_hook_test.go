package research_test

import (
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/store"
)

// The tests inside package research need a real store but cannot import
// package store (it imports research): hand them store.Open.
func init() {
	research.OpenTestStore = func(t *testing.T, path string) research.Store {
		t.Helper()
		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
}
