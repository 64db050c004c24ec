package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestSlurmJobSaveMergesAndFinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "autoresearch.db")
	c := newClock()
	db := openAt(t, path, c)
	ctx := context.Background()
	run := mustRun(t, db, "slurm")
	e := mustStart(t, db, run.ID)

	if _, err := db.SlurmJob(ctx, "4242"); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("SlurmJob before save: %v, want research.ErrNotFound", err)
	}
	if err := db.SaveSlurmJob(ctx, 0, research.SlurmJob{}); err == nil {
		t.Fatal("SaveSlurmJob without a job id: no error")
	}
	submitted := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	logPath := "/state/logs/slurm/0001.log"
	if err := db.SaveSlurmJob(ctx, 0, research.SlurmJob{JobID: "4242", Slot: "slurm1", LogPath: logPath,
		OutPath: "/shared/jobs/job-4242.out", Dir: "/shared/worktrees/slurm1", State: "PENDING",
		Reason: "Resources", SubmittedAt: submitted}); err != nil {
		t.Fatal(err)
	}
	// Not tied to the experiment yet, and the experiment has no log path:
	// SlurmJobOf does not find it, the log path does.
	if _, err := db.SlurmJobOf(ctx, e.ID); !errors.Is(err, research.ErrNotFound) {
		t.Fatalf("SlurmJobOf before the tie: %v, want research.ErrNotFound", err)
	}
	j, err := db.SlurmJobByLogPath(ctx, logPath)
	if err != nil || j.JobID != "4242" || j.ExperimentID != 0 {
		t.Fatalf("SlurmJobByLogPath = %+v, %v", j, err)
	}
	if list, err := db.UnfinishedSlurmJobs(ctx); err != nil || len(list) != 1 {
		t.Fatalf("UnfinishedSlurmJobs = %+v, %v; want the one job", list, err)
	}

	// What the job later tells: node and GPU, then the end. Empty fields keep
	// what was recorded.
	started := submitted.Add(90 * time.Second)
	if err := db.SaveSlurmJob(ctx, e.ID, research.SlurmJob{JobID: "4242", State: "RUNNING", Node: "gpu-07", GPUType: "h100",
		Pending: 90 * time.Second, StartedAt: started}); err != nil {
		t.Fatal(err)
	}
	finished := started.Add(5 * time.Minute)
	if err := db.SaveSlurmJob(ctx, 0, research.SlurmJob{JobID: "4242", State: "COMPLETED", ExitCode: "0:0",
		Elapsed: 5 * time.Minute, MaxRSSMB: 2048.5, FinishedAt: finished}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openAt(t, path, c)
	got, err := db.SlurmJobOf(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := research.SlurmJob{JobID: "4242", ExperimentID: e.ID, Slot: "slurm1", LogPath: logPath,
		OutPath: "/shared/jobs/job-4242.out", Dir: "/shared/worktrees/slurm1", State: "COMPLETED",
		Reason: "Resources", ExitCode: "0:0", Node: "gpu-07", GPUType: "h100", Pending: 90 * time.Second,
		Elapsed: 5 * time.Minute, MaxRSSMB: 2048.5, SubmittedAt: submitted, StartedAt: started, FinishedAt: finished}
	got.UpdatedAt = time.Time{}
	if got != want {
		t.Errorf("SlurmJobOf = %+v\nwant %+v", got, want)
	}
	if list, err := db.UnfinishedSlurmJobs(ctx); err != nil || len(list) != 0 {
		t.Fatalf("UnfinishedSlurmJobs after the end = %+v, %v; want none", list, err)
	}
}

func TestSlurmJobOfFindsByTheExperimentsLogPath(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "autoresearch.db"), newClock())
	ctx := context.Background()
	run := mustRun(t, db, "slurm")
	e := mustStart(t, db, run.ID)
	e.LogPath = "/state/logs/slurm/0001.log"
	e.Status = research.StatusCrash
	e.Reason = "slurm job 7 FAILED"
	if err := db.FinishExperiment(ctx, e, run); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSlurmJob(ctx, 0, research.SlurmJob{JobID: "7", LogPath: e.LogPath, State: "FAILED"}); err != nil {
		t.Fatal(err)
	}
	j, err := db.SlurmJobOf(ctx, e.ID)
	if err != nil || j.JobID != "7" {
		t.Fatalf("SlurmJobOf = %+v, %v; want job 7 through the log path", j, err)
	}
}

func TestSlurmJobRefusesUnknownExperiment(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "autoresearch.db"), newClock())
	if err := db.SaveSlurmJob(context.Background(), 999, research.SlurmJob{JobID: "1"}); err == nil {
		t.Fatal("SaveSlurmJob with an unknown experiment: no error")
	}
}
