package metrics

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/gpu"
)

type fixedStatus struct {
	st  research.Status
	err error
}

func (f *fixedStatus) Status(context.Context) (research.Status, error) { return f.st, f.err }

type fixedBacklog int

func (b fixedBacklog) OutboxBacklog(context.Context) (int, error) { return int(b), nil }

type fixedReader struct{ r gpu.Reading }

func (f fixedReader) Read(index int) (gpu.Reading, error) {
	if index != 0 {
		return gpu.Reading{}, errors.New("no such GPU")
	}
	return f.r, nil
}

// scrape serves c on a real listener and parses the exposition: it checks
// that every sample line belongs to a family announced by # HELP and # TYPE
// and returns "name{labels}" -> value.
func scrape(t *testing.T, c *Collector) map[string]float64 {
	t.Helper()
	stop, addr, err := Serve("127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	out := map[string]float64{}
	typed := map[string]string{}
	helped := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "):
			helped[strings.Fields(line)[2]] = true
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if len(f) != 4 || (f[3] != "gauge" && f[3] != "counter") {
				t.Errorf("bad TYPE line %q", line)
			}
			typed[f[2]] = f[3]
		case line == "":
			t.Error("empty line in the exposition")
		default:
			i := strings.LastIndexByte(line, ' ')
			key, val := line[:i], line[i+1:]
			name, _, _ := strings.Cut(key, "{")
			if typed[name] == "" || !helped[name] {
				t.Errorf("sample %q before its # HELP/# TYPE", line)
			}
			if strings.Contains(key, "{") && !strings.HasSuffix(key, `"}`) {
				t.Errorf("malformed labels in %q", line)
			}
			v, err := strconv.ParseFloat(val, 64)
			if err != nil {
				t.Errorf("value of %q: %v", line, err)
			}
			out[key] = v
		}
	}
	for name, kind := range typed {
		if kind == "counter" && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s should end in _total", name)
		}
	}
	return out
}

func TestMetricsFromStatusGPUAndOutbox(t *testing.T) {
	cur := &research.Experiment{Number: 7, Status: "running"}
	st := &fixedStatus{st: research.Status{
		Active: true, Current: cur, Progress: &research.Progress{Percent: 41},
		Best:   &research.Experiment{Summary: research.Summary{ValBPB: 0.9979}},
		Counts: research.Counts{Keep: 2, Discard: 3, Crash: 1, Running: 1},
		Usage:  research.Usage{PromptTokens: 12000, CompletionTokens: 800},
	}}
	c := &Collector{Status: st, Backlog: fixedBacklog(4),
		GPU:    fixedReader{gpu.Reading{UtilPct: 97, MemoryUsedMB: 45060, TempC: 71, PowerW: 612.5, SMClockMHz: 1980}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	got := scrape(t, c)
	want := map[string]float64{
		`autoresearch_experiments_total{status="keep"}`:    2,
		`autoresearch_experiments_total{status="discard"}`: 3,
		`autoresearch_experiments_total{status="crash"}`:   1,
		`autoresearch_best_val_bpb`:                        0.9979,
		`autoresearch_experiment_progress_ratio`:           0.41,
		`autoresearch_gpu_utilization_percent{gpu="0"}`:    97,
		`autoresearch_gpu_memory_used_bytes{gpu="0"}`:      45060 * 1024 * 1024,
		`autoresearch_gpu_temperature_celsius{gpu="0"}`:    71,
		`autoresearch_gpu_power_watts{gpu="0"}`:            612.5,
		`autoresearch_llm_tokens_total{kind="prompt"}`:     12000,
		`autoresearch_llm_tokens_total{kind="completion"}`: 800,
		`autoresearch_outbox_backlog`:                      4,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d samples, want %d: %v", len(got), len(want), got)
	}

	// Between experiments: no progress; a GPU figure the driver lacks is left out.
	st.st.Current, st.st.Progress = nil, nil
	c.GPU = fixedReader{gpu.Reading{UtilPct: 0, MemoryUsedMB: 1, TempC: 40, PowerW: math.NaN()}}
	got = scrape(t, c)
	if got["autoresearch_experiment_progress_ratio"] != 0 {
		t.Errorf("progress between experiments = %v", got["autoresearch_experiment_progress_ratio"])
	}
	if _, ok := got[`autoresearch_gpu_power_watts{gpu="0"}`]; ok {
		t.Error("an unsupported power reading was exported")
	}
}

// Without a status source or a live GPU, the collector serves what the
// events told it: progress and the last experiment's telemetry.
func TestMetricsFromEvents(t *testing.T) {
	c := &Collector{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c.Event(research.Event{Kind: research.EventExperimentStarted})
	c.Event(research.Event{Kind: research.EventProgress, Progress: &research.Progress{Percent: 25}})
	got := scrape(t, c)
	if got["autoresearch_experiment_progress_ratio"] != 0.25 {
		t.Errorf("progress = %v, want 0.25", got["autoresearch_experiment_progress_ratio"])
	}
	if _, ok := got["autoresearch_experiments_total{status=\"keep\"}"]; ok {
		t.Error("experiment counts exported without a status source")
	}
	c.Event(research.Event{Kind: research.EventExperimentFinished,
		Telemetry: &research.Telemetry{Samples: 3, MeanUtilPct: 88, PeakMemoryMB: 1024, MaxTempC: 66, MeanPowerW: 300}})
	got = scrape(t, c)
	if got["autoresearch_experiment_progress_ratio"] != 0 || got[`autoresearch_gpu_utilization_percent{gpu="0"}`] != 88 ||
		got[`autoresearch_gpu_memory_used_bytes{gpu="0"}`] != 1<<30 || got[`autoresearch_gpu_temperature_celsius{gpu="0"}`] != 66 ||
		got[`autoresearch_gpu_power_watts{gpu="0"}`] != 300 {
		t.Errorf("after a finished experiment: %v", got)
	}
}

func TestMetricsAddrInUseIsRefused(t *testing.T) {
	c := &Collector{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	stop, addr, err := Serve("127.0.0.1:0", c)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, _, err := Serve(addr, c); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("second listener on %s: %v", addr, err)
	}
}
