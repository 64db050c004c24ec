package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestLessonsRoundTripAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	c := newClock()
	db := openAt(t, path, c)
	ctx := context.Background()
	a := mustRun(t, db, "a")
	b := mustRun(t, db, "b")

	if got, err := db.Lessons(ctx, a.ID); err != nil || len(got) != 0 {
		t.Fatalf("Lessons before any = %v, %v", got, err)
	}
	l1, err := db.AddLesson(ctx, research.Lesson{RunID: a.ID, FromNum: 1, ToNum: 100, Text: "- lr 0.04 helped\n- depth 12 OOMs"})
	if err != nil {
		t.Fatal(err)
	}
	if l1.ID == 0 {
		t.Error("AddLesson left ID 0")
	}
	sameTime(t, "CreatedAt", l1.CreatedAt, c.Peek().UTC())
	if _, err := db.AddLesson(ctx, research.Lesson{RunID: b.ID, FromNum: 5, ToNum: 9, Text: "other run"}); err != nil {
		t.Fatal(err)
	}
	// A consolidation covering #1-#200 comes after #101-#200 but is listed
	// in the order added, not by range.
	l2, err := db.AddLesson(ctx, research.Lesson{RunID: a.ID, FromNum: 101, ToNum: 200, Text: "- warmup is a dead end"})
	if err != nil {
		t.Fatal(err)
	}
	l3, err := db.AddLesson(ctx, research.Lesson{RunID: a.ID, FromNum: 1, ToNum: 200, Text: "- merged"})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openAt(t, path, c)
	got, err := db.Lessons(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Lessons(a) = %d rows, want 3: %+v", len(got), got)
	}
	for i, want := range []research.Lesson{l1, l2, l3} {
		g := got[i]
		if g.ID != want.ID || g.RunID != a.ID || g.FromNum != want.FromNum || g.ToNum != want.ToNum || g.Text != want.Text {
			t.Errorf("lesson %d = %+v, want %+v", i, g, want)
		}
		sameTime(t, "CreatedAt", g.CreatedAt, want.CreatedAt)
	}
	if other, _ := db.Lessons(ctx, b.ID); len(other) != 1 || other[0].Text != "other run" {
		t.Errorf("Lessons(b) = %+v", other)
	}
}

func TestAddLessonRefusesBadInput(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "r")
	for _, tc := range []struct {
		l    research.Lesson
		want string
	}{
		{research.Lesson{FromNum: 1, ToNum: 2, Text: "x"}, "no run"},
		{research.Lesson{RunID: run.ID, FromNum: 0, ToNum: 2, Text: "x"}, "bad range #0-#2"},
		{research.Lesson{RunID: run.ID, FromNum: 5, ToNum: 4, Text: "x"}, "bad range #5-#4"},
		{research.Lesson{RunID: run.ID, FromNum: 1, ToNum: 4, Text: " \n"}, "empty text"},
		{research.Lesson{RunID: 999, FromNum: 1, ToNum: 4, Text: "x"}, "FOREIGN KEY"},
	} {
		_, err := db.AddLesson(ctx, tc.l)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddLesson(%+v) = %v, want error containing %q", tc.l, err, tc.want)
		}
	}
	if got, _ := db.Lessons(ctx, run.ID); len(got) != 0 {
		t.Errorf("refused lessons were stored: %+v", got)
	}
}

func TestLessonsDeletedWithTheirRun(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	run := mustRun(t, db, "gone")
	if _, err := db.AddLesson(ctx, research.Lesson{RunID: run.ID, FromNum: 1, ToNum: 3, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, run.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM lessons`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d lessons left after their run was deleted", n)
	}
}
