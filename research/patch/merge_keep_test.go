package patch

import "testing"

func TestMergeKeepingOursLeavesOutOnlyTheContestedChanges(t *testing.T) {
	base := "a = 1\n#\n#\n#\nb = 2\n#\n#\n#\nc = 3\n"
	ours := "a = 9\n#\n#\n#\nb = 2\n#\n#\n#\nc = 3\n"   // sets a
	theirs := "a = 5\n#\n#\n#\nb = 7\n#\n#\n#\nc = 3\n" // sets a (contested) and b
	got, skipped := MergeKeepingOurs(base, ours, theirs)
	if want := "a = 9\n#\n#\n#\nb = 7\n#\n#\n#\nc = 3\n"; got != want || skipped != 1 {
		t.Errorf("got %q (%d skipped), want %q (1)", got, skipped, want)
	}
	// Nothing contested: the same as Merge3.
	theirs = "a = 1\n#\n#\n#\nb = 7\n#\n#\n#\nc = 4\n"
	got, skipped = MergeKeepingOurs(base, ours, theirs)
	if want, _ := Merge3(base, ours, theirs); got != want || skipped != 0 {
		t.Errorf("got %q (%d skipped), want %q", got, skipped, want)
	}
	// Everything contested or already there: ours as is.
	got, skipped = MergeKeepingOurs(base, ours, "a = 2\n#\n#\n#\nb = 2\n#\n#\n#\nc = 3\n")
	if got != ours || skipped != 1 {
		t.Errorf("got %q (%d skipped), want ours", got, skipped)
	}
	got, skipped = MergeKeepingOurs(base, ours, ours)
	if got != ours || skipped != 0 {
		t.Errorf("same change: got %q (%d skipped)", got, skipped)
	}
}
