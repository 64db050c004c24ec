//go:build cgo

package gpu

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
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

// Preflight checks GPU index before an experiment: present, enough free
// memory, no foreign compute process (a warning only with AllowShared).
func (n *NVML) Preflight(ctx context.Context, index int) error {
	dev, err := n.device(index)
	if err != nil {
		return err
	}
	foreign, err := n.foreignBeforeStart(ctx, dev)
	if err != nil {
		return &research.PreflightError{GPU: index, Reason: err.Error()}
	}
	if n.opts.MinFreeMB > 0 && n.supported("memory") {
		mem, ret := dev.GetMemoryInfo()
		switch {
		case ret == nvml.SUCCESS:
			free := int(mem.Free / mib)
			if free < n.opts.MinFreeMB {
				reason := fmt.Sprintf("only %d MiB free (want %d)", free, n.opts.MinFreeMB)
				if len(foreign) > 0 {
					reason += "; in use by " + strings.Join(foreign, ", ")
				}
				return &research.PreflightError{GPU: index, Reason: reason}
			}
		case n.ok("memory", ret):
		default:
			if !isUnsupported(ret) {
				return &research.PreflightError{GPU: index, Reason: "cannot read its memory: " + ret.Error()}
			}
		}
	}
	if len(foreign) > 0 {
		if n.opts.AllowShared {
			return &research.PreflightError{GPU: index, WarnOnly: true,
				Reason: fmt.Sprintf("shared with %s (--allow-shared-gpu: going ahead; the result is marked shared)", strings.Join(foreign, ", "))}
		}
		return &research.PreflightError{GPU: index,
			Reason: fmt.Sprintf("foreign compute process %s is using it; a shared GPU makes results incomparable (stop it, or pass --allow-shared-gpu)", strings.Join(foreign, ", "))}
	}
	return nil
}

// foreignBeforeStart lists the compute processes on dev that are not ours.
// Our trainer has not started yet, so anything there that we did not see as
// ours while watching is foreign. A process still there after Settle counts.
func (n *NVML) foreignBeforeStart(ctx context.Context, dev nvml.Device) ([]string, error) {
	first, err := n.processes(dev, false)
	if err != nil || len(first) == 0 {
		return nil, err
	}
	settle := n.opts.Settle
	if settle == 0 {
		settle = 2 * time.Second
	}
	if settle < 0 {
		return describeAll(first, n.procs), nil
	}
	t := time.NewTimer(settle)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	second, err := n.processes(dev, false)
	if err != nil {
		return nil, err
	}
	var still []int
	for _, pid := range second {
		for _, p := range first {
			if p == pid {
				still = append(still, pid)
				break
			}
		}
	}
	return describeAll(still, n.procs), nil
}

func describeAll(pids []int, p procTable) []string {
	var out []string
	for _, pid := range pids {
		out = append(out, p.describe(pid))
	}
	return out
}

// processes returns the pids of the foreign compute processes on dev.
//
// Ours are this process and its descendants (the trainer runs in its own
// process group but is still our child). A pid that /proc does not show lives
// in another pid namespace (NVML reports host pids inside a container) or has
// just exited: before our trainer starts it is foreign unless we saw it as
// ours earlier; while we train, it is foreign when one of ours is visible or
// when there is more than one of them (our trainer is one process).
func (n *NVML) processes(dev nvml.Device, watching bool) ([]int, error) {
	if !n.supported("processes") {
		return nil, nil
	}
	list, ret := dev.GetComputeRunningProcesses()
	if ret != nvml.SUCCESS {
		if n.ok("processes", ret) || isUnsupported(ret) {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot list its compute processes: %s", ret.Error())
	}
	var foreign, unknown []int
	seen := map[int]bool{}
	oursNow := false
	for _, p := range list {
		pid := int(p.Pid)
		if pid == 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		ours, visible := n.procs.owner(pid)
		n.mu.Lock()
		if ours {
			n.ours[pid] = true
		}
		known := n.ours[pid]
		n.mu.Unlock()
		switch {
		case ours:
			oursNow = true
		case !visible && known:
			// our trainer that just exited
		case visible:
			foreign = append(foreign, pid)
		default:
			unknown = append(unknown, pid)
		}
	}
	if !watching || oursNow || len(unknown) > 1 {
		foreign = append(foreign, unknown...)
	}
	return foreign, nil
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

// throttleBits are the clock event reasons that mean the GPU was slowed
// down. Idle, application clock settings, sync boost and display clocks are
// not throttling.
var throttleBits = []struct {
	bit  uint64
	name string
}{
	{nvml.ClocksThrottleReasonHwSlowdown, "hw_slowdown"},
	{nvml.ClocksEventReasonSwThermalSlowdown, "sw_thermal"},
	{nvml.ClocksThrottleReasonHwThermalSlowdown, "hw_thermal"},
	{nvml.ClocksThrottleReasonHwPowerBrakeSlowdown, "hw_power_brake"},
	{nvml.ClocksEventReasonSwPowerCap, "sw_power_cap"},
}

// ThrottleNames names the throttling reasons set in an NVML clock event mask.
func ThrottleNames(mask uint64) []string {
	var out []string
	for _, b := range throttleBits {
		if mask&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

// sample reads one set of figures from dev.
func (n *NVML) sample(dev nvml.Device) sample {
	s := sample{utilPct: nan(), memUsedMB: nan(), tempC: nan(), powerW: nan(), smClock: nan()}
	if n.supported("utilization") {
		if u, ret := dev.GetUtilizationRates(); n.ok("utilization", ret) {
			s.utilPct = float64(u.Gpu)
		}
	}
	if n.supported("memory") {
		if m, ret := dev.GetMemoryInfo(); n.ok("memory", ret) {
			s.memUsedMB = float64(m.Used) / mib
		}
	}
	if n.supported("temperature") {
		if v, ret := dev.GetTemperature(nvml.TEMPERATURE_GPU); n.ok("temperature", ret) {
			s.tempC = float64(v)
		}
	}
	if n.supported("power") {
		if v, ret := dev.GetPowerUsage(); n.ok("power", ret) {
			s.powerW = float64(v) / 1000
		}
	}
	if n.supported("sm_clock") {
		if v, ret := dev.GetClockInfo(nvml.CLOCK_SM); n.ok("sm_clock", ret) {
			s.smClock = float64(v)
		}
	}
	if n.reasons != nil && n.supported("throttle") {
		if mask, ret := n.reasons(dev); n.ok("throttle", ret) {
			s.throttle = ThrottleNames(mask)
		}
	}
	if pids, err := n.processes(dev, true); err == nil {
		s.foreign = describeAll(pids, n.procs)
	}
	return s
}

// Watch samples GPU index at once and then every interval until the
// returned function is called; that function returns the aggregate (and the
// same aggregate when called again).
func (n *NVML) Watch(ctx context.Context, index int, every time.Duration) func() research.Telemetry {
	dev, err := n.device(index)
	if err != nil {
		n.log.Warn("not watching the GPU", "err", err)
		return func() research.Telemetry { return research.Telemetry{} }
	}
	if every <= 0 {
		every = 2 * time.Second
	}
	tick, stopTick := n.ticker(every)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var agg aggregate
	go func() {
		defer close(done)
		defer stopTick()
		defer research.Recover(n.log, "GPU telemetry", nil) // telemetry ends; training goes on
		for {
			agg.add(n.sample(dev))
			if n.afterSample != nil {
				n.afterSample()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
		}
	}()
	var once sync.Once
	var result research.Telemetry
	return func() research.Telemetry {
		once.Do(func() {
			cancel()
			<-done
			result = agg.telemetry()
		})
		return result
	}
}

func (n *NVML) ticker(every time.Duration) (<-chan time.Time, func()) {
	if n.newTicker != nil {
		return n.newTicker(every)
	}
	t := time.NewTicker(every)
	return t.C, t.Stop
}

// Read takes one reading of GPU index now (for metrics scrapes); figures the
// GPU does not give are NaN.
func (n *NVML) Read(index int) (Reading, error) {
	dev, err := n.device(index)
	if err != nil {
		return Reading{}, err
	}
	s := n.sample(dev)
	return Reading{UtilPct: s.utilPct, MemoryUsedMB: s.memUsedMB, TempC: s.tempC, PowerW: s.powerW, SMClockMHz: s.smClock}, nil
}
