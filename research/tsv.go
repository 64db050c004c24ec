package research

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// ResultsHeader is the first line of results.tsv, exactly as upstream writes
// it, so upstream's analysis notebook reads our files.
const ResultsHeader = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"

// TSVRow formats one experiment as a results.tsv line (with newline).
func TSVRow(e Experiment) string {
	commit := e.Commit
	if len(commit) > 7 {
		commit = commit[:7]
	}
	val, mem := 0.0, 0.0
	if e.Status != StatusCrash {
		val = e.Summary.ValBPB
		mem = e.Summary.PeakVRAMMB / 1024
	}
	return fmt.Sprintf("%s\t%.6f\t%.1f\t%s\t%s\n", commit, val, mem, e.Status, OneLine(e.Description))
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

// EnsureResultsHeader creates path with the header when it is missing or empty.
func EnsureResultsHeader(path string) error {
	info, err := os.Stat(path)
	if err == nil && info.Size() > 0 {
		return nil
	}
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, []byte(ResultsHeader), 0o644)
}

// AppendResult appends e's row to results.tsv unless the file already ends
// with exactly that row: a crash between appending and recording that we
// appended must not produce a duplicate when recovery appends again.
func AppendResult(path string, e Experiment) error {
	if err := EnsureResultsHeader(path); err != nil {
		return err
	}
	row := TSVRow(e)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	last, err := lastLine(f)
	if err != nil {
		return err
	}
	if last == row {
		return nil
	}
	if last != "" && !strings.HasSuffix(last, "\n") {
		row = "\n" + row
	}
	if _, err := f.WriteString(row); err != nil {
		return err
	}
	return f.Sync()
}

// lastLine returns the file's last line including its newline, if any.
func lastLine(f *os.File) (string, error) {
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	size := info.Size()
	const window = 4096
	start := size - window
	if start < 0 {
		start = 0
	}
	buf := make([]byte, size-start)
	if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
		return "", err
	}
	trimmed := bytes.TrimSuffix(buf, []byte("\n"))
	if i := bytes.LastIndexByte(trimmed, '\n'); i >= 0 {
		return string(buf[i+1:]), nil
	}
	return string(buf), nil
}

// WriteResults rebuilds a whole results.tsv from experiments (oldest first),
// skipping those still running.
func WriteResults(w io.Writer, exps []Experiment) error {
	if _, err := io.WriteString(w, ResultsHeader); err != nil {
		return err
	}
	for _, e := range exps {
		if e.Status == StatusRunning {
			continue
		}
		if _, err := io.WriteString(w, TSVRow(e)); err != nil {
			return err
		}
	}
	return nil
}
