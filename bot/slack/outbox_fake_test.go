package slack

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// memOutbox is an in-memory Outbox with the store's semantics: pending =
// unsent and due, by ID; SentTS = lowest sent ID with the key.
type memOutbox struct {
	mu   sync.Mutex
	msgs []research.OutboxMessage
	next int64
	now  func() time.Time
}

func newMemOutbox() *memOutbox { return &memOutbox{now: time.Now} }

func (o *memOutbox) Enqueue(_ context.Context, m research.OutboxMessage) (research.OutboxMessage, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.next++
	m.ID = o.next
	m.CreatedAt = o.now()
	if m.NextTry.IsZero() {
		m.NextTry = m.CreatedAt
	}
	o.msgs = append(o.msgs, m)
	return m, nil
}

func (o *memOutbox) PendingMessages(_ context.Context, limit int) ([]research.OutboxMessage, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []research.OutboxMessage
	now := o.now()
	for _, m := range o.msgs {
		if m.SentAt.IsZero() && !m.NextTry.After(now) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (o *memOutbox) find(id int64) *research.OutboxMessage {
	for i := range o.msgs {
		if o.msgs[i].ID == id {
			return &o.msgs[i]
		}
	}
	return nil
}

func (o *memOutbox) MarkSent(_ context.Context, id int64, ts string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.find(id)
	if m == nil {
		return research.ErrNotFound
	}
	m.TS, m.SentAt, m.LastError = ts, o.now(), ""
	return nil
}

func (o *memOutbox) MarkFailed(_ context.Context, id int64, errText string, nextTry time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.find(id)
	if m == nil {
		return research.ErrNotFound
	}
	m.Attempts++
	m.LastError = errText
	if nextTry.IsZero() {
		nextTry = o.now()
	}
	m.NextTry = nextTry
	return nil
}

func (o *memOutbox) SentTS(_ context.Context, key string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range o.msgs {
		if key != "" && m.Key == key && !m.SentAt.IsZero() && m.TS != "" {
			return m.TS, nil
		}
	}
	return "", research.ErrNotFound
}

func (o *memOutbox) KeyForTS(_ context.Context, ts string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range o.msgs {
		if ts != "" && m.TS == ts && m.Key != "" && !m.SentAt.IsZero() {
			return m.Key, nil
		}
	}
	return "", research.ErrNotFound
}

func (o *memOutbox) OutboxBacklog(context.Context) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, m := range o.msgs {
		if m.SentAt.IsZero() {
			n++
		}
	}
	return n, nil
}

func (o *memOutbox) all() []research.OutboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]research.OutboxMessage(nil), o.msgs...)
}

func (o *memOutbox) get(id int64) research.OutboxMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.find(id)
}

func (o *memOutbox) payload(t *testing.T, id int64) outPayload {
	t.Helper()
	var p outPayload
	if err := json.Unmarshal(o.get(id).Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (o *memOutbox) backlog() int {
	n, _ := o.OutboxBacklog(context.Background())
	return n
}
