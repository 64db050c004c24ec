package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
)

// slackAPI is the part of the Slack Web API the bot uses, and nothing more.
// Messages and views travel as Block Kit wire JSON, so nothing above this
// interface depends on the SDK: swapping slack-go, or faking Slack in a test,
// means implementing these few calls.
type slackAPI interface {
	AuthTest(ctx context.Context) (slackIdentity, error)
	ConversationInfo(ctx context.Context, channel string) (channelInfo, error)
	PostMessage(ctx context.Context, channel string, m chatMessage) (ts string, err error)
	UpdateMessage(ctx context.Context, channel, ts string, m chatMessage) error
	PostEphemeral(ctx context.Context, channel, user string, m chatMessage) error
	// Respond answers a slash command through its response_url.
	Respond(ctx context.Context, responseURL string, m chatMessage, inChannel bool) error
	AddReaction(ctx context.Context, channel, ts, name string) error
	OpenView(ctx context.Context, triggerID string, view json.RawMessage) error
	// PublishView sets user's App Home tab.
	PublishView(ctx context.Context, user string, view json.RawMessage) error
	// UploadFile shares content as a file (the v2 upload flow).
	UploadFile(ctx context.Context, f fileUpload) error
}

// slackIdentity is what auth.test says about the bot token.
type slackIdentity struct {
	UserID string // the bot's user, to ignore its own messages
	BotID  string
	Team   string
	URL    string // workspace URL ("https://team.slack.com/"), for permalinks
}

type channelInfo struct {
	ID, Name   string
	IsMember   bool
	IsArchived bool
}

// chatMessage is a message in Slack's wire form: mrkdwn text (the fallback
// for notifications) and optional Block Kit blocks.
type chatMessage struct {
	Text     string          `json:"text,omitempty"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	// Broadcast sends a thread reply to the channel too (reply_broadcast).
	Broadcast bool `json:"reply_broadcast,omitempty"`
}

type fileUpload struct {
	Channel  string `json:"channel"`
	ThreadTS string `json:"thread_ts,omitempty"`
	Filename string `json:"filename"`
	Title    string `json:"title,omitempty"`
	Comment  string `json:"comment,omitempty"`
	Content  []byte `json:"content"`
}

// APIError is Slack answering {"ok": false, "error": Code}.
type APIError struct {
	Method string
	Code   string
}

func (e *APIError) Error() string { return fmt.Sprintf("slack %s: %s", e.Method, e.Code) }

// RateLimitError is an HTTP 429: try again after RetryAfter.
type RateLimitError struct {
	Method     string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("slack %s: rate limited, retry after %s", e.Method, e.RetryAfter)
}

// TransientError is a failure worth retrying: 5xx, network, timeouts.
type TransientError struct {
	Method string
	Err    error
}

func (e *TransientError) Error() string { return fmt.Sprintf("slack %s: %v", e.Method, e.Err) }
func (e *TransientError) Unwrap() error { return e.Err }

// transientCodes are ok:false answers that say "try again", not "you are wrong".
var transientCodes = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

// slackGoAPI implements slackAPI with slack-go.
type slackGoAPI struct {
	c    *slackgo.Client
	http *http.Client
}

// newSlackGoAPI builds the Web API client. apiURL is handed to slack-go as
// is, except that the trailing slash slack-go needs is added.
func newSlackGoAPI(botToken, appToken, apiURL string) *slackGoAPI {
	hc := &http.Client{Timeout: 30 * time.Second}
	opts := []slackgo.Option{slackgo.OptionHTTPClient(hc)}
	if apiURL != "" {
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, slackgo.OptionAPIURL(apiURL))
	}
	if appToken != "" {
		opts = append(opts, slackgo.OptionAppLevelToken(appToken))
	}
	return &slackGoAPI{c: slackgo.New(botToken, opts...), http: hc}
}

// classify turns slack-go's errors into the bot's typed ones.
func classify(method string, err error) error {
	if err == nil {
		return nil
	}
	if rl, ok := errors.AsType[*slackgo.RateLimitedError](err); ok {
		return &RateLimitError{Method: method, RetryAfter: rl.RetryAfter}
	}
	if sc, ok := errors.AsType[slackgo.StatusCodeError](err); ok {
		if sc.Code == http.StatusTooManyRequests {
			// 429 without Retry-After: Slack's documented default is a minute.
			return &RateLimitError{Method: method, RetryAfter: time.Minute}
		}
		if sc.Code >= 500 {
			return &TransientError{Method: method, Err: err}
		}
		return &APIError{Method: method, Code: fmt.Sprintf("http_%d", sc.Code)}
	}
	if se, ok := errors.AsType[slackgo.SlackErrorResponse](err); ok {
		if transientCodes[se.Err] {
			return &TransientError{Method: method, Err: err}
		}
		return &APIError{Method: method, Code: se.Err}
	}
	if _, ok := errors.AsType[net.Error](err); ok || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) {
		return &TransientError{Method: method, Err: err}
	}
	// slack-go returns some API errors as plain errors.New(code); a code is
	// a single snake_case word.
	if msg := err.Error(); isErrorCode(msg) {
		if transientCodes[msg] {
			return &TransientError{Method: method, Err: err}
		}
		return &APIError{Method: method, Code: msg}
	}
	return &TransientError{Method: method, Err: err}
}

func isErrorCode(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func (a *slackGoAPI) AuthTest(ctx context.Context) (slackIdentity, error) {
	r, err := a.c.AuthTestContext(ctx)
	if err != nil {
		return slackIdentity{}, classify("auth.test", err)
	}
	return slackIdentity{UserID: r.UserID, BotID: r.BotID, Team: r.Team, URL: r.URL}, nil
}

func (a *slackGoAPI) ConversationInfo(ctx context.Context, channel string) (channelInfo, error) {
	c, err := a.c.GetConversationInfoContext(ctx, &slackgo.GetConversationInfoInput{ChannelID: channel})
	if err != nil {
		return channelInfo{}, classify("conversations.info", err)
	}
	return channelInfo{ID: c.ID, Name: c.Name, IsMember: c.IsMember, IsArchived: c.IsArchived}, nil
}

func msgOptions(m chatMessage) ([]slackgo.MsgOption, error) {
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		var b slackgo.Blocks
		if err := json.Unmarshal(m.Blocks, &b); err != nil {
			return nil, &APIError{Method: "blocks", Code: "invalid_blocks"}
		}
		opts = append(opts, slackgo.MsgOptionBlocks(b.BlockSet...))
	}
	if m.ThreadTS != "" {
		opts = append(opts, slackgo.MsgOptionTS(m.ThreadTS))
		if m.Broadcast {
			opts = append(opts, slackgo.MsgOptionBroadcast())
		}
	}
	return opts, nil
}

func (a *slackGoAPI) PostMessage(ctx context.Context, channel string, m chatMessage) (string, error) {
	opts, err := msgOptions(m)
	if err != nil {
		return "", err
	}
	_, ts, err := a.c.PostMessageContext(ctx, channel, opts...)
	return ts, classify("chat.postMessage", err)
}

func (a *slackGoAPI) UpdateMessage(ctx context.Context, channel, ts string, m chatMessage) error {
	m.ThreadTS = "" // an update cannot move a message
	opts, err := msgOptions(m)
	if err != nil {
		return err
	}
	_, _, _, err = a.c.UpdateMessageContext(ctx, channel, ts, opts...)
	return classify("chat.update", err)
}

func (a *slackGoAPI) PostEphemeral(ctx context.Context, channel, user string, m chatMessage) error {
	opts, err := msgOptions(m)
	if err != nil {
		return err
	}
	_, err = a.c.PostEphemeralContext(ctx, channel, user, opts...)
	return classify("chat.postEphemeral", err)
}

// Respond posts to a response_url. slack-go's webhook helper would do, but
// it drops the blocks' raw form; the request is small enough to write here.
func (a *slackGoAPI) Respond(ctx context.Context, responseURL string, m chatMessage, inChannel bool) error {
	body := struct {
		ResponseType string          `json:"response_type"`
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks,omitempty"`
	}{"ephemeral", m.Text, m.Blocks}
	if inChannel {
		body.ResponseType = "in_channel"
	}
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(raw))
	if err != nil {
		return &APIError{Method: "response_url", Code: "invalid_url"}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return &TransientError{Method: "response_url", Err: err}
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &RateLimitError{Method: "response_url", RetryAfter: time.Duration(max(secs, 1)) * time.Second}
	case resp.StatusCode >= 500:
		return &TransientError{Method: "response_url", Err: fmt.Errorf("%s", resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return &APIError{Method: "response_url", Code: strings.TrimSpace(string(text))}
	}
	return nil
}

func (a *slackGoAPI) AddReaction(ctx context.Context, channel, ts, name string) error {
	err := a.c.AddReactionContext(ctx, name, slackgo.NewRefToMessage(channel, ts))
	return classify("reactions.add", err)
}

func (a *slackGoAPI) OpenView(ctx context.Context, triggerID string, view json.RawMessage) error {
	var v slackgo.ModalViewRequest
	if err := json.Unmarshal(view, &v); err != nil {
		return &APIError{Method: "views.open", Code: "invalid_view"}
	}
	_, err := a.c.OpenViewContext(ctx, triggerID, v)
	return classify("views.open", err)
}

func (a *slackGoAPI) PublishView(ctx context.Context, user string, view json.RawMessage) error {
	var v slackgo.HomeTabViewRequest
	if err := json.Unmarshal(view, &v); err != nil {
		return &APIError{Method: "views.publish", Code: "invalid_view"}
	}
	_, err := a.c.PublishViewContext(ctx, slackgo.PublishViewContextRequest{UserID: user, View: v})
	return classify("views.publish", err)
}

func (a *slackGoAPI) UploadFile(ctx context.Context, f fileUpload) error {
	if len(f.Content) == 0 {
		f.Content = []byte("(empty)\n") // the v2 flow refuses empty files
	}
	_, err := a.c.UploadFileContext(ctx, slackgo.UploadFileParameters{
		Reader:          bytes.NewReader(f.Content),
		FileSize:        len(f.Content),
		Filename:        f.Filename,
		Title:           f.Title,
		InitialComment:  f.Comment,
		Channel:         f.Channel,
		ThreadTimestamp: f.ThreadTS,
	})
	if err == nil {
		return nil
	}
	// UploadFileContext wraps each step's error; classify the cause.
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	return classify("files.upload", err)
}
