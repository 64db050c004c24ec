//go:build cgo

package gpu

// Telemetry: reading a GPU's figures once (Read, for metrics scrapes) and
// while an experiment trains (Watch). Apart from nvml.go (opening NVML) and
// nvml_preflight.go (the checks before an experiment).

import (
	"context"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/autoresearch/autoresearch/research"
)

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
