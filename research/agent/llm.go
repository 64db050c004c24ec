package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/autoresearch/autoresearch"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/ctxsleep"
)

// Defaults of LLMConfig / LLM.
const (
	DefaultModel        = "gpt-4.1"
	DefaultMaxTurns     = 30
	DefaultMaxTokens    = 200_000
	DefaultMaxFileBytes = 100 << 10
	DefaultHTTPTimeout  = 2 * time.Minute
)

// maxNudges is how many prose-only replies get a reminder to use the tools
// before the proposal is given up.
const maxNudges = 2

const nudgeText = "Use the tools: read_file, edit_file or write_file to change the editable files, then call finish with a one-line description. Do not answer in prose."

// LLMConfig configures NewLLM. Zero values take the defaults.
type LLMConfig struct {
	APIKey       string        // OPENAI_API_KEY
	BaseURL      string        // OPENAI_BASE_URL; "" = api.openai.com
	Model        string        // AUTORESEARCH_MODEL; default DefaultModel
	HTTPTimeout  time.Duration // per HTTP attempt, body included; default 2m
	MaxTurns     int           // model calls per proposal; default 30
	MaxTokens    int           // prompt+completion tokens per proposal; default 200k
	MaxFileBytes int           // read_file cap; default 100 KiB
	// Temperature 0 means the provider's default: go-openai omits a zero
	// temperature from the request, so "0" cannot be sent. Use a small
	// positive value (e.g. 0.01) for near-greedy sampling. Reasoning models
	// (o1/o3/o4/gpt-5) accept only 0 or 1: go-openai refuses other values
	// before sending.
	Temperature float32
	Retry       RetryPolicy
	Logger      *slog.Logger
	// Redactor hides the process's secrets in everything sent to the model
	// (prompts, crash logs, files it reads); nil: none.
	Redactor *research.Redactor
}

// ConfigFromEnv fills APIKey, BaseURL and Model from OPENAI_API_KEY,
// OPENAI_BASE_URL and AUTORESEARCH_MODEL.
func ConfigFromEnv() LLMConfig {
	return LLMConfig{
		APIKey:  os.Getenv("OPENAI_API_KEY"),
		BaseURL: os.Getenv("OPENAI_BASE_URL"),
		Model:   os.Getenv("AUTORESEARCH_MODEL"),
	}
}

// LLM proposes changes by talking to an OpenAI-compatible chat-completions
// endpoint with the tool protocol of program.md. Build it with NewLLM; the
// exported fields may be adjusted afterwards (before the first Propose).
type LLM struct {
	Model        string
	MaxTurns     int
	MaxTokens    int
	MaxFileBytes int
	Temperature  float32
	Retry        RetryPolicy
	// Sleep waits between retries; tests replace it to record the waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock Retry-After dates are measured against.
	Now    func() time.Time
	Logger *slog.Logger
	// Redactor: see LLMConfig.Redactor.
	Redactor *research.Redactor

	// History bounds the history part of the prompt and so decides when
	// old experiments are condensed into lessons; zero fields take the
	// defaults.
	History HistoryBudget

	client *openai.Client
}

var _ research.Proposer = (*LLM)(nil)

// NewLLM builds an LLM proposer. Its HTTP client has a per-attempt timeout
// (go-openai's default client has none) and retries transient failures.
func NewLLM(cfg LLMConfig) *LLM {
	l := &LLM{
		Model:        cfg.Model,
		MaxTurns:     cfg.MaxTurns,
		MaxTokens:    cfg.MaxTokens,
		MaxFileBytes: cfg.MaxFileBytes,
		Temperature:  cfg.Temperature,
		Retry:        cfg.Retry,
		Logger:       cfg.Logger,
		Redactor:     cfg.Redactor,
	}
	if l.Model == "" {
		l.Model = DefaultModel
	}
	timeout := cfg.HTTPTimeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = cfg.BaseURL
	}
	oc.HTTPClient = &retryDoer{client: &http.Client{Timeout: timeout}, llm: l}
	l.client = openai.NewClientWithConfig(oc)
	return l
}

func (l *LLM) logger() *slog.Logger {
	if l.Logger == nil {
		return discardLogger()
	}
	return l.Logger
}

func (l *LLM) sleep(ctx context.Context, d time.Duration) error {
	if l.Sleep != nil {
		return l.Sleep(ctx, d)
	}
	return ctxsleep.Sleep(ctx, d)
}

func (l *LLM) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Propose runs one tool conversation until the model finishes with a change
// the harness's Check accepts, or a bound is hit. The returned Proposal
// carries the usage so far even when an error is returned, so spent tokens
// are always accounted.
func (l *LLM) Propose(ctx context.Context, req research.ProposalRequest) (research.Proposal, error) {
	if l.client == nil {
		return research.Proposal{}, errors.New("agent: LLM not configured (use NewLLM)")
	}
	maxTurns := orDefault(l.MaxTurns, DefaultMaxTurns)
	maxTokens := orDefault(l.MaxTokens, DefaultMaxTokens)
	ws := newWorkspace(req.Dir, req.Editable, orDefault(l.MaxFileBytes, DefaultMaxFileBytes))
	log := l.logger()

	msgs := []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: autoresearch.AgentProgram},
		{Role: openai.ChatMessageRoleUser, Content: BuildPromptBudget(req, l.History)},
	}
	var usage research.Usage
	nudges := 0
	for turn := 1; turn <= maxTurns; turn++ {
		resp, err := l.client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
			Model:       l.Model,
			Messages:    l.redacted(msgs),
			Tools:       toolDefs,
			Temperature: l.Temperature,
		})
		if err != nil {
			return research.Proposal{Usage: usage}, l.callError(ctx, err)
		}
		usage = usage.Add(research.Usage{
			PromptTokens:     int64(resp.Usage.PromptTokens),
			CompletionTokens: int64(resp.Usage.CompletionTokens),
		})
		if len(resp.Choices) == 0 {
			return research.Proposal{Usage: usage}, errors.New("agent: chat completion returned no choices")
		}
		msg := resp.Choices[0].Message
		// Reasoning text is not part of the conversation protocol, and some
		// servers reject it when echoed back.
		msg.ReasoningContent = ""
		for i := range msg.ToolCalls {
			if msg.ToolCalls[i].ID == "" { // some compatible servers omit ids
				msg.ToolCalls[i].ID = fmt.Sprintf("call_%d_%d", turn, i)
			}
			if msg.ToolCalls[i].Type == "" {
				msg.ToolCalls[i].Type = openai.ToolTypeFunction
			}
		}
		msgs = append(msgs, msg)

		if len(msg.ToolCalls) == 0 {
			nudges++
			if nudges > maxNudges {
				return research.Proposal{Usage: usage}, &NoToolCallError{Replies: nudges, Last: truncate(msg.Content+msg.Refusal, 300)}
			}
			log.Info("llm replied without tool calls; nudging", "turn", turn, "reply", truncate(msg.Content, 200))
			msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: nudgeText})
		} else {
			nudges = 0
			results, desc, done := l.runTools(req, ws, msg.ToolCalls)
			if done {
				log.Info("proposal finished", "turns", turn, "description", desc,
					"prompt_tokens", usage.PromptTokens, "completion_tokens", usage.CompletionTokens)
				return research.Proposal{Description: desc, Usage: usage}, nil
			}
			msgs = append(msgs, results...)
		}

		if spent := usage.PromptTokens + usage.CompletionTokens; spent >= int64(maxTokens) {
			return research.Proposal{Usage: usage}, &BudgetError{Limit: "tokens", Turns: turn, Tokens: spent, Max: maxTokens, Usage: usage}
		}
	}
	return research.Proposal{Usage: usage}, &BudgetError{
		Limit: "turns", Turns: maxTurns, Tokens: usage.PromptTokens + usage.CompletionTokens, Max: maxTurns, Usage: usage,
	}
}

// callError classifies a failed chat-completion call. Transient failures
// come back from retryDoer as *UnavailableError already; anything else
// (400, 401, 404, an undecodable body) is returned at once.
func (l *LLM) callError(ctx context.Context, err error) error {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue
	}
	if ctx.Err() != nil {
		return fmt.Errorf("agent: llm call canceled: %w", ctx.Err())
	}
	return fmt.Errorf("agent: llm call failed: %w", err)
}

// runTools executes one reply's tool calls and returns their tool messages.
// finish is handled after the other calls of the same reply, so edits made
// alongside it are in place when Check runs.
func (l *LLM) runTools(req research.ProposalRequest, ws *workspace, calls []openai.ToolCall) (results []openai.ChatCompletionMessage, desc string, done bool) {
	log := l.logger()
	out := make([]string, len(calls))
	finishAt, failed := -1, 0
	for i, c := range calls {
		if c.Function.Name == toolFinish {
			if finishAt >= 0 {
				out[i] = "error: only one finish per reply; this one was ignored"
			} else {
				finishAt = i
			}
			continue
		}
		res, err := dispatch(ws, c.Function.Name, c.Function.Arguments)
		if err != nil {
			res = "error: " + err.Error()
			failed++
			log.Info("tool refused", "tool", c.Function.Name, "err", err)
		} else {
			log.Debug("tool ok", "tool", c.Function.Name, "result", truncate(res, 120))
		}
		out[i] = res
	}
	if finishAt >= 0 {
		d, err := parseFinish(calls[finishAt].Function.Arguments)
		switch {
		case err != nil:
			out[finishAt] = "error: " + err.Error()
		case failed > 0:
			// The model batched edits with finish; shipping the files after
			// a failed edit would train a change it did not mean.
			out[finishAt] = fmt.Sprintf("error: not finished: %d other call(s) in this reply failed; fix them, then call finish again", failed)
		case req.Check != nil:
			if cerr := req.Check(); cerr != nil {
				log.Info("finish refused by check", "err", cerr)
				out[finishAt] = "refused: " + cerr.Error() + "\nFix the files and call finish again."
				break
			}
			return nil, d, true
		default:
			return nil, d, true
		}
	}
	for i, c := range calls {
		results = append(results, openai.ChatCompletionMessage{
			Role: openai.ChatMessageRoleTool, ToolCallID: c.ID, Content: out[i],
		})
	}
	return results, "", false
}

// dispatch runs one non-finish tool. Errors are for the model to read.
func dispatch(ws *workspace, name, args string) (string, error) {
	switch name {
	case toolRead:
		return ws.readFile(args)
	case toolEdit:
		return ws.editFile(args)
	case toolWrite:
		return ws.writeFile(args)
	default:
		return "", refusef("unknown tool %q; the tools are read_file, edit_file, write_file and finish", name)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// redacted returns msgs with the process's secrets hidden in every text the
// model would see. msgs itself is left as is (it is the conversation).
func (l *LLM) redacted(msgs []openai.ChatCompletionMessage) []openai.ChatCompletionMessage {
	if l.Redactor == nil {
		return msgs
	}
	out := make([]openai.ChatCompletionMessage, len(msgs))
	for i, m := range msgs {
		m.Content = l.Redactor.Redact(m.Content)
		if len(m.MultiContent) > 0 {
			parts := make([]openai.ChatMessagePart, len(m.MultiContent))
			for j, p := range m.MultiContent {
				p.Text = l.Redactor.Redact(p.Text)
				parts[j] = p
			}
			m.MultiContent = parts
		}
		out[i] = m
	}
	return out
}
