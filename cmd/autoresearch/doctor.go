package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/autoresearch/autoresearch/bot/slack"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/doctor"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Check levels and lines, as research/doctor prints them.
const (
	checkOK   = doctor.OK
	checkWarn = doctor.Warn
	checkFail = doctor.Fail
)

type checkResult = doctor.Result

// doctorParts are the flags and the host's functions `doctor` is wired
// from; tests replace the functions.
type doctorParts struct {
	flags        *loopFlags
	requireSlack bool
	noGPU        bool
	getenv       func(string) string
	lookPath     func(string) (string, error)
	openGPU      func() research.GPUMonitor
	client       *http.Client
	home         string // for ~/.cache/autoresearch
	diskWarn     uint64 // bytes; warn below (10 GiB)
	diskFail     uint64 // bytes; fail below (1 GiB)
	// probe says how the trainer is isolated here (trainer.Probe).
	probe func() trainer.ProbeResult
}

func doctorCmd(args []string, streams IO) error {
	fs := newFlagSet("doctor", streams)
	var f loopFlags
	f.register(fs)
	requireSlack := fs.Bool("require-slack", false, "fail (not warn) when SLACK_BOT_TOKEN is not set")
	noGPU := fs.Bool("no-gpu", false, "the training needs no GPU (a CPU-only train.py): a missing GPU is a warning")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	home, _ := os.UserHomeDir()
	d := &doctorParts{
		flags: &f, requireSlack: *requireSlack, noGPU: *noGPU,
		getenv: os.Getenv, lookPath: exec.LookPath, home: home,
		client:   &http.Client{Timeout: 15 * time.Second},
		diskWarn: 10 << 30, diskFail: 1 << 30,
		probe: f.iso.describe,
	}
	d.openGPU = func() research.GPUMonitor { return f.gpu.openGPU(newLogger(os.Stderr, 100)) }
	return d.report(context.Background(), streams.Out)
}

// doctor is the check as the flags describe it now.
func (d *doctorParts) doctor() *doctor.Doctor {
	dir, err := d.flags.absRepo()
	cfg := d.flags.config(dir)
	return &doctor.Doctor{
		Repo: dir, RepoErr: err,
		StateDir: cfg.StateDir, RequiredFiles: cfg.RequiredFiles(), TrainCmd: d.flags.trainCmd,
		Proposer: d.flags.proposer, Model: d.flags.modelName(), GPUIndex: d.flags.gpu.gpuIndex(),
		NoGPU: d.noGPU, Slurm: d.flags.slurm.runner == "slurm", RequireSlack: d.requireSlack,
		Home: d.home, Getenv: d.getenv, LookPath: d.lookPath, OpenGPU: d.openGPU, Client: d.client,
		DiskWarn: d.diskWarn, DiskFail: d.diskFail, Probe: d.probe,
		Slack: func(ctx context.Context) (string, bool, error) {
			msg, err := slack.CheckSetup(ctx, d.getenv)
			return msg, !errors.Is(err, slack.ErrNotConfigured), err
		},
	}
}

func (d *doctorParts) report(ctx context.Context, w io.Writer) error {
	return d.doctor().Report(ctx, w)
}

func (d *doctorParts) run(ctx context.Context) []checkResult { return d.doctor().Run(ctx) }
