package trainer

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// TestEveryProgressLineReachesOnEveryProgress: OnProgress is throttled,
// OnEveryProgress (the loss curve early stopping follows) gets each line,
// in order, before Train returns.
func TestEveryProgressLineReachesOnEveryProgress(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.py", `import sys
for i in range(1, 501):
    print("step %05d (%.1f%%) | loss: %.4f" % (i, i / 5.0, 5 - i / 250.0), end="\r", flush=True)
print()
`)
	var every []research.Progress // appended on the reading goroutine only
	throttled := 0
	job := research.TrainJob{
		Dir: dir, LogPath: filepath.Join(t.TempDir(), "exp.log"), Timeout: time.Minute,
		OnProgress:      func(research.Progress) { throttled++ },
		OnEveryProgress: func(p research.Progress) { every = append(every, p) },
	}
	l := &Local{Command: python(t) + " train.py", Logger: testLogger(t)}
	if _, err := l.Train(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if len(every) != 500 {
		t.Fatalf("OnEveryProgress got %d of 500 lines", len(every))
	}
	for i, p := range every {
		if p.Step != int64(i+1) || math.Abs(p.Loss-(5-float64(i+1)/250)) > 1e-4 {
			t.Fatalf("line %d = %+v", i+1, p)
		}
	}
	if throttled >= 500 {
		t.Errorf("OnProgress got %d calls: it is no longer throttled", throttled)
	}
}
