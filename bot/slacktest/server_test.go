package slacktest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func post(t *testing.T, f *Server, method string, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := http.PostForm(f.APIURL()+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// Posts get increasing timestamps, scripted answers come first and are
// recorded with their status, and a payload check fails the test it runs in.
func TestServerAnswersAndRecords(t *testing.T) {
	f := New(t)
	var checked []string
	f.Check = func(method string, form url.Values, _ map[string]any) []string {
		checked = append(checked, method+" "+form.Get("text"))
		return nil
	}
	f.On("chat.postMessage", http.StatusTooManyRequests, `{"ok":false,"error":"ratelimited"}`, "Retry-After", "1")
	status, _, h := post(t, f, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"first"}})
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "1" {
		t.Fatalf("scripted answer: %d %v", status, h)
	}
	_, body, _ := post(t, f, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"second"}})
	if !strings.Contains(body, `"ts":"1700000000.000001"`) {
		t.Fatalf("default answer = %s", body)
	}
	c := f.WaitPost("second")
	if c.TS != "1700000000.000001" || c.Status != http.StatusOK || c.Text() != "second" {
		t.Fatalf("recorded %+v", c)
	}
	if got := f.CallsTo("chat.postMessage"); len(got) != 2 || got[0].Status != http.StatusTooManyRequests {
		t.Fatalf("calls = %+v", got)
	}
	if strings.Join(checked, ",") != "chat.postMessage first,chat.postMessage second" {
		t.Fatalf("checked %q", checked)
	}
	f.SetAuthError("invalid_auth")
	if _, body, _ := post(t, f, "auth.test", nil); !strings.Contains(body, "invalid_auth") {
		t.Fatalf("auth.test = %s", body)
	}
}
