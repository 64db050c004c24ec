//go:build cgo

package gpu

// Opening NVML: the monitor, its inventory and the guards every NVML call
// goes through. Preflight checks are in nvml_preflight.go, telemetry in
// nvml_sample.go (split so each file holds one concern).

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/autoresearch/autoresearch/research"
)

// Library is the NVML entry point: nvml.Interface (go-nvml's mock server
// implements it too).
type Library = nvml.Interface

const mib = 1024 * 1024

// NVML is the research.GPUMonitor of a host whose NVML initialised.
type NVML struct {
	lib   nvml.Interface
	opts  Options
	log   *slog.Logger
	procs procTable
	inv   research.Inventory
	devs  []nvml.Device // by index; nil where the handle could not be had

	// reasons reads the clock event (throttle) reasons with whichever entry
	// point the driver has; nil when it has neither.
	reasons func(nvml.Device) (uint64, nvml.Return)

	mu          sync.Mutex
	ours        map[int]bool    // pids seen as ours (descendants) while watching
	unsupported map[string]bool // metrics the GPU or driver does not give
	closed      bool

	// test hooks
	newTicker   func(time.Duration) (<-chan time.Time, func())
	afterSample func()
}

// Open initialises NVML once and returns the monitor. When Init fails it
// returns a monitor whose Inventory says "GPU telemetry unavailable: WHY";
// no other NVML function is called after a failed Init.
func Open(opts Options) research.GPUMonitor {
	n, why := open(opts)
	if n == nil {
		return Unavailable(why, opts.logger())
	}
	return n
}

func open(opts Options) (*NVML, string) {
	lib := opts.Lib
	if lib == nil {
		lib = nvml.New()
	}
	log := opts.logger()
	if ret := lib.Init(); ret != nvml.SUCCESS {
		why := initFailure(ret)
		log.Warn(unavailablePrefix+why, "nvml", int(ret))
		return nil, why
	}
	n := &NVML{
		lib: lib, opts: opts, log: log,
		procs:       procTable{root: opts.ProcRoot, self: opts.Self},
		ours:        map[int]bool{},
		unsupported: map[string]bool{},
	}
	if n.procs.root == "" {
		n.procs.root = "/proc"
	}
	if n.procs.self == 0 {
		n.procs.self = os.Getpid()
	}
	count, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		lib.Shutdown()
		why := "counting the GPUs: " + ret.Error()
		log.Warn(unavailablePrefix + why)
		return nil, why
	}
	n.inv = research.Inventory{Available: true}
	if v, ret := lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		n.inv.DriverVersion = v
	}
	if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
		n.inv.CUDAVersion = FormatCUDAVersion(v)
	}
	n.devs = make([]nvml.Device, count)
	for i := 0; i < count; i++ {
		info := research.GPUInfo{Index: i}
		dev, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			info.Name = "unreachable: " + ret.Error()
			n.inv.GPUs = append(n.inv.GPUs, info)
			log.Warn("GPU handle", "index", i, "err", ret.Error())
			continue
		}
		n.devs[i] = dev
		if v, ret := dev.GetName(); ret == nvml.SUCCESS {
			info.Name = v
		}
		if v, ret := dev.GetUUID(); ret == nvml.SUCCESS {
			info.UUID = v
		}
		if m, ret := dev.GetMemoryInfo(); ret == nvml.SUCCESS {
			info.MemoryTotalMB = float64(m.Total) / mib
		}
		n.inv.GPUs = append(n.inv.GPUs, info)
	}
	// nvmlDeviceGetCurrentClocksEventReasons arrived with driver 535; older
	// drivers only have the ThrottleReasons name. With lazy binding, calling
	// a symbol the driver lacks would kill the process, so look first.
	ext := lib.Extensions()
	switch {
	case ext.LookupSymbol("nvmlDeviceGetCurrentClocksEventReasons") == nil:
		n.reasons = func(d nvml.Device) (uint64, nvml.Return) { return d.GetCurrentClocksEventReasons() }
	case ext.LookupSymbol("nvmlDeviceGetCurrentClocksThrottleReasons") == nil:
		n.reasons = func(d nvml.Device) (uint64, nvml.Return) { return d.GetCurrentClocksThrottleReasons() }
	default:
		log.Info("this driver reports no clock throttle reasons; throttling will not be detected")
	}
	log.Info("GPU inventory", "gpus", count, "summary", n.inv.String())
	return n, ""
}

// initFailure says in words why nvml.Init failed.
func initFailure(ret nvml.Return) string {
	switch ret {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return "libnvidia-ml.so.1 not found (no NVIDIA driver on this host, or a container started without --gpus)"
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return "the NVIDIA kernel driver is not loaded"
	case nvml.ERROR_NO_PERMISSION:
		return "no permission to talk to the NVIDIA driver"
	}
	return "nvml.Init: " + ret.Error()
}

// Inventory returns what Open found.
func (n *NVML) Inventory() research.Inventory {
	inv := n.inv
	inv.GPUs = append([]research.GPUInfo(nil), n.inv.GPUs...)
	return inv
}

// Close shuts NVML down; the monitor checks and records nothing afterwards.
func (n *NVML) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	if ret := n.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("nvml.Shutdown: %s", ret.Error())
	}
	return nil
}

// device returns the handle of GPU index, or a refusal saying why not.
func (n *NVML) device(index int) (nvml.Device, error) {
	n.mu.Lock()
	closed := n.closed
	n.mu.Unlock()
	if closed {
		return nil, &research.PreflightError{GPU: index, Reason: "GPU monitor closed"}
	}
	if index < 0 || index >= len(n.devs) {
		return nil, &research.PreflightError{GPU: index, Reason: fmt.Sprintf("no GPU %d on this host (%d found)", index, len(n.devs))}
	}
	if n.devs[index] == nil {
		return nil, &research.PreflightError{GPU: index, Reason: "the GPU is " + n.inv.GPUs[index].Name}
	}
	return n.devs[index], nil
}

// supported tells whether metric may still be asked for.
func (n *NVML) supported(metric string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.unsupported[metric]
}

func isUnsupported(ret nvml.Return) bool {
	return ret == nvml.ERROR_NOT_SUPPORTED || ret == nvml.ERROR_FUNCTION_NOT_FOUND
}

// ok reports whether ret is SUCCESS; a metric the GPU or driver does not
// have is logged once and never asked for again.
func (n *NVML) ok(metric string, ret nvml.Return) bool {
	if ret == nvml.SUCCESS {
		return true
	}
	if isUnsupported(ret) {
		n.mu.Lock()
		first := !n.unsupported[metric]
		n.unsupported[metric] = true
		n.mu.Unlock()
		if first {
			n.log.Info("GPU metric not available on this GPU or driver", "metric", metric, "nvml", ret.Error())
		}
		return false
	}
	n.log.Debug("GPU metric read failed", "metric", metric, "nvml", ret.Error())
	return false
}
