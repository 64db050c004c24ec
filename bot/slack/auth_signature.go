package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// signatureWindow is how old (or how far in the future) a signed request
// may be: Slack's recommendation, and what keeps a captured request from
// being replayed later.
const signatureWindow = 5 * time.Minute

// SignatureError says why a request does not come from Slack. It is logged;
// the requester only gets a bare 401.
type SignatureError struct{ Reason string }

func (e *SignatureError) Error() string { return "slack signature: " + e.Reason }

// verifySignature checks Slack's request signature: v0=HMAC-SHA256 of
// "v0:<timestamp>:<body>" with the signing secret, and the timestamp's age.
func verifySignature(secret string, h http.Header, body []byte, now time.Time) error {
	tsText := h.Get("X-Slack-Request-Timestamp")
	sig := h.Get("X-Slack-Signature")
	if tsText == "" || sig == "" {
		return &SignatureError{"missing X-Slack-Signature or X-Slack-Request-Timestamp"}
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return &SignatureError{fmt.Sprintf("bad timestamp %q", tsText)}
	}
	if age := now.Sub(time.Unix(ts, 0)); age > signatureWindow || age < -signatureWindow {
		return &SignatureError{fmt.Sprintf("timestamp is %s off (stale or replayed)", age.Round(time.Second))}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", tsText)
	mac.Write(body)
	want := "v0=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return &SignatureError{"signature mismatch"}
	}
	return nil
}
