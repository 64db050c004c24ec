package research

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTSVRowMatchesUpstreamFormat(t *testing.T) {
	keep := Experiment{Commit: "a1b2c3d4e5f6", Status: StatusKeep, Description: "baseline",
		Summary: Summary{ValBPB: 0.9979, PeakVRAMMB: 45060.2}}
	crash := Experiment{Commit: "d4e5f6a7b8c9", Status: StatusCrash, Description: "double model width\t(OOM)\n",
		Summary: Summary{ValBPB: 3.1, PeakVRAMMB: 80000}}
	if got, want := TSVRow(keep), "a1b2c3d\t0.997900\t44.0\tkeep\tbaseline\n"; got != want {
		t.Errorf("keep row = %q, want %q", got, want)
	}
	if got, want := TSVRow(crash), "d4e5f6a\t0.000000\t0.0\tcrash\tdouble model width (OOM)\n"; got != want {
		t.Errorf("crash row = %q, want %q", got, want)
	}
}

func TestAppendResultWritesHeaderOnceAndSkipsRepeatOfLastRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.tsv")
	e1 := Experiment{Commit: "1111111aaaa", Status: StatusKeep, Description: "baseline", Summary: Summary{ValBPB: 1.5, PeakVRAMMB: 1024}}
	e2 := Experiment{Commit: "2222222bbbb", Status: StatusDiscard, Description: "lr up", Summary: Summary{ValBPB: 1.6, PeakVRAMMB: 2048}}
	for _, e := range []Experiment{e1, e2, e2} {
		if err := AppendResult(path, e); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
	want := ResultsHeader + "1111111\t1.500000\t1.0\tkeep\tbaseline\n" + "2222222\t1.600000\t2.0\tdiscard\tlr up\n"
	if string(got) != want {
		t.Fatalf("results.tsv =\n%s\nwant\n%s", got, want)
	}
}

func TestAppendResultKeepsExistingRowsAndMendsMissingNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.tsv")
	old := ResultsHeader + "0000000\t2.000000\t0.0\tkeep\tby hand"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	e := Experiment{Commit: "3333333", Status: StatusCrash, Description: "oom"}
	if err := AppendResult(path, e); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := old + "\n3333333\t0.000000\t0.0\tcrash\toom\n"; string(got) != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestWriteResultsSkipsRunning(t *testing.T) {
	var b strings.Builder
	exps := []Experiment{
		{Commit: "aaaaaaa", Status: StatusKeep, Description: "baseline", Summary: Summary{ValBPB: 1}},
		{Commit: "bbbbbbb", Status: StatusRunning, Description: "in flight"},
	}
	if err := WriteResults(&b, exps); err != nil {
		t.Fatal(err)
	}
	if want := ResultsHeader + "aaaaaaa\t1.000000\t0.0\tkeep\tbaseline\n"; b.String() != want {
		t.Fatalf("got %q", b.String())
	}
}
