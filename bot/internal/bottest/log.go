package bottest

import (
	"bytes"
	"strings"
	"sync"
)

// LockedLog collects log records written from several goroutines.
type LockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Panics returns the records of recovered panics.
func (l *LockedLog) Panics() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		if strings.Contains(line, "panic recovered") {
			out = append(out, line)
		}
	}
	return out
}
