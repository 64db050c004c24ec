package digest

import (
	"encoding/json"

	"github.com/autoresearch/autoresearch/research"
)

// NewMessage is a digest as Slack posts it: the headline in the
// channel, then in its thread the kept improvements (linked to their
// experiment messages when link gives a URL), crashes and open ideas, and
// the progress chart as a PNG file. link may be nil.
func NewMessage(d Digest, link func(research.Experiment) string) Message {
	m := Message{Text: d.Text()}
	for _, t := range d.ThreadTexts(link) {
		m.Thread = append(m.Thread, Reply{Text: t})
	}
	if len(d.Chart) > 0 {
		title := "Progress"
		if d.Tag != "" {
			title += " of run " + d.Tag
		}
		m.Thread = append(m.Thread, Reply{
			Text: title + ": every experiment's val_bpb (lower is better); kept ones labelled, the running best as a step line, crashes as red crosses.",
			File: &File{Name: "progress.png", Title: title, Content: d.Chart},
		})
	}
	return m
}

// Message is a digest as the Slack front end posts it: a channel
// message, then its thread.
type Message struct {
	Text   string          // mrkdwn; also the notification text
	Blocks json.RawMessage // optional Block Kit blocks
	Thread []Reply         // posted in the message's thread, in order
}

// Reply is one message in a digest's thread: text, a file, or both
// (the text then comments the file).
type Reply struct {
	Text string
	File *File
}

// File is a file shared in a digest's thread (e.g. the chart PNG).
type File struct {
	Name    string // e.g. "progress.png"
	Title   string
	Content []byte
}
