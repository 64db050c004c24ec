package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// TestKeyForTSMapsAThreadBackToItsMessage runs on a real SQLite file and
// reopens it: a thread reply after a restart must still find its message.
func TestKeyForTSMapsAThreadBackToItsMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	ctx := context.Background()
	db := openAt(t, path, newClock())

	post, err := db.Enqueue(ctx, research.OutboxMessage{Key: "exp:1:2", Kind: "post", Channel: "C1", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Not sent yet: its ts is unknown, nothing maps to it.
	if _, err := db.KeyForTS(ctx, "1700000000.000100"); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("KeyForTS before sending: %v, want research.ErrNotFound", err)
	}
	if err := db.MarkSent(ctx, post.ID, "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	// An update of the same message records the same ts without a key; a
	// reaction records the person's ts; neither must answer for a key.
	upd, _ := db.Enqueue(ctx, research.OutboxMessage{Kind: "update", ThreadKey: "exp:1:2", Channel: "C1"})
	if err := db.MarkSent(ctx, upd.ID, "1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	react, _ := db.Enqueue(ctx, research.OutboxMessage{Kind: "reaction", Channel: "C1"})
	if err := db.MarkSent(ctx, react.ID, "1700000001.000200"); err != nil {
		t.Fatal(err)
	}
	// A superseded update is marked sent with an empty ts.
	skipped, _ := db.Enqueue(ctx, research.OutboxMessage{Key: "run:1", Kind: "post", Channel: "C1"})
	if err := db.MarkSent(ctx, skipped.ID, ""); err != nil {
		t.Fatal(err)
	}
	other, _ := db.Enqueue(ctx, research.OutboxMessage{Key: "plateau:1:9", Kind: "post", Channel: "C1"})
	if err := db.MarkSent(ctx, other.ID, "1700000002.000300"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openAt(t, path, newClock())
	for ts, want := range map[string]string{
		"1700000000.000100": "exp:1:2",
		"1700000002.000300": "plateau:1:9",
	} {
		got, err := db.KeyForTS(ctx, ts)
		if err != nil || got != want {
			t.Errorf("KeyForTS(%s) = %q, %v; want %q", ts, got, err, want)
		}
	}
	for _, ts := range []string{"1700000001.000200", "", "1699999999.000000"} {
		if got, err := db.KeyForTS(ctx, ts); !errors.Is(err, research.ErrNotFound) {
			t.Errorf("KeyForTS(%q) = %q, %v; want research.ErrNotFound", ts, got, err)
		}
	}
}
