package slack

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Outbox is the persistent queue every channel message goes through, so
// that a message Slack refused for now (429, 5xx, network) is sent later,
// in order, also after a restart. The store implements it.
type Outbox interface {
	// Enqueue adds m and returns it with its ID set.
	Enqueue(ctx context.Context, m research.OutboxMessage) (research.OutboxMessage, error)
	// PendingMessages returns up to limit unsent messages that are due, by ID.
	PendingMessages(ctx context.Context, limit int) ([]research.OutboxMessage, error)
	MarkSent(ctx context.Context, id int64, ts string) error
	MarkFailed(ctx context.Context, id int64, errText string, nextTry time.Time) error
	// SentTS returns the Slack ts of the sent message with that Key, or
	// research.ErrNotFound.
	SentTS(ctx context.Context, key string) (string, error)
	// KeyForTS is the reverse of SentTS: the Key of the sent message whose
	// ts is ts, or research.ErrNotFound. It maps a thread reply to the
	// experiment message it answers.
	KeyForTS(ctx context.Context, ts string) (string, error)
	// OutboxBacklog counts the unsent messages, due or not.
	OutboxBacklog(ctx context.Context) (int, error)
}

// Outbox message kinds (research.OutboxMessage.Kind).
const (
	kindPost     = "post"     // a channel message; in the thread of ThreadKey when set
	kindUpdate   = "update"   // replaces the message whose Key is ThreadKey
	kindFile     = "file"     // a file upload; in the thread of ThreadKey when set
	kindReaction = "reaction" // a reaction to a person's message
)

// outPayload is the adapter-specific JSON kept in research.OutboxMessage.Payload.
type outPayload struct {
	Text   string          `json:"text,omitempty"`
	Blocks json.RawMessage `json:"blocks,omitempty"`
	// ThreadTS puts the message in a thread known when it was queued (a
	// person's thread). ThreadKey is used when the thread is our own
	// message, whose ts is only known once it is sent.
	ThreadTS string `json:"thread_ts,omitempty"`
	// Broadcast also shows a thread reply in the channel (reply_broadcast),
	// so it notifies like a top-level message.
	Broadcast bool `json:"broadcast,omitempty"`
	// LinkKey appends a permalink to the message with this Key, if sent.
	LinkKey string `json:"link_key,omitempty"`

	// reaction
	Reaction string `json:"reaction,omitempty"`
	TargetTS string `json:"target_ts,omitempty"`

	// file
	Filename string `json:"filename,omitempty"`
	Title    string `json:"title,omitempty"`
	Content  []byte `json:"content,omitempty"`
}

// Outbox keys: stable names for the messages that are updated or replied
// to. An experiment's key is "exp:<runID>:<number>", with ":<attempt>" for
// crash-fix attempts that reuse the number.
func expKey(e research.Experiment) string {
	k := "exp:" + strconv.FormatInt(e.RunID, 10) + ":" + strconv.Itoa(e.Number)
	if e.Attempt > 0 {
		k += ":" + strconv.Itoa(e.Attempt)
	}
	return k
}

// plateauKey names the plateau message after experiment number: people
// reply in its thread with ideas, like under an experiment.
func plateauKey(runID int64, number int) string {
	return "plateau:" + strconv.FormatInt(runID, 10) + ":" + strconv.Itoa(number)
}

// parseIdeaThreadKey reads the key of a message whose thread replies become
// ideas: an experiment's (expKey) or a plateau's (plateauKey), which names
// the experiment that ended the streak.
func parseIdeaThreadKey(key string) (runID int64, number int, ok bool) {
	if runID, number, ok = parseKey(key, "exp"); ok {
		return runID, number, ok
	}
	return parseKey(key, "plateau")
}

func parseKey(key, prefix string) (runID int64, number int, ok bool) {
	parts := strings.Split(key, ":")
	if len(parts) < 3 || parts[0] != prefix {
		return 0, 0, false
	}
	runID, err1 := strconv.ParseInt(parts[1], 10, 64)
	number, err2 := strconv.Atoi(parts[2])
	return runID, number, err1 == nil && err2 == nil
}

func runKey(runID int64) string { return "run:" + strconv.FormatInt(runID, 10) }
