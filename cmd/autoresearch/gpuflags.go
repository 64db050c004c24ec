package main

import (
	"flag"
	"fmt"
	"log/slog"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gpu"
	"github.com/autoresearch/autoresearch/research/metrics"
)

// gpuFlags are the loop flags about the GPU and the metrics endpoint; they
// are part of loopFlags, so they mean the same in run, bot and doctor.
type gpuFlags struct {
	disabled    bool // no GPU monitor at all (the CPU-only demo)
	index       int
	minFreeMB   int
	allowShared bool
	metricsAddr string
}

func (g *gpuFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&g.index, "gpu-index", -1, "the GPU (NVML index) experiments train on, checked before each one and watched while it trains; sets CUDA_VISIBLE_DEVICES for the trainer (default: GPU 0, environment untouched)")
	fs.IntVar(&g.minFreeMB, "gpu-min-free-mb", 0, "free GPU memory (MiB) required before each experiment; less pauses the run (0: no floor)")
	fs.BoolVar(&g.allowShared, "allow-shared-gpu", false, "only warn when another process computes on the GPU (by default the run pauses: a shared GPU makes results incomparable)")
	fs.StringVar(&g.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on ADDR/metrics, e.g. :9100 (default: off)")
}

func (g *gpuFlags) validate() error {
	if g.minFreeMB < 0 {
		return usagef("--gpu-min-free-mb must be 0 or more")
	}
	if g.index < -1 {
		return usagef("--gpu-index must be 0 or more")
	}
	return nil
}

// gpuIndex is the GPU the loop checks and watches.
func (g *gpuFlags) gpuIndex() int {
	if g.index < 0 {
		return 0
	}
	return g.index
}

// apply puts the GPU choice into the loop's config: an explicit --gpu-index
// also pins the trainer to that GPU (in NVML's PCI bus order).
func (g *gpuFlags) apply(cfg *research.Config) {
	cfg.GPUIndex = g.gpuIndex()
	if g.index >= 0 {
		cfg.TrainEnv = append(cfg.TrainEnv, "CUDA_DEVICE_ORDER=PCI_BUS_ID", fmt.Sprintf("CUDA_VISIBLE_DEVICES=%d", g.index))
	}
}

// openGPU opens the NVML monitor ("GPU telemetry unavailable: ..." without
// a driver or cgo) and describes the GPU the loop uses for run headers.
func (g *gpuFlags) openGPU(logger *slog.Logger) research.GPUMonitor {
	return gpu.Open(gpu.Options{MinFreeMB: g.minFreeMB, AllowShared: g.allowShared, Logger: logger.With("component", "gpu")})
}

// describeGPU is what Config.GPU says about the GPU in headers and results.
func describeGPU(inv research.Inventory, index int) string {
	if !inv.Available || index >= len(inv.GPUs) {
		return ""
	}
	gi := inv.GPUs[index]
	return fmt.Sprintf("GPU %d: %s, %.0f GiB (driver %s, CUDA %s)", index, gi.Name, gi.MemoryTotalMB/1024, inv.DriverVersion, inv.CUDAVersion)
}

// wireGPU gives the manager its GPU monitor (preflight before every
// experiment, telemetry while training) and starts the metrics endpoint.
// The metrics collector pulls the status at scrape time; front ends that
// set Manager.Observer may tee events to p.metrics too (see observe).
func (p *loopParts) wireGPU(f *loopFlags, logger *slog.Logger) error {
	m := p.manager
	if !f.gpu.disabled {
		m.GPU = f.gpu.openGPU(logger)
		if m.Config.GPU == "" {
			m.Config.GPU = describeGPU(m.GPU.Inventory(), m.Config.GPUIndex)
		}
		logger.Info("GPU", "inventory", m.GPU.Inventory().String(), "index", m.Config.GPUIndex)
	}
	if f.gpu.metricsAddr == "" {
		return nil
	}
	c := &metrics.Collector{Status: m, Backlog: p.db, GPUIndex: m.Config.GPUIndex, Logger: logger.With("component", "metrics")}
	if r, ok := m.GPU.(gpu.Reader); ok {
		c.GPU = r
	}
	stop, _, err := metrics.Serve(f.gpu.metricsAddr, c)
	if err != nil {
		return &research.InputError{Msg: fmt.Sprintf("--metrics-addr %s: %v", f.gpu.metricsAddr, err), Err: err}
	}
	p.metrics, p.stopMetrics = c, stop
	return nil
}

// observe returns o, teeing events to the metrics collector when there is one.
func (p *loopParts) observe(o research.Observer) research.Observer {
	if p.metrics == nil {
		return o
	}
	c := p.metrics
	return research.ObserverFunc(func(e research.Event) {
		c.Event(e)
		if o != nil {
			o.Event(e)
		}
	})
}
