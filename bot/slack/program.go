package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/autoresearch/autoresearch/research"
)

// program.md is edited in a modal. A plain_text_input holds at most 3000
// characters and program.md is longer, so the file is split over several
// inputs at line boundaries and joined again on submit.
const (
	programCallbackID = "program_edit"
	programActionID   = "text"
	programBlockFmt   = "program_%d"
	inputMax          = 3000
	// maxProgramInputs stays under the 100 blocks a modal may hold.
	maxProgramInputs = 90
)

// programChunk is one input's share of program.md; Soft means the chunk
// ends in the middle of a line (a line longer than an input), so no newline
// is put back when joining.
type programChunk struct {
	Text string
	Soft bool
}

// splitProgram cuts text into chunks of at most max bytes, at line
// boundaries when it can. The newline at a cut is dropped and restored by
// joinProgram.
func splitProgram(text string, max int) []programChunk {
	text = strings.TrimRight(text, "\n")
	var chunks []programChunk
	for len(text) > max {
		cut := strings.LastIndexByte(text[:max+1], '\n')
		if cut > 0 {
			chunks = append(chunks, programChunk{Text: text[:cut]})
			text = text[cut+1:]
			continue
		}
		// One line longer than an input: cut it on a rune boundary.
		cut = max
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		chunks = append(chunks, programChunk{Text: text[:cut], Soft: true})
		text = text[cut:]
	}
	return append(chunks, programChunk{Text: text})
}

// joinProgram is splitProgram's inverse; inputs a person emptied are left
// out. The result ends with one newline, as text files do.
func joinProgram(chunks []programChunk) string {
	var b strings.Builder
	for i, c := range chunks {
		if c.Text == "" {
			continue
		}
		b.WriteString(c.Text)
		if i < len(chunks)-1 && !c.Soft {
			b.WriteString("\n")
		}
	}
	out := strings.TrimRight(b.String(), "\n")
	if strings.TrimSpace(out) == "" {
		return ""
	}
	return out + "\n"
}

func normalizeProgram(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if s == "" {
		return ""
	}
	return s + "\n"
}

// programMeta travels in the modal's private_metadata: how to join the
// inputs, and which program.md the editor was opened on.
type programMeta struct {
	Soft string `json:"soft"` // "s" for a soft cut after input i, "-" otherwise
	// Version is research.ProgramVersion of the text the editor opened on:
	// a save made against an older text is refused, not applied over it.
	Version string `json:"version"`
}

// programView builds the modal for program.md.
func programView(program string) (json.RawMessage, error) {
	chunks := splitProgram(normalizeProgram(program), inputMax)
	// One empty input at the end leaves room to add text when the last
	// input is nearly full.
	chunks = append(chunks, programChunk{})
	if len(chunks) > maxProgramInputs {
		return nil, fmt.Errorf("program.md is too long for the editor (%d characters, %d inputs; at most %d); use \"program append TEXT\" or edit it in the repository",
			len(program), len(chunks), maxProgramInputs)
	}
	var meta programMeta
	blocks := []slackBlock{contextBlock(fmt.Sprintf(
		"program.md is split over %d boxes of at most %d characters; they are joined with line breaks on save. The change is committed between experiments.",
		len(chunks), inputMax))}
	for i, c := range chunks {
		if c.Soft {
			meta.Soft += "s"
		} else {
			meta.Soft += "-"
		}
		label := fmt.Sprintf("program.md, part %d of %d", i+1, len(chunks)-1)
		if i == len(chunks)-1 {
			label = "add more here (optional)"
		}
		el := slackBlock{
			"type": "plain_text_input", "action_id": programActionID,
			"multiline": true, "max_length": inputMax,
		}
		if c.Text != "" {
			el["initial_value"] = c.Text
		}
		blocks = append(blocks, slackBlock{
			"type": "input", "block_id": fmt.Sprintf(programBlockFmt, i), "optional": true,
			"label":   slackBlock{"type": "plain_text", "text": label},
			"element": el,
		})
	}
	meta.Version = research.ProgramVersion(program)
	metaJSON, _ := json.Marshal(meta)
	view := slackBlock{
		"type": "modal", "callback_id": programCallbackID,
		"title":            slackBlock{"type": "plain_text", "text": "Edit program.md"},
		"submit":           slackBlock{"type": "plain_text", "text": "Save"},
		"close":            slackBlock{"type": "plain_text", "text": "Cancel"},
		"private_metadata": string(metaJSON),
		"blocks":           blocks,
	}
	return json.Marshal(view)
}

func (s *Bot) openProgramEditor(ctx context.Context, req slashRequest, program string) error {
	if req.TriggerID == "" {
		return fmt.Errorf("this request carries no trigger_id, so the editor cannot open; use \"program append TEXT\"")
	}
	view, err := programView(program)
	if err != nil {
		return err
	}
	// trigger_id expires 3 s after the command: this call comes first.
	return s.api.OpenView(ctx, req.TriggerID, view)
}

// interaction is the part of an interactive payload the bot reads.
type interaction struct {
	Type string `json:"type"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	View submittedView `json:"view"`
}

// submittedView is the part of a submitted modal the bot reads.
type submittedView struct {
	CallbackID      string `json:"callback_id"`
	PrivateMetadata string `json:"private_metadata"`
	State           struct {
		Values map[string]map[string]struct {
			Value string `json:"value"`
		} `json:"values"`
	} `json:"state"`
}

// viewErrors is the answer that keeps a modal open with messages under inputs.
func viewErrors(errs map[string]string) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{"response_action": "errors", "errors": errs})
	return raw
}

// handleInteraction answers an interactive payload synchronously (the
// answer is the acknowledgement: nil closes a submitted modal) and queues
// slower work.
func (s *Bot) handleInteraction(ctx context.Context, payload []byte) (answer json.RawMessage) {
	var in interaction
	defer research.Recover(s.log, "interaction", func(p *research.PanicError) {
		if in.Type == "view_submission" && in.View.CallbackID == programCallbackID {
			answer = viewErrors(map[string]string{fmt.Sprintf(programBlockFmt, 0): bugText(p) + "; your text was not saved."})
		}
	})
	if err := json.Unmarshal(payload, &in); err != nil {
		s.log.Warn("slack: unreadable interactive payload", "err", err)
		return nil
	}
	if in.Type != "view_submission" || in.View.CallbackID != programCallbackID {
		s.log.Debug("slack: interaction ignored", "type", in.Type, "callback_id", in.View.CallbackID)
		return nil
	}
	user := in.User.ID
	first := fmt.Sprintf(programBlockFmt, 0)
	if err := s.auth.maySteer(user, "edit program.md"); err != nil {
		s.log.Warn("slack: program edit refused: not an admin", "user", user)
		return viewErrors(map[string]string{first: err.Error()})
	}
	var meta programMeta
	_ = json.Unmarshal([]byte(in.View.PrivateMetadata), &meta)
	chunks := make([]programChunk, len(meta.Soft))
	for i := range chunks {
		v := in.View.State.Values[fmt.Sprintf(programBlockFmt, i)][programActionID]
		chunks[i] = programChunk{Text: v.Value, Soft: meta.Soft[i] == 's'}
	}
	text := joinProgram(chunks)
	if text == "" {
		return viewErrors(map[string]string{first: "program.md cannot be empty."})
	}
	// Refused here, while the modal is open, so the person keeps their text;
	// research checks again (it is the authority, also for appends).
	if max := s.programMaxBytes(); len(text) > max {
		s.log.Warn("slack: program edit refused: too large", "user", user, "bytes", len(text), "max", max)
		return viewErrors(map[string]string{first: (&research.ProgramTooLargeError{Kind: "replace", Bytes: len(text), Max: max}).Error()})
	}
	if meta.Version == "" {
		return viewErrors(map[string]string{first: "This editor does not say which program.md it was opened on, so saving could undo someone else's change. Copy your text, press Cancel and open the editor again."})
	}
	if current, err := s.ctrl.Program(ctx); err == nil && research.ProgramVersion(current) == meta.Version && text == normalizeProgram(current) {
		return viewErrors(map[string]string{first: "Nothing changed."})
	}
	// Checked and queued now, not after the acknowledgement: a refusal has
	// to reach the open modal. Queueing is a store insert (and, with no run,
	// one small commit).
	edit, err := s.ctrl.EditProgram(ctx, research.ProgramEdit{Kind: "replace", Text: text, Author: user, BaseVersion: meta.Version})
	var conflict *research.ProgramConflictError
	switch {
	case errors.As(err, &conflict):
		s.log.Info("slack: stale program.md edit refused", "user", user, "opened_on", meta.Version, "now", conflict.CurrentVersion)
		return viewErrors(map[string]string{first: programConflictMessage(conflict, s.cfg.CommandName)})
	case research.IsInputError(err):
		return viewErrors(map[string]string{first: err.Error()})
	case err != nil:
		s.log.Error("slack: program edit failed", "user", user, "err", err)
		return viewErrors(map[string]string{first: "Your edit was not saved: " + err.Error()})
	}
	s.log.Info("slack: program.md edit queued", "user", user, "id", edit.ID, "bytes", len(text))
	s.goTask(func(ctx context.Context) {
		s.post(ctx, fmt.Sprintf("📝 %s replaced program.md (now %s characters); it is committed between experiments and the diff follows.",
			mention(user), strconv.Itoa(len(text))), nil)
	})
	return nil
}

func (s *Bot) programMaxBytes() int {
	if s.cfg.ProgramMaxBytes > 0 {
		return s.cfg.ProgramMaxBytes
	}
	return research.DefaultProgramMaxBytes
}

// programConflictMessage tells the person under the modal's input what
// changed and how to go on without losing their text. Slack shows these
// errors as plain text, so no mentions.
func programConflictMessage(c *research.ProgramConflictError, command string) string {
	return "program.md changed since you opened the editor: " + c.Changed() + ". Your text was not saved, so nothing was lost: copy it, press Cancel and open the editor again (" +
		command + " program) to edit the current text."
}
