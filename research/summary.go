package research

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Errors ParseSummary returns; match them with errors.Is. The returned
// errors wrap them with the offending detail.
var (
	// ErrNoSummary: no summary block, or a block without a usable val_bpb.
	// The run crashed before it could report.
	ErrNoSummary = errors.New("no training summary")
	// ErrMetricNotFinite: val_bpb is NaN, ±Inf or not positive; the training
	// diverged and the number means nothing.
	ErrMetricNotFinite = errors.New("val_bpb is not a finite positive number")
	// ErrSummaryRepeated: more than one summary block carries val_bpb. The
	// script ran its evaluation twice (a crash-and-retry wrapper, a loop bug),
	// so we cannot tell which number belongs to this commit.
	ErrSummaryRepeated = errors.New("training summary printed more than once")
)

// summarySeparator is the line train.py prints right before its summary.
const summarySeparator = "---"

// ParseSummary extracts the summary block that follows a line that is
// exactly "---": consecutive "key: value" lines (values may be padded with
// spaces). Unknown keys are ignored. Progress output joined by '\r' may
// precede the block; '\r' is treated as a line break so a separator printed
// right after a progress line is still found.
//
// On ErrSummaryRepeated the last block's figures are returned alongside the
// error, for display only: the result must not be trusted.
func ParseSummary(log []byte) (Summary, error) {
	var sc SummaryScanner
	_, _ = sc.Write(log)
	return sc.Result()
}

// maxSummaryLine bounds the partial line a SummaryScanner holds. Summary
// lines are a few dozen bytes; a longer line is never part of a block (it
// ends one), so padding cannot make the scanner's memory grow.
const maxSummaryLine = 64 << 10

// SummaryScanner finds every summary block in an output stream of any
// length with bounded memory: it is fed the whole stream as it is written
// (not only the tail a trainer keeps), so a fake summary printed after
// megabytes of padding cannot hide the real one, nor the other way round.
// Its zero value is ready; Result gives what ParseSummary would for the
// whole stream.
type SummaryScanner struct {
	line     []byte
	overlong bool

	inBlock      bool
	cur          Summary
	curHasMetric bool
	curLines     int
	curErr       error

	blocks                int     // blocks with val_bpb (or a bad one)
	first, last           Summary // the first and the last of them
	sawBlockWithoutMetric bool    // a "---" block with key/value lines but no val_bpb
	badMetric             error   // the first unusable val_bpb
}

// Write scans p; it never fails.
func (sc *SummaryScanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			sc.appendLine(p)
			break
		}
		sc.appendLine(p[:i])
		sc.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (sc *SummaryScanner) appendLine(p []byte) {
	if sc.overlong || len(sc.line)+len(p) > maxSummaryLine {
		sc.overlong = true
		sc.line = sc.line[:0]
		return
	}
	sc.line = append(sc.line, p...)
}

func (sc *SummaryScanner) endLine() {
	switch {
	case sc.overlong:
		sc.takeLine("\x00overlong") // matches neither a separator nor key: value
	case len(sc.line) > 0: // empty lines are skipped, as between blocks
		sc.takeLine(string(sc.line))
	}
	sc.line = sc.line[:0]
	sc.overlong = false
}

func (sc *SummaryScanner) takeLine(line string) {
	if sc.inBlock {
		if key, value, ok := splitKeyValue(line); ok {
			sc.curLines++
			if key == "val_bpb" {
				sc.curHasMetric = true
				sc.cur.ValBPB, sc.curErr = parseMetric(value)
			} else {
				setField(&sc.cur, key, value)
			}
			return
		}
		sc.endBlock()
	}
	if strings.TrimRight(line, " \t") == summarySeparator {
		sc.inBlock = true
		sc.cur, sc.curHasMetric, sc.curLines, sc.curErr = Summary{}, false, 0, nil
	}
}

func (sc *SummaryScanner) endBlock() {
	sc.inBlock = false
	switch {
	case sc.curErr != nil:
		// Keep the first bad metric; a later good block would still make
		// this a repeated summary, which is reported instead.
		if sc.badMetric == nil {
			sc.badMetric = sc.curErr
		}
		sc.addBlock()
	case sc.curHasMetric:
		sc.addBlock()
	case sc.curLines > 0:
		sc.sawBlockWithoutMetric = true
	}
}

func (sc *SummaryScanner) addBlock() {
	if sc.blocks == 0 {
		sc.first = sc.cur
	}
	sc.last = sc.cur
	sc.blocks++
}

// Result is the summary of everything written so far, as ParseSummary
// reports it. The scanner itself is left as it is, so more may follow.
func (sc *SummaryScanner) Result() (Summary, error) {
	end := *sc
	end.line = append([]byte(nil), sc.line...)
	end.endLine()
	if end.inBlock {
		end.endBlock()
	}
	switch {
	case end.blocks > 1:
		return end.last, fmt.Errorf("%w: %d blocks with val_bpb", ErrSummaryRepeated, end.blocks)
	case end.badMetric != nil:
		return end.first, end.badMetric
	case end.blocks == 1:
		return end.first, nil
	case end.sawBlockWithoutMetric:
		return Summary{}, fmt.Errorf("%w: summary block has no val_bpb", ErrNoSummary)
	default:
		return Summary{}, fmt.Errorf("%w: no %q line followed by key: value lines", ErrNoSummary, summarySeparator)
	}
}

// splitKeyValue accepts "identifier: value". Requiring an identifier key
// keeps free text such as "Traceback (most recent call last):" from being
// taken as part of the block.
func splitKeyValue(line string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(line, ":")
	if !ok {
		return "", "", false
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return "", "", false
	}
	for i, r := range key {
		isLetter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		isDigit := r >= '0' && r <= '9'
		if !isLetter && !(isDigit && i > 0) {
			return "", "", false
		}
	}
	return key, strings.TrimSpace(value), true
}

// parseMetric parses val_bpb and rejects values that cannot be compared.
func parseMetric(value string) (float64, error) {
	v, err := parseNumber(value)
	if err != nil {
		return 0, fmt.Errorf("%w: val_bpb %q is not a number", ErrNoSummary, value)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return v, fmt.Errorf("%w: val_bpb %q", ErrMetricNotFinite, value)
	}
	return v, nil
}

// setField stores a secondary figure. A malformed secondary figure is left
// at zero: only val_bpb decides keep or discard.
func setField(s *Summary, key, value string) {
	v, err := parseNumber(value)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	switch key {
	case "training_seconds":
		s.TrainingSeconds = v
	case "total_seconds":
		s.TotalSeconds = v
	case "peak_vram_mb":
		s.PeakVRAMMB = v
	case "mfu_percent":
		s.MFUPercent = v
	case "total_tokens_M":
		s.TotalTokensM = v
	case "num_steps":
		s.NumSteps = int64(v)
	case "num_params_M":
		s.NumParamsM = v
	case "depth":
		s.Depth = int64(v)
	}
}

// parseNumber accepts what Python's formatting produces: "0.997900",
// "1,234" (thousands separators), "39.8%", "nan", "inf".
func parseNumber(value string) (float64, error) {
	value = strings.TrimSuffix(strings.TrimSpace(value), "%")
	value = strings.ReplaceAll(value, ",", "")
	return strconv.ParseFloat(strings.TrimSpace(value), 64)
}
