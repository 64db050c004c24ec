package research

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baseFiles is a Repo that only knows the base commit's files: all the
// repeat check reads.
type baseFiles struct {
	Repo
	files map[string]string
}

func (r baseFiles) FileAt(commit, path string) ([]byte, error) {
	if s, ok := r.files[path]; ok && commit == "base" {
		return []byte(s), nil
	}
	return nil, os.ErrNotExist
}

// A change handed to a slot but not yet recorded as an experiment is a
// repeat too (the window the store cannot see), on the same base only.
func TestRepeatOfAPreparedChangeIsRefusedUntilItIsReleased(t *testing.T) {
	t.Parallel()
	db := openTestStore(t, filepath.Join(t.TempDir(), "autoresearch.db"))
	ctx := context.Background()
	run, err := db.CreateRun(ctx, Run{Tag: "t", Branch: "autoresearch/t", State: RunActive})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{m: &Manager{Store: db}, run: run,
		propRepo: baseFiles{files: map[string]string{"train.py": "DEPTH = 8\nLR = 0.1\n"}}}
	if s.hist, err = loadHistory(ctx, db, run.ID, 0); err != nil { // as newSession does
		t.Fatal(err)
	}
	c := &candidate{kind: KindProposal, base: "base", files: map[string]string{"train.py": "DEPTH = 2\nLR = 0.1\n"}, description: "depth 8 to 2"}
	s.holdPrepared(c, 7)

	err = s.checkRepeat("base", map[string]string{"train.py": "DEPTH = 2\nLR = 0.1\n"})
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "#7 (depth 8 to 2)") || !strings.Contains(refused.Reason, "prepared") {
		t.Fatalf("a repeat of the prepared change: %v", err)
	}
	if err := s.checkRepeat("base", map[string]string{"train.py": "DEPTH = 4\nLR = 0.1\n"}); err != nil {
		t.Errorf("a different change was refused: %v", err)
	}
	if err := s.checkRepeat("other", map[string]string{"train.py": "DEPTH = 2\nLR = 0.1\n"}); err != nil {
		t.Errorf("the same change on another base was refused: %v", err)
	}
	s.releasePrepared(c)
	if err := s.checkRepeat("base", map[string]string{"train.py": "DEPTH = 2\nLR = 0.1\n"}); err != nil {
		t.Errorf("still refused after the change was released: %v", err)
	}
}
