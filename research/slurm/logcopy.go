package slurm

import (
	"bytes"
	"io"
	"os"
	"path/filepath"

	"github.com/autoresearch/autoresearch/research"
)

const (
	// maxOutput caps TrainResult.Output, as the local trainer does; the log
	// files keep everything.
	maxOutput = 8 << 20
	// maxSegment bounds the partial line kept for progress parsing.
	maxSegment = 4096
)

// logCopy follows the job's output file as it grows: it copies the new
// bytes into the experiment's log files, keeps the tail for the result and
// reports the latest progress line (segments end at '\r' or '\n').
type logCopy struct {
	path       string
	off        int64
	files      []*os.File
	tail       []byte
	segment    []byte
	onProgress func(research.Progress)
	finished   bool
	// summary sees the whole output, not only the tail kept in memory.
	summary research.SummaryScanner
}

func newLogCopy(path string, job research.TrainJob) *logCopy {
	l := &logCopy{path: path, onProgress: job.OnProgress}
	for _, p := range []string{job.LogPath, job.RunLogPath} {
		if p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			continue
		}
		// Truncated: a re-attach copies the job's output from its start.
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644); err == nil {
			l.files = append(l.files, f)
		}
	}
	return l
}

// read copies what the job wrote since the last read. A missing file is
// not an error: the job has not started (or the filesystem lags).
func (l *logCopy) read() {
	f, err := os.Open(l.path)
	if err != nil {
		return
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() < l.off {
		// The file shrank: SLURM requeued the job and truncated its output.
		l.off = 0
		l.tail = l.tail[:0]
		l.segment = l.segment[:0]
		l.summary = research.SummaryScanner{}
		for _, lf := range l.files {
			_ = lf.Truncate(0)
			_, _ = lf.Seek(0, io.SeekStart)
		}
	}
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		return
	}
	var last *research.Progress
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			l.off += int64(n)
			if p := l.write(buf[:n]); p != nil {
				last = p
			}
		}
		if err != nil {
			break
		}
	}
	if last != nil && l.onProgress != nil {
		l.onProgress(*last)
	}
}

// write takes new bytes; it returns the last progress line they completed.
func (l *logCopy) write(p []byte) *research.Progress {
	for _, f := range l.files {
		_, _ = f.Write(p)
	}
	_, _ = l.summary.Write(p)
	l.tail = append(l.tail, p...)
	if len(l.tail) > maxOutput+maxOutput/4 {
		l.tail = append(l.tail[:0], l.tail[len(l.tail)-maxOutput:]...)
	}
	var last *research.Progress
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			if len(l.segment)+len(p) <= maxSegment {
				l.segment = append(l.segment, p...)
			}
			break
		}
		if len(l.segment)+i <= maxSegment {
			l.segment = append(l.segment, p[:i]...)
			if pr, ok := research.ParseProgress(string(l.segment)); ok {
				last = &pr
			}
		}
		l.segment = l.segment[:0]
		p = p[i+1:]
	}
	return last
}

// finish reports a last progress line that had no line end.
func (l *logCopy) finish() {
	if l.finished {
		return
	}
	l.finished = true
	if len(l.segment) > 0 && l.onProgress != nil {
		if pr, ok := research.ParseProgress(string(l.segment)); ok {
			l.onProgress(pr)
		}
	}
	l.segment = l.segment[:0]
}

func (l *logCopy) output() []byte {
	out := l.tail
	if len(out) > maxOutput {
		out = out[len(out)-maxOutput:]
	}
	return append([]byte(nil), out...)
}

func (l *logCopy) close() {
	for _, f := range l.files {
		_ = f.Close()
	}
	l.files = nil
}
