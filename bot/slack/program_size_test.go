package slack

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A 3.9 MB program.md submitted through the modal is refused while the
// modal is open, with the size and the limit; nothing reaches the loop.
func TestHugeProgramModalSubmissionRefused(t *testing.T) {
	h := newHTTPHarness(t, "UALICE")
	view, err := programView(h.ctrl.program)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PrivateMetadata string `json:"private_metadata"`
	}
	_ = json.Unmarshal(view, &v)
	huge := strings.Repeat("lorem ipsum ", 3_900_000/12)
	payload, _ := json.Marshal(map[string]any{"type": "view_submission", "user": map[string]any{"id": "UALICE"},
		"view": map[string]any{"callback_id": "program_edit", "private_metadata": v.PrivateMetadata,
			"state": map[string]any{"values": map[string]any{"program_0": map[string]any{"text": map[string]any{"value": huge}}}}}})
	resp, body := h.do("/slack/interactive", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode()), "secret", h.now)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`"response_action":"errors"`, "3.7 MB", "64 KB", "--program-max-bytes", "nothing was changed"} {
		if !strings.Contains(body, want) {
			t.Errorf("refusal lacks %q: %s", want, body)
		}
	}
	h.s.tasks.Wait()
	if len(h.ctrl.edits) != 0 {
		t.Fatalf("the huge edit reached the loop: %d edits", len(h.ctrl.edits))
	}
}
