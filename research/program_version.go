package research

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// ProgramVersion names a text of program.md: a short hash of it, ignoring
// surrounding blank space and line-ending style. An editor keeps the version
// it opened so a save made against an older text can be told apart.
func ProgramVersion(text string) string {
	h := sha256.Sum256([]byte(normalizeProgram(text)))
	return hex.EncodeToString(h[:6])
}

func normalizeProgram(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// ProgramConflictError refuses an edit of program.md made against a text
// that has changed since (an edit applied or queued in between, or a change
// in the repository). Nothing was saved; CurrentText is what to edit now.
type ProgramConflictError struct {
	BaseVersion    string        // the version the edit was made against
	CurrentVersion string        // the version now
	CurrentText    string        // program.md as it is now (queued edits included)
	Changes        []ProgramEdit // the edits in between, when known, oldest first
}

func (e *ProgramConflictError) Error() string {
	return "program.md changed since this edit was made (" + e.Changed() + "); it was not saved: reopen program.md and edit the current text"
}

// ChangedBy lists the authors of the edits in between, without repeats;
// empty when the change was made outside the bot.
func (e *ProgramConflictError) ChangedBy() []string {
	var out []string
	for _, c := range e.Changes {
		if c.Author != "" && !contains(out, c.Author) {
			out = append(out, c.Author)
		}
	}
	return out
}

// Changed says what happened in between, in a phrase.
func (e *ProgramConflictError) Changed() string {
	if len(e.Changes) == 0 {
		return "it was changed outside the bot, e.g. in the repository"
	}
	parts := make([]string, 0, len(e.Changes))
	for _, c := range e.Changes {
		who := c.Author
		if who == "" {
			who = "someone"
		}
		state := "committed"
		if c.AppliedAt.IsZero() {
			state = "queued, committed between experiments"
		}
		if c.Kind == "append" {
			parts = append(parts, fmt.Sprintf("%s appended %q (%s)", who, snippet(c.Text, 60), state))
		} else {
			parts = append(parts, fmt.Sprintf("%s replaced it (%s)", who, state))
		}
	}
	return strings.Join(parts, "; ")
}

func snippet(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// applyEditText is program.md after edit e is applied to current: an
// append goes at the end of whatever is there, a replace is its text.
func applyEditText(current string, e ProgramEdit) string {
	if e.Kind == "append" {
		return appendProgram(current, e.Text)
	}
	return e.Text
}

// appendProgram is program.md with text appended as its own paragraph.
func appendProgram(current, text string) string {
	return strings.TrimRight(current, "\n") + "\n\n" + strings.TrimSpace(text) + "\n"
}

// programChain follows file through the queued edits as they will be
// committed, in order: texts[0] is file, texts[i+1] the text after edit i
// (unchanged when edit i will be refused as stale).
func programChain(file string, pending []ProgramEdit) []string {
	texts := []string{file}
	cur := file
	for _, e := range pending {
		if e.Kind != "append" && e.BaseVersion != "" && e.BaseVersion != ProgramVersion(cur) {
			texts = append(texts, cur)
			continue
		}
		cur = applyEditText(cur, e)
		texts = append(texts, cur)
	}
	return texts
}
