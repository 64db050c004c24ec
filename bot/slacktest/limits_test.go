package slacktest

import (
	"net/url"
	"strings"
	"testing"
)

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
		got := strings.Join(PayloadProblems("chat.postMessage", c.form, nil), "; ")
		if !strings.Contains(got, c.problem) {
			t.Errorf("%s: problems %q, want %q", c.name, got, c.problem)
		}
	}
	ok := url.Values{"text": {"<@U123> kept #3 &lt;0.99&gt; <https://x.slack.com/archives/C1/p1|view>\n> quoted"},
		"blocks": {`[{"type":"section","text":{"type":"mrkdwn","text":"*#3* &amp; <@U1>"}}]`}}
	if p := PayloadProblems("chat.postMessage", ok, nil); len(p) > 0 {
		t.Errorf("a good payload has problems: %v", p)
	}
}
