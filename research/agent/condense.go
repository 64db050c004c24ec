package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sashabaranov/go-openai"

	"github.com/autoresearch/autoresearch/research"
)

// Bounds of the condensation calls.
const (
	// CondenseMaxTokens caps the completion of Condense and Consolidate, so
	// a lesson stays small (about 450 words at most).
	CondenseMaxTokens = 600
	// condenseReasoningAllowance is added to the cap for reasoning models
	// (o1/o3/o4/gpt-5), whose hidden reasoning counts against
	// max_completion_tokens; without it they may answer with nothing.
	condenseReasoningAllowance = 8000
	// condenseInputCap bounds the experiment lines sent in one Condense call.
	condenseInputCap = 96 << 10
	// condenseLessonsCap bounds the earlier lessons sent as context.
	condenseLessonsCap = 12 << 10
)

const condenseSystem = `You keep the research notes of an autonomous ML research run. An agent edits
train.py, the harness trains it for a fixed time and keeps the change only if
val_bpb (validation bits per byte, lower is better) improves. Your notes replace
the raw list of older experiments in the agent's prompt, so they must carry
everything worth knowing from them, briefly.`

const condenseAsk = `Write a compact bullet list of what was learned: what helped, what hurt, what
crashed and why, and dead ends not worth retrying. Cite experiment numbers (#N)
and values where they matter. At most 12 bullets and 300 words, plain "- "
bullets, no preamble, no closing remarks.`

const consolidateAsk = `Merge these lessons into one compact bullet list that keeps everything still
worth knowing: what helped, what hurt, what crashed and why, and dead ends not
worth retrying. Drop repetition; where later lessons contradict earlier ones,
keep the later finding. Cite experiment numbers (#N) where they matter. At most
15 bullets and 350 words, plain "- " bullets, no preamble, no closing remarks.`

// PlanCondense decides what to condense next: the oldest contiguous range of
// experiment numbers not yet covered by a lesson, ending before the
// b.KeepRecent most recent experiments, once the uncovered non-kept
// experiments before those take more than half of b.MaxTokens as history
// lines. ok is false while nothing needs condensing. The loop then calls
// Condense with RangeOf(history, from, to) and stores the result as a
// Lesson{FromNum: from, ToNum: to}.
func PlanCondense(history []research.Experiment, lessons []research.Lesson, b HistoryBudget) (from, to int, ok bool) {
	b = b.withDefaults()
	entries := classify(history, 0, lessons, "base")
	recentFrom := max(0, len(entries)-b.KeepRecent)
	if recentFrom == 0 {
		return 0, 0, false
	}
	firstRecent := entries[recentFrom].e.Number
	cost := 0
	from = 0
	for _, h := range entries[:recentFrom] {
		if h.covered || h.e.Number >= firstRecent {
			continue
		}
		if h.e.Status != research.StatusKeep {
			cost += len(h.line) + 1
		}
		if from == 0 || h.e.Number < from {
			from = h.e.Number
		}
	}
	if from == 0 || cost <= b.MaxTokens*4/2 {
		return 0, 0, false
	}
	// The range runs until the next lesson or the recent experiments.
	limit := firstRecent - 1
	for _, l := range lessons {
		if l.FromNum > from && l.FromNum-1 < limit {
			limit = l.FromNum - 1
		}
	}
	for _, h := range entries[:recentFrom] {
		if h.e.Number <= limit && h.e.Number > to {
			to = h.e.Number
		}
	}
	if to < from {
		return 0, 0, false
	}
	return from, to, true
}

// RangeOf returns the experiments numbered from..to (fix attempts included),
// in history order.
func RangeOf(history []research.Experiment, from, to int) []research.Experiment {
	var out []research.Experiment
	for _, e := range history {
		if e.Number >= from && e.Number <= to {
			out = append(out, e)
		}
	}
	return out
}

// PlanConsolidate decides when lessons are to be merged: once the current
// lessons (CurrentLessons) take more than three quarters of their share of
// the history budget (a third of b.MaxTokens). merge is the oldest
// contiguous run of them, at least two; the loop passes it to Consolidate
// and stores the result as Lesson{FromNum: merge[0].FromNum, ToNum:
// merge[len(merge)-1].ToNum}, which supersedes them in the prompt.
func PlanConsolidate(lessons []research.Lesson, b HistoryBudget) (merge []research.Lesson, ok bool) {
	b = b.withDefaults()
	cur := slices.Clone(CurrentLessons(lessons))
	size := 0
	for _, l := range cur {
		size += len(lessonText(l))
	}
	if len(cur) < 2 || size <= b.MaxTokens*4/lessonShare*3/4 {
		return nil, false
	}
	slices.SortStableFunc(cur, func(x, y research.Lesson) int { return x.FromNum - y.FromNum })
	merge = cur[:1]
	for _, l := range cur[1:] {
		if l.FromNum != merge[len(merge)-1].ToNum+1 {
			break
		}
		merge = append(merge, l)
	}
	if len(merge) < 2 {
		return nil, false
	}
	return merge, true
}

// Condense asks the model, in one chat completion without tools, for a
// compact bullet list of what experiments exps (of the run named run) taught:
// what helped, what hurt, what crashed and why, dead ends. previous lessons
// are sent as context so they are not repeated. The completion is capped at
// CondenseMaxTokens and goes through the same retrying HTTP client as
// Propose; usage is what the call spent, also when it fails after an answer.
func (l *LLM) Condense(ctx context.Context, run string, exps []research.Experiment, previous []research.Lesson) (string, research.Usage, error) {
	if len(exps) == 0 {
		return "", research.Usage{}, errors.New("agent: condense: no experiments")
	}
	var b strings.Builder
	first, last := exps[0].Number, exps[0].Number
	for _, e := range exps {
		first, last = min(first, e.Number), max(last, e.Number)
	}
	fmt.Fprintf(&b, "Run: %s\nCondense experiments #%d-#%d into lessons for the agent that proposes the next experiments.\n", orDash(run), first, last)
	if prev := lessonsContext(previous); prev != "" {
		b.WriteString("\nEarlier lessons of this run (context only; do not repeat them):\n")
		b.WriteString(prev)
	}
	b.WriteString("\nExperiments (number, status, val_bpb, change vs. its parent, description, reason):\n")
	// The parents of the first experiments lie before the range.
	lines := classify(exps, 0, nil, "parent earlier")
	size := 0
	for i, h := range lines {
		line := h.line
		if h.e.Status != research.StatusCrash && h.e.Reason != "" {
			line += " [" + truncate(oneLine(h.e.Reason), 80) + "]"
		}
		if size+len(line) > condenseInputCap {
			fmt.Fprintf(&b, "(%d more experiments omitted for length)\n", len(lines)-i)
			break
		}
		size += len(line) + 1
		b.WriteString(line + "\n")
	}
	b.WriteString("\n" + condenseAsk + "\n")
	return l.complete(ctx, "condense", b.String())
}

// Consolidate merges lessons (as chosen by PlanConsolidate) into one, in one
// chat completion without tools, capped like Condense.
func (l *LLM) Consolidate(ctx context.Context, run string, lessons []research.Lesson) (string, research.Usage, error) {
	if len(lessons) == 0 {
		return "", research.Usage{}, errors.New("agent: consolidate: no lessons")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Run: %s\nThese lessons condense experiments #%d-#%d of the run, oldest first:\n\n",
		orDash(run), lessons[0].FromNum, lessons[len(lessons)-1].ToNum)
	for _, ls := range lessons {
		b.WriteString(lessonText(ls) + "\n")
	}
	b.WriteString(consolidateAsk + "\n")
	return l.complete(ctx, "consolidate", b.String())
}

// lessonsContext renders the current lessons, newest kept when they exceed
// condenseLessonsCap.
func lessonsContext(previous []research.Lesson) string {
	cur := CurrentLessons(previous)
	var texts []string
	size := 0
	for i := len(cur) - 1; i >= 0; i-- {
		t := lessonText(cur[i])
		if size+len(t) > condenseLessonsCap {
			break
		}
		size += len(t)
		texts = append(texts, t)
	}
	slices.Reverse(texts)
	return strings.Join(texts, "")
}

// isReasoningModel matches the models go-openai refuses max_tokens for.
func isReasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// complete runs one tool-less chat completion and returns its text.
func (l *LLM) complete(ctx context.Context, what, prompt string) (string, research.Usage, error) {
	if l.client == nil {
		return "", research.Usage{}, errors.New("agent: LLM not configured (use NewLLM)")
	}
	req := openai.ChatCompletionRequest{
		Model: l.Model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: condenseSystem},
			{Role: openai.ChatMessageRoleUser, Content: prompt},
		},
		Temperature: l.Temperature,
	}
	if isReasoningModel(l.Model) {
		req.MaxCompletionTokens = CondenseMaxTokens + condenseReasoningAllowance
	} else {
		//lint:ignore SA1019 OpenAI-compatible servers (vLLM, llama.cpp, older gateways) only know max_tokens
		req.MaxTokens = CondenseMaxTokens
	}
	req.Messages = l.redacted(req.Messages)
	resp, err := l.client.CreateChatCompletion(ctx, req)
	if err != nil {
		return "", research.Usage{}, l.callError(ctx, err)
	}
	usage := research.Usage{
		PromptTokens:     int64(resp.Usage.PromptTokens),
		CompletionTokens: int64(resp.Usage.CompletionTokens),
	}
	if len(resp.Choices) == 0 {
		return "", usage, fmt.Errorf("agent: %s: chat completion returned no choices", what)
	}
	c := resp.Choices[0]
	text := strings.TrimSpace(c.Message.Content)
	if c.FinishReason == openai.FinishReasonLength {
		// Cut off at the cap: drop the unfinished last line.
		if i := strings.LastIndexByte(text, '\n'); i > 0 {
			text = strings.TrimSpace(text[:i])
		}
	}
	if text == "" {
		return "", usage, fmt.Errorf("agent: %s: the model returned no text (finish reason %q)", what, c.FinishReason)
	}
	l.logger().Info(what+" done", "bytes", len(text),
		"prompt_tokens", usage.PromptTokens, "completion_tokens", usage.CompletionTokens)
	return text, usage, nil
}
