package research

import "time"

// OutboxMessage is an outbound chat message kept until delivered (the
// outbox). The loop never sends chat messages; the type lives here with the
// other stored rows so that the store and the chat front ends share it
// without depending on each other.
type OutboxMessage struct {
	ID        int64
	Key       string // stable identity, e.g. "exp:12" so updates find the posted ts
	Kind      string // "post", "update", "reply", "file", "reaction"
	Channel   string
	ThreadKey string // Key of the message this one replies to / updates
	Payload   []byte // adapter-specific JSON
	TS        string // the posted message's id on the chat platform, once sent
	Attempts  int
	LastError string
	NextTry   time.Time
	CreatedAt time.Time
	SentAt    time.Time // zero while pending
}
