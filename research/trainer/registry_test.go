package trainer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// TestEndUnderEndsOnlyTheTrainingsOfItsRoots: two loops in one process
// (the CLI's tests run them side by side); one loop's last sweep ends its
// own trainer and leaves the other's running.
func TestEndUnderEndsOnlyTheTrainingsOfItsRoots(t *testing.T) {
	mine, other := t.TempDir(), t.TempDir()
	type outcome struct {
		res research.TrainResult
		err error
	}
	// start returns when the training runs, with its process group.
	start := func(dir string) (<-chan outcome, int) {
		done := make(chan outcome, 1)
		started := make(chan int, 1)
		l := &Local{Isolation: hostPids, Command: `exec sleep 1000`, Logger: testLogger(t)}
		go func() {
			res, err := l.Train(context.Background(), research.TrainJob{Dir: filepath.Join(dir, "work"), Timeout: time.Hour,
				OnStart: func(pgid int) { started <- pgid }})
			done <- outcome{res, err}
		}()
		select {
		case pgid := <-started:
			return done, pgid
		case o := <-done:
			t.Fatalf("the training in %s did not start: %+v, %v", dir, o.res, o.err)
			return nil, 0
		}
	}
	for _, d := range []string{mine, other} {
		if err := os.Mkdir(filepath.Join(d, "work"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mineDone, minePid := start(mine)
	otherDone, otherPid := start(other)
	killAtCleanup(t, minePid)
	killAtCleanup(t, otherPid)

	if n := EndUnder([]string{mine}, 5*time.Second); n != 1 {
		t.Errorf("EndUnder ended %d trainings, want 1", n)
	}
	select {
	case o := <-mineDone:
		if o.err != nil || o.res.ExitCode == 0 {
			t.Errorf("my training: %+v, %v", o.res, o.err)
		}
	case <-time.After(time.Minute): // a last guard: the kill was sent already
		t.Fatal("my training did not end")
	}
	if !alive(otherPid) {
		t.Fatal("the other loop's trainer was killed")
	}
	select {
	case o := <-otherDone:
		t.Fatalf("the other training ended: %+v", o.res)
	default:
	}
	if n := EndUnder([]string{other}, 5*time.Second); n != 1 {
		t.Errorf("EndUnder(other) ended %d trainings, want 1", n)
	}
	<-otherDone
}
