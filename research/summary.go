package research

import (
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
	lines := splitLines(log)
	var (
		blocks []Summary
		// sawBlockWithoutMetric remembers a "---" block that had key/value
		// lines but no val_bpb, to explain ErrNoSummary better.
		sawBlockWithoutMetric bool
		badMetric             error
	)
	for i := 0; i < len(lines); i++ {
		if strings.TrimRight(lines[i], " \t") != summarySeparator {
			continue
		}
		s, hasMetric, n, err := parseBlock(lines[i+1:])
		i += n
		switch {
		case err != nil:
			// Keep the first bad metric; a later good block would still make
			// this a repeated summary, which is reported instead.
			if badMetric == nil {
				badMetric = err
			}
			blocks = append(blocks, s)
		case hasMetric:
			blocks = append(blocks, s)
		case n > 0:
			sawBlockWithoutMetric = true
		}
	}
	switch {
	case len(blocks) > 1:
		return blocks[len(blocks)-1], fmt.Errorf("%w: %d blocks with val_bpb", ErrSummaryRepeated, len(blocks))
	case badMetric != nil:
		return blocks[0], badMetric
	case len(blocks) == 1:
		return blocks[0], nil
	case sawBlockWithoutMetric:
		return Summary{}, fmt.Errorf("%w: summary block has no val_bpb", ErrNoSummary)
	default:
		return Summary{}, fmt.Errorf("%w: no %q line followed by key: value lines", ErrNoSummary, summarySeparator)
	}
}

// splitLines splits on '\n' and '\r' alike.
func splitLines(b []byte) []string {
	return strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' || r == '\r' })
}

// parseBlock reads key: value lines until the first line that is not one.
// It reports how many lines it consumed, whether val_bpb was present, and an
// error when val_bpb is present but unusable.
func parseBlock(lines []string) (s Summary, hasMetric bool, consumed int, err error) {
	for _, line := range lines {
		key, value, ok := splitKeyValue(line)
		if !ok {
			break
		}
		consumed++
		if key == "val_bpb" {
			hasMetric = true
			s.ValBPB, err = parseMetric(value)
			continue
		}
		setField(&s, key, value)
	}
	return s, hasMetric, consumed, err
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
