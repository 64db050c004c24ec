package slack

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode"

	"github.com/autoresearch/autoresearch/bot/slack/mrkdwn"
)

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
	return mrkdwn.NeutralizeBroadcastWords(s)
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
