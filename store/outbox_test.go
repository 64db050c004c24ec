package store

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func msgIDs(list []research.OutboxMessage) []int64 {
	var out []int64
	for _, m := range list {
		out = append(out, m.ID)
	}
	return out
}

func TestOutboxOrderRetryAndSent(t *testing.T) {
	db, c := newTestDB(t)
	ctx := context.Background()
	var ms []research.OutboxMessage
	for _, k := range []string{"exp:1", "exp:1:reply", "exp:2"} {
		m, err := db.Enqueue(ctx, research.OutboxMessage{Key: k, Kind: "post", Channel: "C1", Payload: []byte(`{"text":"` + k + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		sameTime(t, "NextTry", m.NextTry, m.CreatedAt)
		ms = append(ms, m)
	}
	got, err := db.MessageByID(ctx, ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ms[0]) {
		t.Errorf("MessageByID = %+v\nwant %+v", got, ms[0])
	}

	pending, err := db.PendingMessages(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(msgIDs(pending), msgIDs(ms)) {
		t.Errorf("pending = %v, want %v", msgIDs(pending), msgIDs(ms))
	}
	if p, _ := db.PendingMessages(ctx, 2); !reflect.DeepEqual(msgIDs(p), msgIDs(ms[:2])) {
		t.Errorf("pending limit 2 = %v", msgIDs(p))
	}

	// Message 1 fails with a retry in a minute: it is not due, the others are.
	if err := db.MarkFailed(ctx, ms[0].ID, "429 rate limited", c.Peek().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.PendingMessages(ctx, 0); !reflect.DeepEqual(msgIDs(p), msgIDs(ms[1:])) {
		t.Errorf("pending after failure = %v", msgIDs(p))
	}
	if n, _ := db.OutboxBacklog(ctx); n != 3 {
		t.Errorf("backlog = %d, want 3", n)
	}
	c.Advance(2 * time.Minute)
	p, _ := db.PendingMessages(ctx, 0)
	if !reflect.DeepEqual(msgIDs(p), msgIDs(ms)) {
		t.Fatalf("pending after retry time = %v", msgIDs(p))
	}
	if p[0].Attempts != 1 || p[0].LastError != "429 rate limited" {
		t.Errorf("failed message = %+v", p[0])
	}
	if err := db.MarkFailed(ctx, ms[0].ID, "503", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.MessageByID(ctx, ms[0].ID); m.Attempts != 2 || m.LastError != "503" {
		t.Errorf("after second failure = %+v", m)
	}

	if _, err := db.SentTS(ctx, "exp:1"); err == nil {
		t.Error("SentTS before sending succeeded")
	}
	if err := db.MarkSent(ctx, ms[0].ID, "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	sentAt := c.Peek()
	// A later message with the same key (an update) is sent too: SentTS keeps the first.
	upd, _ := db.Enqueue(ctx, research.OutboxMessage{Key: "exp:1", Kind: "update", ThreadKey: "exp:1"})
	if err := db.MarkSent(ctx, upd.ID, "1700000000.999999"); err != nil {
		t.Fatal(err)
	}
	ts, err := db.SentTS(ctx, "exp:1")
	if err != nil || ts != "1700000000.000100" {
		t.Errorf("SentTS = %q, %v", ts, err)
	}
	m, _ := db.MessageByID(ctx, ms[0].ID)
	sameTime(t, "SentAt", m.SentAt, sentAt)
	if m.TS != "1700000000.000100" || m.LastError != "" {
		t.Errorf("sent message = %+v", m)
	}
	if p, _ := db.PendingMessages(ctx, 0); !reflect.DeepEqual(msgIDs(p), msgIDs(ms[1:])) {
		t.Errorf("pending after sent = %v", msgIDs(p))
	}
	if n, _ := db.OutboxBacklog(ctx); n != 2 {
		t.Errorf("backlog = %d, want 2", n)
	}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	c := newClock()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = c.Now
	var want []int64
	for i := 0; i < 3; i++ {
		m, err := db.Enqueue(ctx, research.OutboxMessage{Key: "k", Kind: "post", Payload: []byte{byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.ID)
	}
	db.Close()

	db2 := openAt(t, path, c)
	p, err := db2.PendingMessages(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(msgIDs(p), want) {
		t.Fatalf("pending after reopen = %v, want %v", msgIDs(p), want)
	}
	for i, m := range p {
		if !reflect.DeepEqual(m.Payload, []byte{byte(i)}) {
			t.Errorf("payload %d = %v", i, m.Payload)
		}
	}
}
