package research

import "testing"

// openTestStore opens a real SQLite store at path for the tests inside
// package research. Package store imports research, so these tests cannot
// import it; the external test package, which can, sets OpenTestStore in
// store_hook_test.go (both are compiled into the same test binary).
func openTestStore(t *testing.T, path string) Store {
	t.Helper()
	if OpenTestStore == nil {
		t.Fatal("OpenTestStore is not set: store_hook_test.go (package research_test) sets it")
	}
	return OpenTestStore(t, path)
}

// OpenTestStore is set by store_hook_test.go; the store is closed when the
// test ends.
var OpenTestStore func(t *testing.T, path string) Store
