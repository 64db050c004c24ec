// Package gpu implements research.GPUMonitor on NVIDIA's NVML through
// github.com/NVIDIA/go-nvml: the inventory of the host's GPUs, a preflight
// check before every experiment and telemetry sampled while it trains.
//
// go-nvml needs cgo, and after a failed nvml.Init any device call kills the
// process. So Open calls Init once and, when it fails (no driver, no
// libnvidia-ml.so.1, a container started without --gpus) or when the binary
// was built without cgo, returns a monitor that reports "GPU telemetry
// unavailable: REASON", lets every experiment go and records nothing. No
// device call is ever made after a failed Init.
package gpu

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Options configures Open.
type Options struct {
	// MinFreeMB is the free memory (MiB) the GPU must have before an
	// experiment starts; 0 checks nothing.
	MinFreeMB int
	// AllowShared turns a foreign compute process found by Preflight into a
	// warning (the experiment goes ahead; its telemetry says shared).
	AllowShared bool
	// Logger defaults to slog.Default().With("component", "gpu").
	Logger *slog.Logger
	// Lib is the NVML library (nvml.Interface in a cgo build); nil means the
	// real libnvidia-ml.so.1. Tests inject go-nvml's mock here.
	Lib Library
	// ProcRoot is where /proc is (tests point it at a fake tree); default "/proc".
	ProcRoot string
	// Self is the process whose descendants count as ours (default os.Getpid()).
	Self int
	// Settle is how long Preflight waits before looking at the compute
	// processes a second time, so a trainer that just exited and whose CUDA
	// context is still being torn down is not taken for a foreign process.
	// 0 means 2s; negative means look once.
	Settle time.Duration
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default().With("component", "gpu")
}

// unavailablePrefix starts every reason the telemetry is missing.
const unavailablePrefix = "GPU telemetry unavailable: "

// unavailable is the monitor of a host (or build) without NVML: nothing to
// check, nothing to record.
type unavailable struct {
	reason string
	logger *slog.Logger
	once   sync.Once
}

// Unavailable returns a monitor that reports "GPU telemetry unavailable: why",
// lets every experiment go and records no telemetry.
func Unavailable(why string, logger *slog.Logger) research.GPUMonitor {
	if logger == nil {
		logger = slog.Default().With("component", "gpu")
	}
	return &unavailable{reason: unavailablePrefix + why, logger: logger}
}

func (u *unavailable) Inventory() research.Inventory {
	return research.Inventory{Available: false, Reason: u.reason}
}

func (u *unavailable) Preflight(ctx context.Context, index int) error {
	u.once.Do(func() {
		u.logger.Warn("GPU preflight skipped: nothing to check", "reason", u.reason)
	})
	return nil
}

func (u *unavailable) Watch(ctx context.Context, index int, every time.Duration) func() research.Telemetry {
	return func() research.Telemetry { return research.Telemetry{} }
}

// Close does nothing; it is there so callers can close any monitor.
func (u *unavailable) Close() error { return nil }

// FormatCUDAVersion turns NVML's CUDA driver version (1000*major + 10*minor,
// e.g. 12040) into "12.4".
func FormatCUDAVersion(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, (v%1000)/10)
}

// sample is one reading of a GPU; a figure NVML could not give is NaN.
type sample struct {
	utilPct   float64
	memUsedMB float64
	tempC     float64
	powerW    float64
	smClock   float64
	throttle  []string // names of the active throttle reasons
	foreign   []string // "pid 4242 (python3)"
}

func nan() float64 { return math.NaN() }

// aggregate folds samples into the stored Telemetry.
type aggregate struct {
	samples                    int
	utilSum, powerSum          float64
	utilN, powerN              int
	peakMem, maxTemp, maxClock float64
	throttle                   map[string]bool
	shared                     map[string]bool
	throttleOrder, sharedOrder []string
}

func (a *aggregate) add(s sample) {
	a.samples++
	if !math.IsNaN(s.utilPct) {
		a.utilSum += s.utilPct
		a.utilN++
	}
	if !math.IsNaN(s.powerW) {
		a.powerSum += s.powerW
		a.powerN++
	}
	a.peakMem = maxOf(a.peakMem, s.memUsedMB)
	a.maxTemp = maxOf(a.maxTemp, s.tempC)
	a.maxClock = maxOf(a.maxClock, s.smClock)
	if a.throttle == nil {
		a.throttle, a.shared = map[string]bool{}, map[string]bool{}
	}
	for _, r := range s.throttle {
		if !a.throttle[r] {
			a.throttle[r] = true
			a.throttleOrder = append(a.throttleOrder, r)
		}
	}
	for _, p := range s.foreign {
		if !a.shared[p] {
			a.shared[p] = true
			a.sharedOrder = append(a.sharedOrder, p)
		}
	}
}

func maxOf(cur, v float64) float64 {
	if math.IsNaN(v) || v <= cur {
		return cur
	}
	return v
}

func (a *aggregate) telemetry() research.Telemetry {
	t := research.Telemetry{Samples: a.samples, PeakMemoryMB: a.peakMem, MaxTempC: a.maxTemp, MaxSMClockMHz: a.maxClock}
	if a.utilN > 0 {
		t.MeanUtilPct = a.utilSum / float64(a.utilN)
	}
	if a.powerN > 0 {
		t.MeanPowerW = a.powerSum / float64(a.powerN)
	}
	if len(a.throttleOrder) > 0 {
		t.Throttled = true
		t.ThrottleReason = append([]string(nil), a.throttleOrder...)
		sort.Strings(t.ThrottleReason)
	}
	if len(a.sharedOrder) > 0 {
		t.Shared = true
		t.SharedBy = append([]string(nil), a.sharedOrder...)
	}
	return t
}

// Reading is one instantaneous look at a GPU; NaN marks a figure the GPU or
// driver does not give.
type Reading struct {
	UtilPct      float64
	MemoryUsedMB float64
	TempC        float64
	PowerW       float64
	SMClockMHz   float64
}

// Reader is implemented by monitors that can take a reading on demand (the
// NVML monitor; not the unavailable one).
type Reader interface {
	Read(index int) (Reading, error)
}
