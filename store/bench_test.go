package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// BenchmarkStartFinishExperiment measures one experiment's bookkeeping: the
// start transaction (number + idea consumption) and the finish transaction
// (experiment row with a diff and log tail + run update).
func BenchmarkStartFinishExperiment(b *testing.B) {
	db := openAt(b, filepath.Join(b.TempDir(), "bench.db"), nil)
	ctx := context.Background()
	run := mustRun(b, db, "bench")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var ideas []int64
		if i%10 == 0 {
			b.StopTimer()
			ideas = []int64{mustIdea(b, db, "idea").ID}
			b.StartTimer()
		}
		e, err := db.StartExperiment(ctx, research.Experiment{RunID: run.ID, Kind: research.KindProposal, ParentCommit: run.BestCommit}, ideas)
		if err != nil {
			b.Fatal(err)
		}
		e = fullExperiment(e)
		run.BestCommit = e.Commit
		if err := db.FinishExperiment(ctx, e, run); err != nil {
			b.Fatal(err)
		}
	}
}
