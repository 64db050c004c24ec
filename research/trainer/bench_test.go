package trainer

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

// BenchmarkTrainOverhead measures what one Train call costs around a command
// that does nothing: the shim (or the shell), log files, pipe, the process
// tracking. It is the harness's fixed cost per experiment. Between two
// calls the benchmark pauses 50 ms, untimed, as the harness judges and
// commits between trainings: a spare shim starts then ("spare"); "cold"
// starts every shim when its training starts.
func BenchmarkTrainOverhead(b *testing.B) {
	for _, cold := range []bool{false, true} {
		name := "spare"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			l := &Local{Command: "true", NoSpares: cold, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			defer l.Close()
			job := research.TrainJob{
				Dir: dir, LogPath: filepath.Join(dir, "logs", "x.log"), RunLogPath: filepath.Join(dir, "run.log"),
				ProcsPath: filepath.Join(dir, "trainer.procs"), OnProgress: func(research.Progress) {},
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				time.Sleep(50 * time.Millisecond)
				b.StartTimer()
				res, err := l.Train(ctx, job)
				if err != nil || res.ExitCode != 0 {
					b.Fatalf("%v %+v", err, res)
				}
			}
		})
	}
}
