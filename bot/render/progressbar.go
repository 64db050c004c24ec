package render

import (
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// progressWidth is the bar's width in characters: short enough that the
// whole progress line fits an 80-column terminal, where \r redraws work.
const progressWidth = 20

// FormatProgress renders one training progress report on one line:
//
//	#3 [########............] 41%  loss 3.210  2m57s left
func FormatProgress(number int, p research.Progress) string {
	return fmt.Sprintf("#%d %s", number, ProgressText(p))
}

func ProgressText(p research.Progress) string {
	pct := min(max(p.Percent, 0), 100)
	filled := int(pct / 100 * progressWidth)
	s := fmt.Sprintf("[%s%s] %2.0f%%", strings.Repeat("#", filled), strings.Repeat(".", progressWidth-filled), pct)
	if p.Loss > 0 {
		s += fmt.Sprintf("  loss %.3f", p.Loss)
	}
	if p.Remaining > 0 {
		s += "  " + FormatDuration(p.Remaining) + " left"
	}
	return s
}
