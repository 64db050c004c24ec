//go:build !cgo

package gpu

import (
	"context"
	"testing"
	"time"
)

func TestWithoutCgoTelemetryIsUnavailable(t *testing.T) {
	mon := Open(Options{MinFreeMB: 1 << 30})
	inv := mon.Inventory()
	if inv.Available || inv.Reason != "GPU telemetry unavailable: built without cgo" {
		t.Errorf("inventory = %+v", inv)
	}
	if err := mon.Preflight(context.Background(), 3); err != nil {
		t.Errorf("Preflight = %v, want nil", err)
	}
	if tel := mon.Watch(context.Background(), 0, time.Millisecond)(); tel.Samples != 0 {
		t.Errorf("Watch = %+v", tel)
	}
}
