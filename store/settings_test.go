package store

import (
	"context"
	"errors"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

func TestSettings(t *testing.T) {
	db, _ := newTestDB(t)
	ctx := context.Background()
	if _, err := db.Setting(ctx, "digest.last"); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("missing setting: %v", err)
	}
	for _, v := range []string{"2026-03-14T09:00:00Z", "2026-03-15T09:00:00Z", ""} {
		if err := db.SetSetting(ctx, "digest.last", v); err != nil {
			t.Fatal(err)
		}
		got, err := db.Setting(ctx, "digest.last")
		if err != nil || got != v {
			t.Errorf("Setting = %q, %v; want %q", got, err, v)
		}
	}
	if err := db.SetSetting(ctx, "other", "1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Setting(ctx, "digest.last"); got != "" {
		t.Errorf("other key overwrote: %q", got)
	}
}
