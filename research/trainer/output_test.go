package trainer

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// tailBuffer must hold exactly the last max bytes, whatever the chunking.
func TestTailBuffer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, max := range []int{1, 7, 64, 1000} {
		tb := tailBuffer{max: max}
		var all []byte
		for i := range 500 {
			chunk := make([]byte, rng.IntN(3*max))
			for j := range chunk {
				chunk[j] = byte('a' + (i+j)%26)
			}
			tb.write(chunk)
			all = append(all, chunk...)
			want := all
			if len(want) > max {
				want = want[len(want)-max:]
			}
			if !bytes.Equal(tb.bytes(), want) {
				t.Fatalf("max %d after %d writes: got %q, want %q", max, i+1, tb.bytes(), want)
			}
			// Memory stays bounded: max plus the compaction slack, with
			// room for append's growth and small allocation size classes.
			if cap(tb.buf) > 3*max+16 {
				t.Fatalf("max %d: buffer grew to %d", max, cap(tb.buf))
			}
		}
	}
}

// The scanner splits on '\r' and '\n' even when a line spans reads.
func TestOutputScanAcrossChunks(t *testing.T) {
	var mu sync.Mutex
	var got []research.Progress
	o := newOutput(nil, func(p research.Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	})
	o.relay.interval = 0 // deliver every report this test offers
	text := "noise\rstep 1 (10.0%) | loss: 2.0\rstep 2 (20.0%) | loss: 1.5\nstep 3 (30"
	for i := range len(text) {
		o.write([]byte{text[i]})
	}
	o.write([]byte(".0%) | loss: 1.0")) // no final separator: finish handles it
	o.finish()
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[len(got)-1].Step != 3 || got[len(got)-1].Percent != 30 {
		t.Fatalf("progress %+v, want the last to be step 3 at 30%%", got)
	}
	for _, p := range got {
		if p.Step < 1 || p.Step > 3 {
			t.Fatalf("bogus progress %+v", p)
		}
	}
}

// An overlong line is not parsed even if it starts like progress.
func TestOutputOverlongLineIgnored(t *testing.T) {
	called := false
	o := newOutput(nil, func(research.Progress) { called = true })
	o.write([]byte("step 1 (1.0%) | " + string(bytes.Repeat([]byte("x"), maxLine)) + "\n"))
	o.finish()
	if called {
		t.Fatal("overlong line reported as progress")
	}
}

// The relay throttles, always delivers the latest report last, and never
// calls after close returned.
func TestProgressRelay(t *testing.T) {
	var (
		mu     sync.Mutex
		calls  []int64
		closed bool
		late   bool
	)
	r := newProgressRelay(func(p research.Progress) {
		time.Sleep(time.Millisecond) // a slow front end must not block offer
		mu.Lock()
		defer mu.Unlock()
		if closed {
			late = true
		}
		calls = append(calls, p.Step)
	}, 50*time.Millisecond)
	const n = 2000
	for i := int64(1); i <= n; i++ {
		r.offer(research.Progress{Step: i})
	}
	r.close()
	mu.Lock()
	defer mu.Unlock()
	closed = true
	if late {
		t.Fatal("called after close")
	}
	if len(calls) == 0 || calls[len(calls)-1] != n {
		t.Fatalf("calls %v, want the last to be %d", calls, n)
	}
	if len(calls) >= n {
		t.Fatalf("%d calls for %d offers: not throttled", len(calls), n)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Fatalf("out of order: %v", calls)
		}
	}
}
