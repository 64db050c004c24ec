package slacktest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Slack's documented limits on what a message or view may hold. A test
// that sets Server.Check to PayloadProblems has the fake Web API check
// every payload it receives against them, so any test that drives the
// adapter also proves its payloads would be accepted.
const (
	LimitMessageBlocks = 50
	LimitViewBlocks    = 100
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

// TextProblems checks one mrkdwn or fallback text: no raw '<', '>' or '&'
// outside what the bot built, and no broadcast mentions at all.
func TextProblems(where, s string) []string {
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

// BlocksProblems checks a block list against Slack's limits.
func BlocksProblems(raw string, maxBlocks int) []string {
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
					out = append(out, TextProblems(where, s)...)
				}
			}
		case "context":
			elems, _ := b["elements"].([]any)
			if len(elems) > limitContextElems {
				out = append(out, fmt.Sprintf("%s has %d elements (limit %d)", where, len(elems), limitContextElems))
			}
			for _, e := range elems {
				if s, typ := textOf(e); typ == "mrkdwn" {
					out = append(out, TextProblems(where, s)...)
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

// PayloadProblems checks what a Web API call carries, for the methods that
// post what people read.
func PayloadProblems(method string, form url.Values, js map[string]any) []string {
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
		out = append(out, TextProblems("text", text)...)
		if blocks != "" && blocks != "null" {
			out = append(out, BlocksProblems(blocks, LimitMessageBlocks)...)
		}
	case "views.open", "views.update", "views.publish", "views.push":
		var view map[string]any
		if err := json.Unmarshal([]byte(get("view")), &view); err != nil {
			return []string{"view is not JSON: " + err.Error()}
		}
		b, _ := json.Marshal(view["blocks"])
		out = append(out, BlocksProblems(string(b), LimitViewBlocks)...)
	}
	return out
}
