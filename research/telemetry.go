package research

import (
	"context"
	"errors"
	"fmt"
)

// preflight checks the GPU before an experiment. A refusal pauses the run
// with the reason (a foreign process would make the result incomparable);
// a warn-only finding is told and the experiment goes ahead.
func (s *session) preflight(sl *slot) error {
	m := s.m
	if m.GPU == nil || sl.GPU < 0 {
		return nil
	}
	err := m.GPU.Preflight(s.ctx, sl.GPU)
	if err == nil {
		return nil
	}
	var pe *PreflightError
	if errors.As(err, &pe) && pe.WarnOnly {
		m.emit(Event{Kind: EventNotice, Run: s.snapshotRun(), Text: "GPU warning: " + pe.Error()})
		return nil
	}
	if s.ctx.Err() != nil {
		return s.ctx.Err()
	}
	if perr := s.pause(fmt.Sprintf("paused before the next experiment on %s: %v", sl.Name, err)); perr != nil {
		return perr
	}
	return err
}

// watchGPU samples the experiment's GPU while it trains.
func (s *session) watchGPU(sl *slot) func() *Telemetry {
	m := s.m
	if m.GPU == nil || sl.GPU < 0 {
		return func() *Telemetry { return nil }
	}
	stop := m.GPU.Watch(s.ctx, sl.GPU, m.Config.GPUSampleEvery)
	return func() *Telemetry {
		t := stop()
		if t.Samples == 0 {
			return nil
		}
		return &t
	}
}

func (s *session) saveTelemetry(e Experiment, t *Telemetry) {
	if t == nil {
		return
	}
	if err := s.m.Store.SaveTelemetry(context.Background(), e.ID, *t); err != nil {
		s.m.logger().Error("recording GPU telemetry", "number", e.Number, "err", err)
	}
}
