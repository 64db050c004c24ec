package agent

import (
	"errors"
	"fmt"

	"github.com/autoresearch/autoresearch/research"
)

// ErrBudget matches (errors.Is) a *BudgetError: the proposal used up its
// turns or tokens without finishing.
var ErrBudget = errors.New("agent: proposal budget exhausted")

// BudgetError reports which bound stopped the conversation and what it cost.
type BudgetError struct {
	Limit  string // "turns" or "tokens"
	Turns  int    // model calls made
	Tokens int64  // prompt + completion tokens spent
	Max    int    // the bound that was hit
	Usage  research.Usage
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("agent: proposal budget exhausted: %s limit %d reached (%d turns, %d tokens) without finish",
		e.Limit, e.Max, e.Turns, e.Tokens)
}

// Is makes errors.Is(err, ErrBudget) hold.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget }

// ErrNoToolCalls matches a *NoToolCallError: the model kept answering in
// prose after being told to use the tools.
var ErrNoToolCalls = errors.New("agent: model does not call tools")

// NoToolCallError carries the model's last prose reply.
type NoToolCallError struct {
	Replies int    // consecutive replies without a tool call
	Last    string // the last one (truncated)
}

func (e *NoToolCallError) Error() string {
	return fmt.Sprintf("agent: model answered %d times without calling a tool; last reply: %q", e.Replies, e.Last)
}

// Is makes errors.Is(err, ErrNoToolCalls) hold.
func (e *NoToolCallError) Is(target error) bool { return target == ErrNoToolCalls }
