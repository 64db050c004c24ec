package research

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/autoresearch/autoresearch/research/atomicfile"
)

// ResultsHeader is the first line of results.tsv, exactly as upstream writes
// it, so upstream's analysis notebook reads our files.
const ResultsHeader = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"

// TSVRow formats one experiment as a results.tsv line (with newline).
func TSVRow(e Experiment) string {
	commit := ShortCommit(e.Commit)
	val, mem := 0.0, 0.0
	if e.Status != StatusCrash {
		val = e.Summary.ValBPB
		mem = e.Summary.PeakVRAMMB / 1024
	}
	desc := OneLine(e.Description)
	if WasStoppedEarly(e) {
		// No val_bpb (0.000000, as for a crash): the row says why.
		when, _, _ := strings.Cut(e.Reason, ":")
		desc += " [" + OneLine(when) + "]"
	}
	return fmt.Sprintf("%s\t%.6f\t%.1f\t%s\t%s\n", commit, val, mem, e.Status, desc)
}

// ShortCommit is the 7-character commit upstream's results.tsv uses, and
// every message that names a commit.
func ShortCommit(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}

// OneLine squeezes s onto one line without tabs, for results.tsv and commit
// subjects.
func OneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// WriteResults writes a whole results.tsv for one run's experiments (oldest
// first), one row per finished experiment, identical rows included. Running
// experiments have no row yet. When the run trained on more than one slot,
// each description says which slot trained it, so the rows of parallel
// experiments can be told apart.
func WriteResults(w io.Writer, exps []Experiment) error {
	if _, err := io.WriteString(w, ResultsHeader); err != nil {
		return err
	}
	slots := map[string]bool{}
	for _, e := range exps {
		if e.GPU != "" {
			slots[e.GPU] = true
		}
	}
	for _, e := range exps {
		if e.Status == StatusRunning {
			continue
		}
		if len(slots) > 1 && e.GPU != "" {
			e.Description = e.Description + " [" + e.GPU + "]"
		}
		if _, err := io.WriteString(w, TSVRow(e)); err != nil {
			return err
		}
	}
	return nil
}

// resultsTemp is the name results.tsv is written under before it replaces
// the file; a kill -9 can leave it behind, and the next write reuses it.
const resultsTemp = "results.tsv.tmp"

// WriteResultsFile replaces path with the run's results.tsv atomically
// (temp file, fsync, rename): a reader or a kill -9 sees the old file or the
// new one, never half of one. Whatever else the file held (a row forged by
// train.py, say) is gone: the store is the source of truth.
func WriteResultsFile(path string, exps []Experiment) error {
	var b bytes.Buffer
	if err := WriteResults(&b, exps); err != nil {
		return err
	}
	return writeFileAtomic(path, filepath.Join(filepath.Dir(path), resultsTemp), b.Bytes())
}

// writeFileAtomic replaces path through the fixed temporary tmp (which
// the untracked-file check knows), durably: see atomicfile.
func writeFileAtomic(path, tmp string, data []byte) error {
	return atomicfile.WriteVia(path, tmp, data, 0o644)
}

// resultRows reads the data rows of a results.tsv (header and blank lines
// left out); a missing file has none.
func resultRows(path string) ([]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || line+"\n" == ResultsHeader {
			continue
		}
		rows = append(rows, line)
	}
	return rows, sc.Err()
}
