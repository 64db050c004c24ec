package research

import (
	"context"

	"errors"
	"fmt"
	"time"
)

// GPUInfo describes one GPU of the host.
type GPUInfo struct {
	Index         int
	Name          string
	UUID          string
	MemoryTotalMB float64
}

// Inventory is what the host has, for doctor, the run header and status.
type Inventory struct {
	Available     bool   // false: telemetry unavailable, Reason says why
	Reason        string // "GPU telemetry unavailable: ..." when !Available
	DriverVersion string
	CUDAVersion   string
	GPUs          []GPUInfo
}

// String is a one-line summary such as "1x NVIDIA H100 80GB HBM3 (driver 550.54, CUDA 12.4)".
func (inv Inventory) String() string {
	if !inv.Available {
		return inv.Reason
	}
	if len(inv.GPUs) == 0 {
		return "no GPUs found"
	}
	return fmt.Sprintf("%dx %s (driver %s, CUDA %s)", len(inv.GPUs), inv.GPUs[0].Name, inv.DriverVersion, inv.CUDAVersion)
}

// Telemetry aggregates the GPU samples taken while one experiment trained.
type Telemetry struct {
	Samples        int
	MeanUtilPct    float64
	PeakMemoryMB   float64
	MaxTempC       float64
	MeanPowerW     float64
	MaxSMClockMHz  float64
	Throttled      bool     // a thermal or power cap slowed the GPU
	ThrottleReason []string // e.g. "hw_slowdown", "sw_thermal", "sw_power_cap"
	Shared         bool     // another process used the GPU meanwhile
	SharedBy       []string // "pid 4242 (python3)"
}

// Comparable tells whether a result measured under this telemetry can be
// compared with others: a throttled or shared GPU trains less in 5 minutes.
func (t Telemetry) Comparable() bool { return !t.Throttled && !t.Shared }

// ErrGPUBusy marks a preflight refusal: the GPU is missing, short of free
// memory, or used by a foreign compute process. The run pauses.
var ErrGPUBusy = errors.New("GPU not ready")

// PreflightError says what is wrong with the GPU before an experiment.
type PreflightError struct {
	GPU    int
	Reason string
	// WarnOnly is set when the configuration says to proceed anyway (for
	// example a foreign process with --allow-shared-gpu).
	WarnOnly bool
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("GPU %d: %s", e.GPU, e.Reason)
}
func (e *PreflightError) Unwrap() error { return ErrGPUBusy }

// GPUMonitor watches the GPUs (package research/gpu implements it on NVML).
type GPUMonitor interface {
	Inventory() Inventory
	// Preflight checks GPU index before an experiment; nil means go.
	Preflight(ctx context.Context, index int) error
	// Watch samples GPU index every interval until the returned stop
	// function is called, which returns the aggregate.
	Watch(ctx context.Context, index int, every time.Duration) (stop func() Telemetry)
}
