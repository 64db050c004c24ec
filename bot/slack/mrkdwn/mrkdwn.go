package mrkdwn

import (
	"regexp"
	"strings"

	"github.com/autoresearch/autoresearch/research"
)

// Everything the bot says in Slack is text someone else may have written:
// a model's description, a training log, a person's idea. In Slack's
// markup, `<` starts a mention or a link (`<!channel>`, `<@U1>`,
// `<https://x|label>`) and a bare `@channel` can be turned into one, so such
// text is escaped here, and only here, before it reaches a message's `text`,
// its mrkdwn blocks or a file name. The mentions and links the bot means to
// make are built with UserMention, ChannelRef and Link.

// wordJoiner is invisible and keeps "@" from starting a broadcast word.
const wordJoiner = "\u2060"

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// broadcastWord matches @channel, @here and @everyone as words, which some
// clients and `link_names` turn into a ping.
var broadcastWord = regexp.MustCompile(`(?i)@(channel|here|everyone)\b`)

// Escape makes text from anyone safe in `text` and mrkdwn: &, < and >
// are escaped as Slack asks, so no mention or link can be formed, and bare
// @channel/@here/@everyone words get an invisible joiner after the @.
func Escape(s string) string {
	return NeutralizeBroadcastWords(slackEscaper.Replace(s))
}

// Plain is Escape for a one-line `text` fallback (the notification
// line): one line, escaped.
func Plain(s string) string { return Escape(research.OneLine(s)) }

// NeutralizeBroadcastWords puts an invisible joiner after the @ of
// @channel, @here and @everyone, so no client turns them into a ping.
func NeutralizeBroadcastWords(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return broadcastWord.ReplaceAllStringFunc(s, func(w string) string {
		return "@" + wordJoiner + w[1:]
	})
}

// Decode undoes Slack's entity encoding of inbound text (messages,
// slash commands): it is decoded once, on the way in, so that stored ideas
// and program.md hold what the person typed.
func Decode(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// UserMention is a mention the bot means to make, of a Slack user ID.
// Anything that is not a user ID is shown escaped, as text.
func UserMention(id string) string {
	if IsID(id, "UW") {
		return "<@" + id + ">"
	}
	return Escape(id)
}

// ChannelRef links a channel by its ID.
func ChannelRef(id string) string {
	if IsID(id, "CG") {
		return "<#" + id + ">"
	}
	return Escape(id)
}

// Link is a link the bot means to make: url must be http(s) and is
// cut at the characters that would end the link markup; the label is
// escaped. A bad url leaves the label alone.
func Link(url, label string) string {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") ||
		strings.ContainsAny(url, "<>| \n\t") {
		return Escape(label)
	}
	return "<" + strings.ReplaceAll(url, "&", "&amp;") + "|" + Escape(label) + ">"
}

// IsID says whether id looks like a Slack ID starting with one of the
// prefixes: upper-case letters and digits only.
func IsID(id, prefixes string) bool {
	if len(id) < 2 || len(id) > 24 || !strings.ContainsRune(prefixes, rune(id[0])) {
		return false
	}
	for _, r := range id {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
