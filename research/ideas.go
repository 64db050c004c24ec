package research

import "context"

// Ideas are handed out one proposal at a time (Config.IdeasPerProposal,
// oldest first), so each idea is credited only to the experiment whose
// proposal was given it. An idea given to a proposal that has not started
// yet (prepared ahead, or waiting for a slot) is held, so the next proposal
// does not take it too; when that proposal starts, the store consumes the
// idea, and when it is dropped the idea is free again.

// nextIdeas returns the open ideas for the next proposal.
func (s *session) nextIdeas(ctx context.Context) ([]Idea, error) {
	open, err := s.m.Store.OpenIdeas(ctx)
	if err != nil {
		return nil, err
	}
	limit := s.m.Config.IdeasPerProposal
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Idea
	for _, i := range open {
		if len(out) == limit {
			break
		}
		if !s.heldIdeas[i.ID] {
			out = append(out, i)
		}
	}
	return out, nil
}

func (s *session) holdIdeas(ideas []Idea) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heldIdeas == nil {
		s.heldIdeas = map[int64]bool{}
	}
	for _, i := range ideas {
		s.heldIdeas[i.ID] = true
	}
}

func (s *session) releaseIdeas(ideas []Idea) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range ideas {
		delete(s.heldIdeas, i.ID)
	}
}
