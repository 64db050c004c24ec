package bot

import (
	"context"

	"github.com/autoresearch/autoresearch/research"
)

// NewDigestMessage is a digest as Slack posts it: the headline in the
// channel, then in its thread the kept improvements (linked to their
// experiment messages when link gives a URL), crashes and open ideas, and
// the progress chart as a PNG file. link may be nil.
func NewDigestMessage(d Digest, link func(research.Experiment) string) DigestMessage {
	m := DigestMessage{Text: d.Text()}
	for _, t := range d.ThreadTexts(link) {
		m.Thread = append(m.Thread, DigestReply{Text: t})
	}
	if len(d.Chart) > 0 {
		title := "Progress"
		if d.Tag != "" {
			title += " of run " + d.Tag
		}
		m.Thread = append(m.Thread, DigestReply{
			Text: title + ": every experiment's val_bpb (lower is better); kept ones labelled, the running best as a step line, crashes as red crosses.",
			File: &DigestFile{Name: "progress.png", Title: title, Content: d.Chart},
		})
	}
	return m
}

// ExperimentLink returns a function giving the permalink of an
// experiment's message in the channel ("" while it is not sent, or when the
// workspace URL is unknown), for NewDigestMessage.
func (s *Slack) ExperimentLink(ctx context.Context) func(research.Experiment) string {
	return func(e research.Experiment) string {
		ts, err := s.out.SentTS(ctx, expKey(e))
		if err != nil {
			return ""
		}
		return permalink(s.teamURL(), s.cfg.Channel, ts)
	}
}
