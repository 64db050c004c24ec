package trainer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

const (
	// maxOutput caps TrainResult.Output: the tail crash reports need (the
	// summary is scanned from the whole stream as it passes). It is also
	// the tail a capped log file keeps.
	maxOutput = 8 << 20
	// DefaultLogHead is how much of the output the log files keep from the
	// start before they skip to the tail: a trainer printing gigabytes must
	// not fill the disk.
	DefaultLogHead = 8 << 20
	// maxLine bounds the partial line kept for progress parsing. Progress
	// lines are ~150 bytes; anything longer is not one.
	maxLine = 4096
	// progressInterval is the least time between two OnProgress calls.
	progressInterval = 250 * time.Millisecond
)

// output receives everything the train command writes: it copies it to the
// log files, keeps a capped tail in memory and feeds progress lines to the
// relay.
type output struct {
	files    []*os.File
	writeErr []error // per file; a failed file is skipped from then on
	tail     tailBuffer
	line     []byte
	overlong bool // the current line passed maxLine
	relay    *progressRelay
	every    func(research.Progress) // job.OnEveryProgress: each progress line, at once
	summary  research.SummaryScanner // the whole stream, not just the tail

	logHead int64 // bytes the log files take from the start
	total   int64 // bytes written so far
}

func newOutput(files []*os.File, onProgress func(research.Progress)) *output {
	return &output{
		files:    files,
		writeErr: make([]error, len(files)),
		tail:     tailBuffer{max: maxOutput},
		relay:    newProgressRelay(onProgress, progressInterval),
		logHead:  DefaultLogHead,
	}
}

// consume reads r until EOF or a read error (a deadline set to stop it).
func (o *output) consume(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			o.write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (o *output) write(p []byte) {
	if room := o.logHead - o.total; room > 0 {
		o.writeLogs(p[:min(int64(len(p)), room)])
	}
	o.total += int64(len(p))
	o.tail.write(p)
	_, _ = o.summary.Write(p)
	o.scan(p)
}

func (o *output) writeLogs(p []byte) {
	for i, f := range o.files {
		if o.writeErr[i] != nil {
			continue
		}
		if _, err := f.Write(p); err != nil {
			o.writeErr[i] = fmt.Errorf("%w: %s: %w", ErrLog, f.Name(), err)
		}
	}
}

// finishLogs appends what the head left out: the rest when it fits in the
// tail, else a line saying how much was cut and the tail.
func (o *output) finishLogs() {
	rest := o.total - o.logHead
	if rest <= 0 {
		return
	}
	tail := o.tail.bytes()
	if int64(len(tail)) > rest {
		tail = tail[int64(len(tail))-rest:]
	}
	if cut := rest - int64(len(tail)); cut > 0 {
		o.writeLogs([]byte(fmt.Sprintf("\n[autoresearch: %d bytes of output cut here; this log keeps the first %d and the last %d bytes of %d]\n",
			cut, o.logHead, len(tail), o.total)))
	}
	o.writeLogs(tail)
}

// scan splits on both '\r' and '\n': upstream joins progress lines with '\r'.
func (o *output) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			o.appendLine(p)
			return
		}
		o.appendLine(p[:i])
		o.endLine()
		p = p[i+1:]
	}
}

func (o *output) appendLine(p []byte) {
	if o.overlong || len(o.line)+len(p) > maxLine {
		o.overlong = true
		return
	}
	o.line = append(o.line, p...)
}

func (o *output) endLine() {
	if !o.overlong && len(o.line) > 0 {
		// Cheap filter first: most lines are not progress.
		if t := bytes.TrimLeft(o.line, " \t"); bytes.HasPrefix(t, []byte("step")) {
			if pr, ok := research.ParseProgress(string(o.line)); ok {
				if o.every != nil {
					o.every(pr)
				}
				o.relay.offer(pr)
			}
		}
	}
	o.line = o.line[:0]
	o.overlong = false
}

// finish handles a last line without a line break and waits until the last
// progress report was delivered, so that no OnProgress call happens after
// Train returns.
func (o *output) finish() {
	o.endLine()
	o.relay.close()
	o.finishLogs()
}

// err returns the write errors, if any (errors.Join skips nils).
func (o *output) err() error {
	return errors.Join(o.writeErr...)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) write(p []byte) {
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return
	}
	// Compact only once a quarter of slack has built up, so each byte is
	// moved a bounded number of times.
	if len(t.buf)+len(p) > t.max+t.max/4 {
		keep := t.max - len(p)
		n := copy(t.buf, t.buf[len(t.buf)-keep:])
		t.buf = t.buf[:n]
	}
	t.buf = append(t.buf, p...)
}

func (t *tailBuffer) bytes() []byte {
	if len(t.buf) > t.max {
		return t.buf[len(t.buf)-t.max:]
	}
	return t.buf
}

// progressRelay hands the latest progress to OnProgress from its own
// goroutine, at most once per interval. Reading the pipe never waits for the
// callback, so a slow front end cannot stall training by filling the pipe;
// reports in between are dropped (only the latest matters), but the last one
// is always delivered.
type progressRelay struct {
	fn       func(research.Progress)
	interval time.Duration

	mu      sync.Mutex
	latest  research.Progress
	pending bool

	wake     chan struct{} // capacity 1: "something new"
	done     chan struct{} // closed when the output ended
	finished chan struct{} // closed when the goroutine returned
}

func newProgressRelay(fn func(research.Progress), interval time.Duration) *progressRelay {
	r := &progressRelay{
		fn:       fn,
		interval: interval,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	if fn == nil {
		close(r.finished)
		return r
	}
	go r.run()
	return r
}

func (r *progressRelay) offer(p research.Progress) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	r.latest, r.pending = p, true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *progressRelay) close() {
	close(r.done)
	<-r.finished
}

func (r *progressRelay) run() {
	defer close(r.finished)
	var last time.Time
	for {
		select {
		case <-r.wake:
		case <-r.done:
			r.deliver()
			return
		}
		if wait := r.interval - time.Since(last); !last.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.done:
				t.Stop()
				r.deliver()
				return
			}
		}
		if r.deliver() {
			last = time.Now()
		}
	}
}

// deliver calls fn with the pending report, if there is one.
func (r *progressRelay) deliver() bool {
	r.mu.Lock()
	p, ok := r.latest, r.pending
	r.pending = false
	r.mu.Unlock()
	if ok {
		r.fn(p)
	}
	return ok
}
