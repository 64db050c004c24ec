package bot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Slack's documented limits on what a message or view may hold. The fake
// Web API checks every payload it receives against them, so any test that
// drives the adapter also proves its payloads would be accepted.
const (
	limitMessageBlocks = 50
	limitViewBlocks    = 100
	limitSectionText   = 3000
	limitHeaderText    = 150
	limitContextElems  = 10
	limitButtonText    = 75
	limitID            = 255
	limitMessageText   = 40000
)

// slackToken is markup the bot builds on purpose: user, channel and group
// mentions, links; anything else in angle brackets is unescaped text.
var slackToken = regexp.MustCompile(`<(@[UW][A-Z0-9]+|#C[A-Z0-9]+(\|[^<>]*)?|https?://[^<>|\s]+(\|[^<>]*)?|mailto:[^<>|\s]+(\|[^<>]*)?)>`)

// entity is an escape Slack understands in mrkdwn and text.
var entity = regexp.MustCompile(`&(amp|lt|gt);`)

// blockquote is mrkdwn's quote marker at the start of a line.
var blockquote = regexp.MustCompile(`(?m)^> `)

// textProblems checks one mrkdwn or fallback text: no raw '<', '>' or '&'
// outside what the bot built, and no broadcast mentions at all.
func textProblems(where, s string) []string {
	var out []string
	rest := slackToken.ReplaceAllString(s, "")
	rest = entity.ReplaceAllString(rest, "")
	rest = blockquote.ReplaceAllString(rest, "")
	if strings.ContainsAny(rest, "<>&") {
		i := strings.IndexAny(rest, "<>&")
		out = append(out, fmt.Sprintf("%s has unescaped markup near %q", where, rest[max(0, i-20):min(len(rest), i+20)]))
	}
	for _, m := range []string{"<!channel>", "<!here>", "<!everyone>", "<!subteam^"} {
		if strings.Contains(s, m) {
			out = append(out, fmt.Sprintf("%s pings %s", where, m))
		}
	}
	return out
}

// blocksProblems checks a block list against Slack's limits.
func blocksProblems(raw string, maxBlocks int) []string {
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return []string{"blocks are not a JSON array: " + err.Error()}
	}
	var out []string
	if len(blocks) > maxBlocks {
		out = append(out, fmt.Sprintf("%d blocks (limit %d)", len(blocks), maxBlocks))
	}
	ids := map[string]bool{}
	id := func(kind, v string) {
		if v == "" {
			return
		}
		if len(v) > limitID {
			out = append(out, fmt.Sprintf("%s %q longer than %d", kind, v[:40], limitID))
		}
		if ids[kind+v] {
			out = append(out, fmt.Sprintf("%s %q not unique", kind, v))
		}
		ids[kind+v] = true
	}
	textOf := func(v any) (string, string) {
		m, _ := v.(map[string]any)
		s, _ := m["text"].(string)
		typ, _ := m["type"].(string)
		return s, typ
	}
	for n, b := range blocks {
		where := fmt.Sprintf("block %d (%v)", n, b["type"])
		bid, _ := b["block_id"].(string)
		id("block_id", bid)
		switch b["type"] {
		case "header":
			if s, _ := textOf(b["text"]); utf8.RuneCountInString(s) > limitHeaderText {
				out = append(out, fmt.Sprintf("%s text is %d chars (limit %d)", where, utf8.RuneCountInString(s), limitHeaderText))
			}
		case "section":
			if s, typ := textOf(b["text"]); s != "" {
				if utf8.RuneCountInString(s) > limitSectionText {
					out = append(out, fmt.Sprintf("%s text is %d chars (limit %d)", where, utf8.RuneCountInString(s), limitSectionText))
				}
				if typ == "mrkdwn" {
					out = append(out, textProblems(where, s)...)
				}
			}
		case "context":
			elems, _ := b["elements"].([]any)
			if len(elems) > limitContextElems {
				out = append(out, fmt.Sprintf("%s has %d elements (limit %d)", where, len(elems), limitContextElems))
			}
			for _, e := range elems {
				if s, typ := textOf(e); typ == "mrkdwn" {
					out = append(out, textProblems(where, s)...)
				}
			}
		case "actions":
			elems, _ := b["elements"].([]any)
			for _, e := range elems {
				m, _ := e.(map[string]any)
				aid, _ := m["action_id"].(string)
				id("action_id", aid)
				if s, _ := textOf(m["text"]); utf8.RuneCountInString(s) > limitButtonText {
					out = append(out, fmt.Sprintf("%s button text is %d chars (limit %d)", where, utf8.RuneCountInString(s), limitButtonText))
				}
			}
		}
	}
	return out
}

// payloadProblems checks what a Web API call carries, for the methods that
// post what people read.
func payloadProblems(method string, form url.Values, js map[string]any) []string {
	get := func(k string) string {
		if form != nil {
			return form.Get(k)
		}
		switch v := js[k].(type) {
		case string:
			return v
		case nil:
			return ""
		default:
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	var out []string
	switch method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral", "response_url":
		text, blocks := get("text"), get("blocks")
		if strings.TrimSpace(text) == "" {
			out = append(out, "no text fallback (notifications and screen readers show it)")
		}
		if utf8.RuneCountInString(text) > limitMessageText {
			out = append(out, fmt.Sprintf("text is %d chars", utf8.RuneCountInString(text)))
		}
		out = append(out, textProblems("text", text)...)
		if blocks != "" && blocks != "null" {
			out = append(out, blocksProblems(blocks, limitMessageBlocks)...)
		}
	case "views.open", "views.update", "views.publish", "views.push":
		var view map[string]any
		if err := json.Unmarshal([]byte(get("view")), &view); err != nil {
			return []string{"view is not JSON: " + err.Error()}
		}
		b, _ := json.Marshal(view["blocks"])
		out = append(out, blocksProblems(string(b), limitViewBlocks)...)
	}
	return out
}

func TestPayloadLimitsCatchWhatSlackWouldRefuse(t *testing.T) {
	many := make([]string, 51)
	for i := range many {
		many[i] = `{"type":"divider"}`
	}
	cases := []struct {
		name    string
		form    url.Values
		problem string
	}{
		{"no fallback", url.Values{"blocks": {`[]`}}, "no text fallback"},
		{"raw angle bracket", url.Values{"text": {"LR < 0.04"}}, "unescaped markup"},
		{"raw ampersand", url.Values{"text": {"a & b"}}, "unescaped markup"},
		{"arrow mid-line", url.Values{"text": {"depth 8 -> 12"}}, "unescaped markup"},
		{"channel ping", url.Values{"text": {"<!channel> look"}}, "pings <!channel>"},
		{"too many blocks", url.Values{"text": {"x"}, "blocks": {"[" + strings.Join(many, ",") + "]"}}, "51 blocks"},
		{"long header", url.Values{"text": {"x"}, "blocks": {`[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}]`}}, "limit 150"},
		{"duplicate action", url.Values{"text": {"x"}, "blocks": {`[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"A"}},{"type":"button","action_id":"a","text":{"type":"plain_text","text":"B"}}]}]`}}, "not unique"},
	}
	for _, c := range cases {
		got := strings.Join(payloadProblems("chat.postMessage", c.form, nil), "; ")
		if !strings.Contains(got, c.problem) {
			t.Errorf("%s: problems %q, want %q", c.name, got, c.problem)
		}
	}
	ok := url.Values{"text": {"<@U123> kept #3 &lt;0.99&gt; <https://x.slack.com/archives/C1/p1|view>\n> quoted"},
		"blocks": {`[{"type":"section","text":{"type":"mrkdwn","text":"*#3* &amp; <@U1>"}}]`}}
	if p := payloadProblems("chat.postMessage", ok, nil); len(p) > 0 {
		t.Errorf("a good payload has problems: %v", p)
	}
}
