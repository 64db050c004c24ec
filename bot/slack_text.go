package bot

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
)

// Everything the bot says in Slack is text someone else may have written:
// a model's description, a training log, a person's idea. In Slack's
// markup, `<` starts a mention or a link (`<!channel>`, `<@U1>`,
// `<https://x|label>`) and a bare `@channel` can be turned into one, so such
// text is escaped here, and only here, before it reaches a message's `text`,
// its mrkdwn blocks or a file name. The mentions and links the bot means to
// make are built with userMention, channelRef and slackLink.

// wordJoiner is invisible and keeps "@" from starting a broadcast word.
const wordJoiner = "\u2060"

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// broadcastWord matches @channel, @here and @everyone as words, which some
// clients and `link_names` turn into a ping.
var broadcastWord = regexp.MustCompile(`(?i)@(channel|here|everyone)\b`)

// escapeText makes text from anyone safe in `text` and mrkdwn: &, < and >
// are escaped as Slack asks, so no mention or link can be formed, and bare
// @channel/@here/@everyone words get an invisible joiner after the @.
func escapeText(s string) string {
	return neutralizeBroadcastWords(slackEscaper.Replace(s))
}

// plainText is escapeText for a one-line `text` fallback (the notification
// line): one line, escaped.
func plainText(s string) string { return escapeText(oneLine(s)) }

func neutralizeBroadcastWords(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return broadcastWord.ReplaceAllStringFunc(s, func(w string) string {
		return "@" + wordJoiner + w[1:]
	})
}

// decodeSlackText undoes Slack's entity encoding of inbound text (messages,
// slash commands): it is decoded once, on the way in, so that stored ideas
// and program.md hold what the person typed.
func decodeSlackText(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// userMention is a mention the bot means to make, of a Slack user ID.
// Anything that is not a user ID is shown escaped, as text.
func userMention(id string) string {
	if isSlackID(id, "UW") {
		return "<@" + id + ">"
	}
	return escapeText(id)
}

// channelRef links a channel by its ID.
func channelRef(id string) string {
	if isSlackID(id, "CG") {
		return "<#" + id + ">"
	}
	return escapeText(id)
}

// slackLink is a link the bot means to make: url must be http(s) and is
// cut at the characters that would end the link markup; the label is
// escaped. A bad url leaves the label alone.
func slackLink(url, label string) string {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") ||
		strings.ContainsAny(url, "<>| \n\t") {
		return escapeText(label)
	}
	return "<" + strings.ReplaceAll(url, "&", "&amp;") + "|" + escapeText(label) + ">"
}

// isSlackID says whether id looks like a Slack ID starting with one of the
// prefixes: upper-case letters and digits only.
func isSlackID(id, prefixes string) bool {
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

// safeFilename makes a name for an uploaded file: letters, digits, '.',
// '-' and '_' only, no leading dot, at most 80 bytes; "file.txt" when
// nothing is left.
func safeFilename(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)), r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), "._")
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	if s == "" {
		return "file.txt"
	}
	return s
}

// specialMention matches the broadcast mentions the bot never makes:
// <!channel>, <!here>, <!everyone>, <!subteam^ID> (with or without a label).
var specialMention = regexp.MustCompile(`(?i)<!(channel|here|everyone|subteam\^)[^<>]*>?`)

// guardText is the last check on every string sent to Slack (see
// safeSlackAPI): secrets are redacted, and a broadcast mention that got
// past escaping (a bug, or a string built without escapeText) is defused.
func guardText(s string, redact func(string) string) string {
	if redact != nil {
		s = redact(s)
	}
	if strings.Contains(s, "<!") {
		s = specialMention.ReplaceAllStringFunc(s, func(m string) string {
			return "&lt;" + strings.ReplaceAll(m[1:], ">", "&gt;")
		})
	}
	return neutralizeBroadcastWords(s)
}

// guardJSON applies guardText to every string value in Block Kit (or view)
// JSON. JSON that does not parse is returned as is: Slack refuses it anyway.
func guardJSON(raw json.RawMessage, redact func(string) string) json.RawMessage {
	return mapJSONStrings(raw, func(s string) string { return guardText(s, redact) })
}

// redactJSON only redacts the strings of raw.
func redactJSON(raw json.RawMessage, redact func(string) string) json.RawMessage {
	return mapJSONStrings(raw, redact)
}

// mapJSONStrings applies f to every string value (not key) in raw.
func mapJSONStrings(raw json.RawMessage, f func(string) string) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return f(x)
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	return blocksJSONValue(walk(v))
}
