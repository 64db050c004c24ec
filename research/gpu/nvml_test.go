//go:build cgo

package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/autoresearch/autoresearch/research"
)

// fakeProc writes a /proc tree: each entry is pid -> (comm, ppid).
func fakeProc(t *testing.T, procs map[int][2]any) string {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, fmt.Sprint(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		comm, ppid := p[0].(string), p[1].(int)
		os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644)
		// A comm with ") " in it must not confuse the stat parser.
		os.WriteFile(filepath.Join(dir, "stat"), []byte(fmt.Sprintf("%d (%s) S %d %d 0 0 -1\n", pid, comm, ppid, pid)), 0o644)
	}
	return root
}

// The bot is pid 100; 200 is its trainer (child), 300 the trainer's child;
// 4242 is someone else's python3; 555 is a process with a tricky name.
func procTree(t *testing.T) string {
	return fakeProc(t, map[int][2]any{
		1:    {"init", 0},
		100:  {"autoresearch", 1},
		200:  {"uv", 100},
		300:  {"python3", 200},
		4242: {"python3", 1},
		555:  {"my) S 100 (x", 1},
	})
}

// h100 is a DGX H100 mock whose device 0 reports the figures in f.
type h100 struct {
	srv *server.Server
	dev *server.Device

	mu    sync.Mutex
	procs []uint32
}

func newH100(t *testing.T) *h100 {
	srv := dgxh100.New()
	h := &h100{srv: srv, dev: srv.Devices[0].(*server.Device)}
	h.dev.MemoryInfo = nvml.Memory{Total: 81920 * mib, Free: 80000 * mib, Used: 1920 * mib}
	h.dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		h.mu.Lock()
		defer h.mu.Unlock()
		var out []nvml.ProcessInfo
		for _, p := range h.procs {
			out = append(out, nvml.ProcessInfo{Pid: p, UsedGpuMemory: 512 * mib})
		}
		return out, nvml.SUCCESS
	}
	return h
}

func (h *h100) setProcs(pids ...uint32) {
	h.mu.Lock()
	h.procs = pids
	h.mu.Unlock()
}

func openMock(t *testing.T, lib nvml.Interface, opts Options) *NVML {
	t.Helper()
	opts.Lib = lib
	if opts.ProcRoot == "" {
		opts.ProcRoot = procTree(t)
		opts.Self = 100
	}
	if opts.Settle == 0 {
		opts.Settle = -1
	}
	n, why := open(opts)
	if n == nil {
		t.Fatalf("open: %s", why)
	}
	return n
}

func TestInventoryOfADGXH100(t *testing.T) {
	h := newH100(t)
	inv := Open(Options{Lib: h.srv}).Inventory()
	if !inv.Available || inv.Reason != "" {
		t.Fatalf("inventory not available: %+v", inv)
	}
	if len(inv.GPUs) != 8 {
		t.Fatalf("%d GPUs, want 8", len(inv.GPUs))
	}
	if inv.DriverVersion != "550.54.15" || inv.CUDAVersion != "12.4" {
		t.Errorf("driver %q CUDA %q, want 550.54.15 and 12.4", inv.DriverVersion, inv.CUDAVersion)
	}
	uuids := map[string]bool{}
	for i, g := range inv.GPUs {
		if g.Index != i || g.Name != "NVIDIA H100 80GB HBM3" || g.MemoryTotalMB != 81920 || !strings.HasPrefix(g.UUID, "GPU-") {
			t.Errorf("GPU %d = %+v", i, g)
		}
		uuids[g.UUID] = true
	}
	if len(uuids) != 8 {
		t.Errorf("UUIDs not distinct: %v", uuids)
	}
	if got, want := inv.String(), "8x NVIDIA H100 80GB HBM3 (driver 550.54.15, CUDA 12.4)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestFormatCUDAVersion(t *testing.T) {
	for v, want := range map[int]string{12040: "12.4", 11080: "11.8", 12000: "12.0", 13010: "13.1", 0: ""} {
		if got := FormatCUDAVersion(v); got != want {
			t.Errorf("FormatCUDAVersion(%d) = %q, want %q", v, got, want)
		}
	}
}

// After a failed Init nothing else may be called: the bare mock panics on
// any method whose func is unset, so a stray call fails the test.
func TestFailedInitMakesNoOtherCall(t *testing.T) {
	for ret, want := range map[nvml.Return]string{
		nvml.ERROR_LIBRARY_NOT_FOUND: "GPU telemetry unavailable: libnvidia-ml.so.1 not found",
		nvml.ERROR_DRIVER_NOT_LOADED: "GPU telemetry unavailable: the NVIDIA kernel driver is not loaded",
		nvml.ERROR_UNKNOWN:           "GPU telemetry unavailable: nvml.Init: ",
	} {
		lib := &mock.Interface{InitFunc: func() nvml.Return { return ret }}
		mon := Open(Options{Lib: lib})
		inv := mon.Inventory()
		if inv.Available || !strings.HasPrefix(inv.Reason, want) || inv.String() != inv.Reason {
			t.Errorf("Init %v: inventory %+v, want reason starting %q", ret, inv, want)
		}
		if err := mon.Preflight(context.Background(), 0); err != nil {
			t.Errorf("Init %v: Preflight = %v, want nil (nothing to check)", ret, err)
		}
		if tel := mon.Watch(context.Background(), 0, time.Millisecond)(); tel.Samples != 0 {
			t.Errorf("Init %v: Watch recorded %+v", ret, tel)
		}
		if n := len(lib.InitCalls()); n != 1 {
			t.Errorf("Init called %d times, want 1", n)
		}
	}
}

func TestPreflightRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("missing GPU", func(t *testing.T) {
		n := openMock(t, newH100(t).srv, Options{})
		err := n.Preflight(ctx, 8)
		var pe *research.PreflightError
		if !errors.As(err, &pe) || pe.GPU != 8 || pe.WarnOnly || !errors.Is(err, research.ErrGPUBusy) {
			t.Fatalf("Preflight(8) = %#v", err)
		}
		if want := "GPU 8: no GPU 8 on this host (8 found)"; err.Error() != want {
			t.Errorf("got %q, want %q", err, want)
		}
	})
	t.Run("short of memory", func(t *testing.T) {
		h := newH100(t)
		h.dev.MemoryInfo.Free = 1000 * mib
		n := openMock(t, h.srv, Options{MinFreeMB: 2000, AllowShared: true})
		err := n.Preflight(ctx, 0)
		if err == nil || err.Error() != "GPU 0: only 1000 MiB free (want 2000)" {
			t.Fatalf("Preflight = %v", err)
		}
		if pe := err.(*research.PreflightError); pe.WarnOnly {
			t.Error("low memory is only a warning; it must refuse even with AllowShared")
		}
		h.dev.MemoryInfo.Free = 2000 * mib
		if err := n.Preflight(ctx, 0); err != nil {
			t.Errorf("with exactly the floor free: %v", err)
		}
	})
	t.Run("foreign process", func(t *testing.T) {
		h := newH100(t)
		h.setProcs(300, 4242) // our trainer's child and a stranger
		n := openMock(t, h.srv, Options{MinFreeMB: 1000})
		err := n.Preflight(ctx, 0)
		var pe *research.PreflightError
		if !errors.As(err, &pe) || pe.WarnOnly {
			t.Fatalf("Preflight = %#v", err)
		}
		if !strings.Contains(err.Error(), "foreign compute process pid 4242 (python3) is using it") || strings.Contains(err.Error(), "300") {
			t.Errorf("Preflight = %q", err)
		}
		shared := openMock(t, h.srv, Options{AllowShared: true})
		err = shared.Preflight(ctx, 0)
		if !errors.As(err, &pe) || !pe.WarnOnly || !strings.Contains(err.Error(), "shared with pid 4242 (python3)") {
			t.Errorf("AllowShared: Preflight = %#v", err)
		}
	})
	t.Run("ours and tricky names", func(t *testing.T) {
		h := newH100(t)
		h.setProcs(100, 200, 300)
		n := openMock(t, h.srv, Options{})
		if err := n.Preflight(ctx, 0); err != nil {
			t.Errorf("our own processes: %v", err)
		}
		h.setProcs(555) // comm "my) S 100 (x": its parent is 1, not 100
		if err := n.Preflight(ctx, 0); err == nil || !strings.Contains(err.Error(), "pid 555 (my) S 100 (x)") {
			t.Errorf("tricky comm: %v", err)
		}
	})
	t.Run("invisible pids", func(t *testing.T) {
		h := newH100(t)
		h.setProcs(9999) // not in /proc: another pid namespace, or gone
		n := openMock(t, h.srv, Options{})
		if err := n.Preflight(ctx, 0); err == nil || !strings.Contains(err.Error(), "pid 9999 (not visible from here)") {
			t.Errorf("invisible foreign pid: %v", err)
		}
		// A pid seen as ours while watching that has since exited (its CUDA
		// context still being torn down) is not foreign.
		n.mu.Lock()
		n.ours[9999] = true
		n.mu.Unlock()
		if err := n.Preflight(ctx, 0); err != nil {
			t.Errorf("our exited trainer: %v", err)
		}
	})
	t.Run("settle", func(t *testing.T) {
		h := newH100(t)
		calls := 0
		h.dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			calls++
			if calls == 1 {
				return []nvml.ProcessInfo{{Pid: 4242}}, nvml.SUCCESS
			}
			return nil, nvml.SUCCESS
		}
		n := openMock(t, h.srv, Options{Settle: time.Millisecond})
		if err := n.Preflight(ctx, 0); err != nil || calls != 2 {
			t.Errorf("a process gone at the second look: err %v after %d looks", err, calls)
		}
	})
	t.Run("lost GPU", func(t *testing.T) {
		h := newH100(t)
		h.dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return nil, nvml.ERROR_GPU_IS_LOST }
		n := openMock(t, h.srv, Options{})
		if err := n.Preflight(ctx, 0); err == nil || !strings.Contains(err.Error(), "cannot list its compute processes") {
			t.Errorf("lost GPU: %v", err)
		}
	})
}

// script sets device 0 to report sample i's figures on the i-th reading.
type figures struct {
	util, tempC, clock uint32
	usedMiB            uint64
	powerMW            uint32
	reasons            uint64
	procs              []uint32
}

func scriptDevice(h *h100, samples []figures) (next func()) {
	var mu sync.Mutex
	i := 0
	cur := func() figures {
		mu.Lock()
		defer mu.Unlock()
		return samples[min(i, len(samples)-1)]
	}
	d := h.dev
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		return nvml.Utilization{Gpu: cur().util}, nvml.SUCCESS
	}
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
		return nvml.Memory{Total: 81920 * mib, Used: cur().usedMiB * mib, Free: (81920 - cur().usedMiB) * mib}, nvml.SUCCESS
	}
	d.GetTemperatureFunc = func(s nvml.TemperatureSensors) (uint32, nvml.Return) {
		if s != nvml.TEMPERATURE_GPU {
			return 0, nvml.ERROR_INVALID_ARGUMENT
		}
		return cur().tempC, nvml.SUCCESS
	}
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return cur().powerMW, nvml.SUCCESS }
	d.GetClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
		if c != nvml.CLOCK_SM {
			return 0, nvml.ERROR_INVALID_ARGUMENT
		}
		return cur().clock, nvml.SUCCESS
	}
	d.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) { return cur().reasons, nvml.SUCCESS }
	d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		var out []nvml.ProcessInfo
		for _, p := range cur().procs {
			out = append(out, nvml.ProcessInfo{Pid: p})
		}
		return out, nvml.SUCCESS
	}
	return func() {
		mu.Lock()
		i++
		mu.Unlock()
	}
}

// manualTicks drives Watch one sample at a time: tick() lets exactly one
// more sample happen and waits until it is taken.
func manualTicks(n *NVML) (tick func(), waitSample func()) {
	ticks := make(chan time.Time)
	taken := make(chan struct{}, 16)
	n.newTicker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }
	n.afterSample = func() { taken <- struct{}{} }
	return func() { ticks <- time.Now(); <-taken }, func() { <-taken }
}

func TestWatchAggregatesSamples(t *testing.T) {
	h := newH100(t)
	next := scriptDevice(h, []figures{
		{util: 90, usedMiB: 10000, tempC: 60, powerMW: 300000, clock: 1800,
			reasons: nvml.ClocksEventReasonGpuIdle | nvml.ClocksEventReasonApplicationsClocksSetting | nvml.ClocksEventReasonSyncBoost,
			procs:   []uint32{300}},
		{util: 100, usedMiB: 20000, tempC: 75, powerMW: 500000, clock: 1980,
			reasons: nvml.ClocksEventReasonSwPowerCap | nvml.ClocksThrottleReasonHwSlowdown, procs: []uint32{300}},
		{util: 80, usedMiB: 15000, tempC: 70, powerMW: 400000, clock: 1700, procs: []uint32{300, 4242, 9999}},
	})
	n := openMock(t, h.srv, Options{})
	tick, waitFirst := manualTicks(n)
	stop := n.Watch(context.Background(), 0, time.Hour)
	waitFirst()
	next()
	tick()
	next()
	tick()
	got := stop()
	want := research.Telemetry{Samples: 3, MeanUtilPct: 90, PeakMemoryMB: 20000, MaxTempC: 75, MeanPowerW: 400,
		MaxSMClockMHz: 1980, Throttled: true, ThrottleReason: []string{"hw_slowdown", "sw_power_cap"},
		Shared: true, SharedBy: []string{"pid 4242 (python3)", "pid 9999 (not visible from here)"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Watch aggregate = %+v\nwant %+v", got, want)
	}
	if again := stop(); !reflect.DeepEqual(again, got) {
		t.Errorf("second stop() = %+v", again)
	}
	if got.Comparable() {
		t.Error("a throttled, shared experiment must not be comparable")
	}
}

func TestWatchIdleIsNotThrottlingAndOursIsNotShared(t *testing.T) {
	h := newH100(t)
	scriptDevice(h, []figures{{util: 99, usedMiB: 100, tempC: 50, powerMW: 100000, clock: 1000,
		reasons: nvml.ClocksEventReasonGpuIdle | nvml.ClocksEventReasonApplicationsClocksSetting | nvml.ClocksEventReasonDisplayClockSetting,
		procs:   []uint32{200, 300}}})
	n := openMock(t, h.srv, Options{})
	_, waitFirst := manualTicks(n)
	stop := n.Watch(context.Background(), 0, time.Hour)
	waitFirst()
	got := stop()
	if got.Samples != 1 || got.Throttled || got.Shared || !got.Comparable() {
		t.Errorf("idle/app-clock reasons and our own processes: %+v", got)
	}
	// One invisible pid while none of ours is visible: our trainer seen from
	// another pid namespace, not a stranger.
	scriptDevice(h, []figures{{procs: []uint32{9999}}})
	_, waitFirst = manualTicks(n)
	stop = n.Watch(context.Background(), 0, time.Hour)
	waitFirst()
	if got := stop(); got.Shared {
		t.Errorf("a single invisible pid while training was taken as foreign: %+v", got)
	}
}

// Metrics the GPU or driver lacks are skipped (and asked for once); a driver
// without the ClocksEventReasons symbol is read through the older name.
func TestWatchToleratesMissingMetricsAndOldDrivers(t *testing.T) {
	h := newH100(t)
	next := scriptDevice(h, []figures{{util: 50, usedMiB: 1000, clock: 1500, reasons: nvml.ClocksThrottleReasonHwThermalSlowdown}})
	h.dev.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	h.dev.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_FUNCTION_NOT_FOUND }
	h.dev.GetCurrentClocksEventReasonsFunc = nil // calling it panics
	h.dev.GetCurrentClocksThrottleReasonsFunc = func() (uint64, nvml.Return) {
		return nvml.ClocksThrottleReasonHwThermalSlowdown, nvml.SUCCESS
	}
	h.srv.LookupSymbolFunc = func(sym string) error {
		if sym == "nvmlDeviceGetCurrentClocksEventReasons" {
			return errors.New("undefined symbol")
		}
		return nil
	}
	n := openMock(t, h.srv, Options{})
	tick, waitFirst := manualTicks(n)
	stop := n.Watch(context.Background(), 0, time.Hour)
	waitFirst()
	next()
	tick()
	got := stop()
	want := research.Telemetry{Samples: 2, MeanUtilPct: 50, PeakMemoryMB: 1000, MaxSMClockMHz: 1500,
		Throttled: true, ThrottleReason: []string{"hw_thermal"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("aggregate = %+v\nwant %+v", got, want)
	}
	if c := len(h.dev.GetTemperatureCalls()); c != 1 {
		t.Errorf("unsupported temperature asked %d times, want once", c)
	}

	// Neither symbol: no throttle reasons are read at all.
	h2 := newH100(t)
	scriptDevice(h2, []figures{{util: 1}})
	h2.dev.GetCurrentClocksEventReasonsFunc = nil
	h2.srv.LookupSymbolFunc = func(string) error { return errors.New("undefined symbol") }
	n2 := openMock(t, h2.srv, Options{})
	_, waitFirst = manualTicks(n2)
	stop = n2.Watch(context.Background(), 0, time.Hour)
	waitFirst()
	if got := stop(); got.Samples != 1 || got.Throttled {
		t.Errorf("no reasons symbol: %+v", got)
	}
}

func TestWatchOfAMissingGPURecordsNothing(t *testing.T) {
	n := openMock(t, newH100(t).srv, Options{})
	if got := n.Watch(context.Background(), 12, time.Millisecond)(); got.Samples != 0 {
		t.Errorf("Watch(12) = %+v", got)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Preflight(context.Background(), 0); err == nil {
		t.Error("Preflight after Close went ahead")
	}
}

func TestThrottleNames(t *testing.T) {
	if got := ThrottleNames(nvml.ClocksEventReasonAll); !reflect.DeepEqual(got, []string{"hw_slowdown", "sw_thermal", "hw_thermal", "hw_power_brake", "sw_power_cap"}) {
		t.Errorf("ThrottleNames(all) = %v", got)
	}
	if got := ThrottleNames(nvml.ClocksEventReasonGpuIdle | nvml.ClocksEventReasonApplicationsClocksSetting | nvml.ClocksEventReasonSyncBoost | nvml.ClocksEventReasonDisplayClockSetting); got != nil {
		t.Errorf("idle/app clocks/sync boost/display = %v, want none", got)
	}
}

func TestReadNow(t *testing.T) {
	h := newH100(t)
	scriptDevice(h, []figures{{util: 42, usedMiB: 2048, tempC: 55, powerMW: 123500, clock: 1400}})
	h.dev.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	var mon research.GPUMonitor = openMock(t, h.srv, Options{})
	r, ok := mon.(Reader)
	if !ok {
		t.Fatal("the NVML monitor is not a Reader")
	}
	got, err := r.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if got.UtilPct != 42 || got.MemoryUsedMB != 2048 || got.TempC != 55 || got.SMClockMHz != 1400 || got.PowerW == got.PowerW {
		t.Errorf("Read(0) = %+v (power must be NaN: unsupported)", got)
	}
	if _, err := r.Read(9); err == nil {
		t.Error("Read(9) of an 8-GPU host succeeded")
	}
	if _, ok := Unavailable("x", nil).(Reader); ok {
		t.Error("the unavailable monitor claims to read GPUs")
	}
}
