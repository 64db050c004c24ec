package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// Span is one training run as seen from both sides: when the harness
// called and got back from Trainer.Train, and when the training process
// itself started and ended (the stamps the simulated train.py writes).
type Span struct {
	Slot      string    `json:"slot"`
	Seq       int       `json:"seq"` // order of Train calls across all slots
	CallStart time.Time `json:"call_start"`
	CallEnd   time.Time `json:"call_end"`
	ProcStart time.Time `json:"proc_start"` // zero when the trainer left no stamp
	ProcEnd   time.Time `json:"proc_end"`
	ExitCode  int       `json:"exit_code"`
}

// Stamped tells whether the training process recorded its own times.
func (s Span) Stamped() bool { return !s.ProcStart.IsZero() && !s.ProcEnd.IsZero() }

// Busy is how long the training process ran (its own stamps; the Train
// call when there are none).
func (s Span) Busy() time.Duration {
	if s.Stamped() {
		return s.ProcEnd.Sub(s.ProcStart)
	}
	return s.CallEnd.Sub(s.CallStart)
}

func (s Span) start() time.Time {
	if s.Stamped() {
		return s.ProcStart
	}
	return s.CallStart
}

func (s Span) end() time.Time {
	if s.Stamped() {
		return s.ProcEnd
	}
	return s.CallEnd
}

// Log collects the spans of every Recording that shares it.
type Log struct {
	mu    sync.Mutex
	seq   int
	spans []Span
}

func (l *Log) next() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	return l.seq
}

func (l *Log) add(s Span) {
	l.mu.Lock()
	l.spans = append(l.spans, s)
	l.mu.Unlock()
}

// Spans returns the recorded spans ordered by start.
func (l *Log) Spans() []Span {
	l.mu.Lock()
	out := slices.Clone(l.spans)
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].start().Before(out[j].start()) })
	return out
}

// Recording is a research.Trainer that runs Inner and records a Span per
// run in Log. It tells the trainer where to write its own start and end
// times through StampEnv (a file in StampDir).
type Recording struct {
	Inner    research.Trainer
	Slot     string
	Log      *Log
	StampDir string
}

var _ research.Trainer = (*Recording)(nil)

// Train runs the inner trainer and records the span.
func (r *Recording) Train(ctx context.Context, job research.TrainJob) (research.TrainResult, error) {
	seq := r.Log.next()
	stamp := filepath.Join(r.StampDir, fmt.Sprintf("%s-%04d.stamp", r.Slot, seq))
	job.Env = append(slices.Clip(job.Env), StampEnv+"="+stamp)
	span := Span{Slot: r.Slot, Seq: seq, CallStart: time.Now()}
	res, err := r.Inner.Train(ctx, job)
	span.CallEnd = time.Now()
	span.ExitCode = res.ExitCode
	span.ProcStart, span.ProcEnd = readStamp(stamp)
	r.Log.add(span)
	return res, err
}

// readStamp reads "START END" Unix seconds; zero times when absent.
func readStamp(path string) (time.Time, time.Time) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, time.Time{}
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return time.Time{}, time.Time{}
	}
	a, err1 := strconv.ParseFloat(f[0], 64)
	b, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}
	}
	return unix(a), unix(b)
}

func unix(sec float64) time.Time {
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9))
}
