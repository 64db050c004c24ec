package research

import (
	"context"
	"errors"
	"sync"
)

// errStoppedEarly is the cause of a training context cancelled by early
// stopping, so it is never mistaken for a stop or a shutdown.
var errStoppedEarly = errors.New("stopped early: the loss curve is worse than the best's")

// lossWatch follows one training's loss curve and, when the candidate may be
// stopped early, cancels the training's context once EarlyStop.Decide says so.
// Its methods are safe on a nil watch and from the trainer's goroutine.
type lossWatch struct {
	policy EarlyStop
	best   BestCurve // the best curve when the training started
	noise  float64
	decide bool // this candidate may be stopped early
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	curve    []CurvePoint
	decision *StopDecision // set once the training was stopped early
}

// watchLoss starts following a training of c: it returns the context the
// trainer runs under (cancelled by an early stop) and the watch. Only the
// proposer's changes are stopped early: baselines set the reference,
// confirmations and retries exist to be trained fully (`retry N` of an
// experiment stopped early trains it to the end).
func (s *session) watchLoss(c *candidate) (context.Context, *lossWatch) {
	s.mu.Lock()
	w := &lossWatch{policy: s.m.Config.EarlyStop, best: s.bestCurve, noise: s.run.Noise}
	s.mu.Unlock()
	w.decide = w.policy.Enabled && c.fromProposer() && len(w.best.Points) > 0
	if !w.decide {
		return s.ctx, w
	}
	ctx, cancel := context.WithCancelCause(s.ctx)
	w.cancel = cancel
	return ctx, w
}

// observe takes one progress line.
func (w *lossWatch) observe(p Progress) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var ok bool
	if w.curve, ok = addPoint(w.curve, p); !ok || !w.decide || w.decision != nil {
		return
	}
	if d := w.policy.Decide(w.best, w.curve, w.noise); d.Stop {
		w.decision = &d
		w.cancel(errStoppedEarly) // the trainer ends the whole process tree
	}
}

// finish releases the training's context and returns the curve and, when
// early stopping ended the training, the experiment's reason.
func (w *lossWatch) finish() (curve []CurvePoint, stoppedEarly string) {
	if w == nil {
		return nil, ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		w.cancel(nil)
	}
	if w.decision != nil {
		stoppedEarly = w.decision.Reason(w.best.Number)
	}
	return w.curve, stoppedEarly
}

// noteBestCurve makes e's curve the best one when e was kept (every keep
// is the new best; called under s.mu); the caller saves the returned curve
// after unlocking.
func (s *session) noteBestCurve(e Experiment, run Run, curve []CurvePoint) *BestCurve {
	if e.Status != StatusKeep {
		return nil
	}
	// A best without a curve (train.py printed no percent) clears the old
	// one: comparing with another experiment's curve would be wrong.
	s.bestCurve = BestCurve{RunID: run.ID, Number: e.Number, ValBPB: e.Summary.ValBPB, Points: curve}
	saved := s.bestCurve
	return &saved
}

// saveBestCurve records c so that a restart keeps it.
func (s *session) saveBestCurve(c *BestCurve) {
	if c == nil {
		return
	}
	if err := s.m.Store.SaveBestCurve(context.Background(), *c); err != nil {
		s.m.logger().Warn("recording the best loss curve", "err", err)
	}
}

// restoreBestCurve reads the best curve a previous process recorded.
func (s *session) restoreBestCurve() {
	c, err := s.m.Store.BestCurve(context.Background(), s.run.ID)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.m.logger().Warn("reading the best loss curve", "err", err)
		}
		return
	}
	s.bestCurve = c
}
