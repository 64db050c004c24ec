package slack

import (
	"fmt"
	"strings"

	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
)

// RefusalError is a request the bot will not carry out, with the reason in
// words for the person who made it.
type RefusalError struct {
	User   string
	Reason string
}

func (e *RefusalError) Error() string { return e.Reason }

// authorizer decides who may do what, and where.
type authorizer struct {
	channel string
	admins  map[string]bool // empty: everyone may steer
}

func newAuthorizer(channel string, admins []string) authorizer {
	a := authorizer{channel: channel, admins: map[string]bool{}}
	for _, u := range admins {
		if u = strings.TrimSpace(u); u != "" {
			a.admins[u] = true
		}
	}
	return a
}

// inChannel refuses commands given outside the bot's channel: what the loop
// does is announced there, so it is where it is steered from.
func (a authorizer) inChannel(user, channel string) error {
	if channel == a.channel {
		return nil
	}
	return &RefusalError{User: user, Reason: "I only take commands in " + mrkdwn.ChannelRef(a.channel) + ": please ask there."}
}

// maySteer refuses state changes and ideas from people who are not admins,
// when admins are configured.
func (a authorizer) maySteer(user, what string) error {
	if len(a.admins) == 0 || a.admins[user] {
		return nil
	}
	return &RefusalError{User: user, Reason: fmt.Sprintf(
		"Sorry, only the run's admins can %s. Read-only commands (status, results, ideas, show, log, help) are open to everyone; ask an admin (%s) to do it.",
		what, a.adminList())}
}

func (a authorizer) adminList() string {
	var l []string
	for u := range a.admins {
		l = append(l, mrkdwn.UserMention(u))
	}
	sortStrings(l)
	return strings.Join(l, ", ")
}
