package trainer

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// BenchmarkTrainOverhead measures what one Train call costs around a command
// that does nothing: fork/exec of the shell, log files, pipe, process-group
// check. It is the harness's fixed cost per experiment.
func BenchmarkTrainOverhead(b *testing.B) {
	dir := b.TempDir()
	l := &Local{Command: "true", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	job := research.TrainJob{
		Dir: dir, LogPath: filepath.Join(dir, "logs", "x.log"), RunLogPath: filepath.Join(dir, "run.log"),
		OnProgress: func(research.Progress) {},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := l.Train(ctx, job)
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("%v %+v", err, res)
		}
	}
}
