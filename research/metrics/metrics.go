// Package metrics serves the loop's state in the Prometheus text format:
// experiment counts, the best val_bpb, the running experiment's progress,
// LLM tokens, GPU gauges and the chat outbox's backlog.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gpu"
)

// The sources a scrape pulls from; each may be nil.
type (
	StatusSource interface {
		Status(ctx context.Context) (research.Status, error)
	}
	BacklogSource interface {
		OutboxBacklog(ctx context.Context) (int, error)
	}
)

// Collector serves /metrics in the Prometheus text format. It is a
// research.Observer (it remembers the latest progress and GPU telemetry) and
// pulls the loop's status, a live GPU reading and the outbox backlog at
// scrape time.
type Collector struct {
	Status   StatusSource
	Backlog  BacklogSource
	GPU      gpu.Reader // nil: GPU gauges from the last experiment's telemetry
	GPUIndex int
	Logger   *slog.Logger // default slog.Default()

	mu        sync.Mutex
	progress  float64 // 0..1 of the running experiment
	running   bool
	telemetry *research.Telemetry // of the last finished experiment
}

// Event remembers what a scrape cannot pull.
func (c *Collector) Event(e research.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Kind {
	case research.EventExperimentStarted:
		c.running, c.progress = true, 0
	case research.EventProgress:
		if e.Progress != nil {
			c.running, c.progress = true, e.Progress.Percent/100
		}
	case research.EventExperimentFinished:
		c.running, c.progress = false, 0
		if e.Telemetry != nil {
			t := *e.Telemetry
			c.telemetry = &t
		}
	case research.EventRunStopped:
		c.running, c.progress = false, 0
	}
}

// metricFamily is one metric with its samples.
type metricFamily struct {
	name, help, kind string
	samples          []metricSample
}

type metricSample struct {
	labels string // `status="keep"`, or ""
	value  float64
}

func (c *Collector) gather(ctx context.Context) []metricFamily {
	var fams []metricFamily
	add := func(name, kind, help string, samples ...metricSample) {
		fams = append(fams, metricFamily{name: name, help: help, kind: kind, samples: samples})
	}
	c.mu.Lock()
	progress, running, tel := c.progress, c.running, c.telemetry
	c.mu.Unlock()

	var st research.Status
	haveStatus := false
	if c.Status != nil {
		var err error
		if st, err = c.Status.Status(ctx); err == nil {
			haveStatus = true
		} else {
			c.logger().Debug("metrics: status", "err", err)
		}
	}
	if haveStatus {
		add("autoresearch_experiments_total", "counter", "Experiments of the current run by outcome.",
			metricSample{`status="keep"`, float64(st.Counts.Keep)},
			metricSample{`status="discard"`, float64(st.Counts.Discard)},
			metricSample{`status="crash"`, float64(st.Counts.Crash)})
		if st.Best != nil && st.Best.Summary.ValBPB > 0 {
			add("autoresearch_best_val_bpb", "gauge", "Best validation bits per byte of the current run (lower is better).",
				metricSample{"", st.Best.Summary.ValBPB})
		}
		progress, running = 0, st.Current != nil
		if st.Current != nil && st.Progress != nil {
			progress = st.Progress.Percent / 100
		}
		add("autoresearch_llm_tokens_total", "counter", "LLM tokens spent by the current run.",
			metricSample{`kind="prompt"`, float64(st.Usage.PromptTokens)},
			metricSample{`kind="completion"`, float64(st.Usage.CompletionTokens)})
	}
	if !running {
		progress = 0
	}
	add("autoresearch_experiment_progress_ratio", "gauge", "Progress of the experiment training now, 0 to 1 (0 when none).",
		metricSample{"", progress})

	label := fmt.Sprintf(`gpu="%d"`, c.GPUIndex)
	util, mem, temp, power := math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if c.GPU != nil {
		if r, err := c.GPU.Read(c.GPUIndex); err == nil {
			util, mem, temp, power = r.UtilPct, r.MemoryUsedMB, r.TempC, r.PowerW
		}
	} else if tel != nil {
		util, mem, temp, power = tel.MeanUtilPct, tel.PeakMemoryMB, tel.MaxTempC, tel.MeanPowerW
	}
	gauge := func(name, help string, v float64) {
		if !math.IsNaN(v) {
			add(name, "gauge", help, metricSample{label, v})
		}
	}
	gauge("autoresearch_gpu_utilization_percent", "GPU utilization.", util)
	gauge("autoresearch_gpu_memory_used_bytes", "GPU memory in use.", mem*1024*1024)
	gauge("autoresearch_gpu_temperature_celsius", "GPU temperature.", temp)
	gauge("autoresearch_gpu_power_watts", "GPU power draw.", power)

	if c.Backlog != nil {
		if n, err := c.Backlog.OutboxBacklog(ctx); err == nil {
			add("autoresearch_outbox_backlog", "gauge", "Chat messages waiting to be delivered.", metricSample{"", float64(n)})
		}
	}
	return fams
}

// writeExposition writes families in the Prometheus text format 0.0.4.
func writeExposition(w io.Writer, fams []metricFamily) error {
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].name < fams[j].name })
	var b strings.Builder
	for _, f := range fams {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
		for _, s := range f.samples {
			b.WriteString(f.name)
			if s.labels != "" {
				b.WriteString("{" + s.labels + "}")
			}
			b.WriteString(" " + formatValue(s.value) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_ = writeExposition(w, c.gather(ctx))
}

func (c *Collector) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default().With("component", "metrics")
}

// Serve listens on addr and serves c at /metrics until stop is called; bound
// is the address it listens on (addr with port 0 picks one).
func Serve(addr string, c *Collector) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	logger := c.logger()
	mux := http.NewServeMux()
	mux.Handle("/metrics", c)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "err", err)
		}
	}()
	logger.Info("serving Prometheus metrics", "addr", ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, ln.Addr().String(), nil
}
