package research

import (
	"context"
	"fmt"
	"time"
)

// spent is what the run's LLM calls cost so far, failed ones and
// condensing included, as the store recorded them (this process's own count
// when the store cannot be read).
func (s *session) spent() (Usage, float64) {
	var u Usage
	p, c, err := s.m.Store.LLMTokens(context.Background(), s.snapshotRun().ID, time.Time{}, time.Time{})
	if err == nil {
		u = Usage{p, c}
	}
	s.mu.Lock()
	if s.usage.PromptTokens+s.usage.CompletionTokens > u.PromptTokens+u.CompletionTokens {
		u = s.usage
	}
	s.mu.Unlock()
	cost := 0.0
	if s.m.Config.CostOf != nil {
		cost = s.m.Config.CostOf(u)
	}
	return u, cost
}

// checkBudget warns at 80% of the run's LLM budget and pauses at 100%.
func (s *session) checkBudget() {
	cfg := s.m.Config
	if cfg.TokenBudget <= 0 && cfg.CostBudget <= 0 {
		return
	}
	u, cost := s.spent()
	frac, what := 0.0, ""
	if cfg.TokenBudget > 0 {
		frac = float64(u.PromptTokens+u.CompletionTokens) / float64(cfg.TokenBudget)
		what = fmt.Sprintf("%d of %d LLM tokens", u.PromptTokens+u.CompletionTokens, cfg.TokenBudget)
	}
	if cfg.CostBudget > 0 && cfg.CostOf != nil {
		if f := cost / cfg.CostBudget; f > frac {
			frac, what = f, fmt.Sprintf("$%.2f of the $%.2f LLM budget", cost, cfg.CostBudget)
		}
	}
	switch {
	case frac >= 1:
		_ = s.pause(fmt.Sprintf("the run's LLM budget is spent (%s); raise it and resume", what))
	case frac >= 0.8:
		s.mu.Lock()
		warned := s.budgetWarned
		s.budgetWarned = true
		s.mu.Unlock()
		if !warned {
			s.m.emit(Event{Kind: EventNotice, Run: s.snapshotRun(), Text: fmt.Sprintf("80%% of the LLM budget used: %s", what)})
		}
	}
}
