package research

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTSVRowMatchesUpstreamFormat(t *testing.T) {
	t.Parallel()
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
	early := Experiment{Commit: "e5f6a7b8c9d0", Status: StatusDiscard, Description: "depth 4",
		Reason: "stopped early at 31%: loss 4.10 vs best 3.92 (#1, margin 0.039)"}
	if got, want := TSVRow(early), "e5f6a7b\t0.000000\t0.0\tdiscard\tdepth 4 [stopped early at 31%]\n"; got != want {
		t.Errorf("stopped-early row = %q, want %q", got, want)
	}
}

func TestResultsFileKeepsIdenticalRowsAndDropsForgedOnes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.tsv")
	// Two experiments of the same change on the same parent: same commit,
	// same figures, same description. Both are experiments, both get a row.
	same := Experiment{Commit: "2222222bbbb", Status: StatusDiscard, Description: "lr up", Summary: Summary{ValBPB: 1.6, PeakVRAMMB: 2048}}
	exps := []Experiment{
		{Commit: "1111111aaaa", Status: StatusKeep, Description: "baseline", Summary: Summary{ValBPB: 1.5, PeakVRAMMB: 1024}},
		same, same,
	}
	if err := os.WriteFile(path, []byte(ResultsHeader+"fffffff\t0.100000\t1.0\tkeep\tforged by train.py\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteResultsFile(path, exps); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := ResultsHeader + "1111111\t1.500000\t1.0\tkeep\tbaseline\n" + strings.Repeat("2222222\t1.600000\t2.0\tdiscard\tlr up\n", 2)
	if string(got) != want {
		t.Fatalf("results.tsv =\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), resultsTemp)); !os.IsNotExist(err) {
		t.Errorf("the temp file was left behind: %v", err)
	}
}

func TestWriteResultsNamesTheSlotOnlyWhenSeveralTrained(t *testing.T) {
	t.Parallel()
	one := []Experiment{{Commit: "aaaaaaa", Status: StatusKeep, Description: "baseline", GPU: "main", Summary: Summary{ValBPB: 1}}}
	var b strings.Builder
	if err := WriteResults(&b, one); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "[main]") {
		t.Errorf("one slot, yet named: %q", b.String())
	}
	two := append(one, Experiment{Commit: "bbbbbbb", Status: StatusDiscard, Description: "x", GPU: "gpu1", Summary: Summary{ValBPB: 2}})
	b.Reset()
	if err := WriteResults(&b, two); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "baseline [main]\n") || !strings.Contains(b.String(), "x [gpu1]\n") {
		t.Errorf("two slots, rows do not say which: %q", b.String())
	}
}

func TestWriteResultsSkipsRunning(t *testing.T) {
	t.Parallel()
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
