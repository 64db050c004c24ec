package bench

import (
	"bufio"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Figures are what one run's spans say about how busy its slots were.
//
// The steady state is what a night of experiments sees. Each slot's window
// runs from its first experiment after the baseline to its last end; the
// steady figures sum over those windows. Left out are the one-off ramp-up
// (every slot waits for the baseline by design: proposals against a setup
// that does not train are wasted; then the slots get their first proposals
// one after the other) and the drain at the end. RunOccupancy and
// WindowExpPerHour show the whole run with them.
type Figures struct {
	Slots        int           `json:"slots"`
	Experiments  int           `json:"experiments"`   // training runs, the baseline included
	Stamped      int           `json:"stamped"`       // runs whose process wrote its start/end times
	Busy         time.Duration `json:"busy_ns"`       // total training time
	Span         time.Duration `json:"span_ns"`       // first training start to last training end
	RunOccupancy float64       `json:"run_occupancy"` // Busy / (Span * Slots)

	SteadyExperiments int           `json:"steady_experiments"`  // runs after the baseline
	SlotWindows       time.Duration `json:"slot_windows_ns"`     // sum of the slots' steady windows
	Occupancy         float64       `json:"occupancy"`           // steady training time / SlotWindows
	ExpPerHour        float64       `json:"exp_per_hour"`        // sum over slots of experiments per hour of the slot's window
	WindowExpPerHour  float64       `json:"window_exp_per_hour"` // SteadyExperiments per hour from their first start to their last end (ramp-up included)

	// Gaps between one training process's end and the next one's start on
	// the same slot, after the baseline (the transition out of the baseline
	// waits for the first proposal by design and is not counted).
	Transitions int  `json:"transitions"`
	ProcessGap  Dist `json:"process_gap"` // trainer's own end stamp to the next one's start stamp
	HarnessGap  Dist `json:"harness_gap"` // Train returned to the next Train called (the harness alone)
}

// Dist summarizes durations.
type Dist struct {
	N    int           `json:"n"`
	P50  time.Duration `json:"p50_ns"`
	P95  time.Duration `json:"p95_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
}

// Analyze computes the figures of a run on slots slots from its spans.
func Analyze(spans []Span, slots int) Figures {
	f := Figures{Slots: max(slots, 1), Experiments: len(spans)}
	if len(spans) == 0 {
		return f
	}
	sorted := append([]Span(nil), spans...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].start().Before(sorted[j].start()) })
	var first, last time.Time
	for i, s := range sorted {
		if s.Stamped() {
			f.Stamped++
		}
		f.Busy += s.Busy()
		if i == 0 || s.start().Before(first) {
			first = s.start()
		}
		if i == 0 || s.end().After(last) {
			last = s.end()
		}
	}
	f.Span = last.Sub(first)
	if f.Span > 0 {
		f.RunOccupancy = f.Busy.Seconds() / (f.Span.Seconds() * float64(f.Slots))
	}

	steady := sorted[1:]
	f.SteadyExperiments = len(steady)
	if len(steady) > 0 {
		from, to := steady[0].start(), steady[0].end()
		for _, s := range steady {
			if s.end().After(to) {
				to = s.end()
			}
		}
		if w := to.Sub(from); w > 0 {
			f.WindowExpPerHour = float64(len(steady)) / w.Hours()
		}
	}
	bySlot := map[string][]Span{}
	for _, s := range sorted {
		bySlot[s.Slot] = append(bySlot[s.Slot], s)
	}
	var busy time.Duration
	for _, ss := range bySlot {
		var from, to time.Time
		n := 0
		for _, s := range ss {
			if s.Seq == sorted[0].Seq {
				continue // the baseline
			}
			if n == 0 {
				from, to = s.start(), s.end()
			}
			if s.end().After(to) {
				to = s.end()
			}
			busy += s.Busy()
			n++
		}
		if w := to.Sub(from); n > 0 && w > 0 {
			f.SlotWindows += w
			f.ExpPerHour += float64(n) / w.Hours()
		}
	}
	if f.SlotWindows > 0 {
		f.Occupancy = busy.Seconds() / f.SlotWindows.Seconds()
	}

	var proc, harness []time.Duration
	for _, ss := range bySlot {
		for i := 1; i < len(ss); i++ {
			prev, next := ss[i-1], ss[i]
			if prev.Seq == sorted[0].Seq {
				continue // out of the baseline: waits for the first proposal
			}
			harness = append(harness, next.CallStart.Sub(prev.CallEnd))
			if prev.Stamped() && next.Stamped() {
				proc = append(proc, next.ProcStart.Sub(prev.ProcEnd))
			}
		}
	}
	f.Transitions = len(harness)
	f.ProcessGap = Summarize(proc)
	f.HarnessGap = Summarize(harness)
	return f
}

// Summarize returns the nearest-rank p50 and p95, the max and the mean.
func Summarize(ds []time.Duration) Dist {
	d := Dist{N: len(ds)}
	if len(ds) == 0 {
		return d
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	d.P50, d.P95, d.Max = Percentile(s, 50), Percentile(s, 95), s[len(s)-1]
	d.Mean = sum / time.Duration(len(s))
	return d
}

// Percentile is the nearest-rank p-th percentile of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Memory is the process's resident memory and Go heap.
type Memory struct {
	RSSBytes      int64  `json:"rss_bytes"`      // VmRSS: resident now
	HWMBytes      int64  `json:"hwm_bytes"`      // VmHWM: peak resident
	HeapAlloc     uint64 `json:"heap_alloc"`     // live heap objects
	HeapInuse     uint64 `json:"heap_inuse"`     // heap spans in use
	HeapReleased  uint64 `json:"heap_released"`  // heap returned to the OS
	Sys           uint64 `json:"sys"`            // all memory obtained from the OS
	NumGC         uint32 `json:"num_gc"`         // completed GC cycles
	Goroutines    int    `json:"goroutines"`     // goroutines now
	ProcAvailable bool   `json:"proc_available"` // /proc/self/status was readable
}

// ReadMemory reads /proc/self/status (Linux) and runtime.MemStats.
func ReadMemory() Memory {
	var m Memory
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapAlloc, m.HeapInuse, m.HeapReleased, m.Sys, m.NumGC = ms.HeapAlloc, ms.HeapInuse, ms.HeapReleased, ms.Sys, ms.NumGC
	m.Goroutines = runtime.NumGoroutine()
	file, err := os.Open("/proc/self/status")
	if err != nil {
		return m
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			m.RSSBytes, m.ProcAvailable = kb<<10, true
		case "VmHWM":
			m.HWMBytes = kb << 10
		}
	}
	return m
}
