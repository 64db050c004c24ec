package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/bot/slack"
	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/statelock"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Check levels, printed first on each line.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "FAIL"
)

// checkResult is one line of `doctor`.
type checkResult struct {
	Level string
	Name  string
	Msg   string // what was found and, for warn/FAIL, what to do
}

// doctor checks what a run needs. Its fields are what tests replace.
type doctor struct {
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
	d := &doctor{
		flags: &f, requireSlack: *requireSlack, noGPU: *noGPU,
		getenv: os.Getenv, lookPath: exec.LookPath, home: home,
		client:   &http.Client{Timeout: 15 * time.Second},
		diskWarn: 10 << 30, diskFail: 1 << 30,
		probe: f.iso.describe,
	}
	d.openGPU = func() research.GPUMonitor { return f.gpu.openGPU(newLogger(os.Stderr, 100)) }
	return d.report(context.Background(), streams.Out)
}

// report runs every check, prints one line each and fails when one failed.
func (d *doctor) report(ctx context.Context, w io.Writer) error {
	results := d.run(ctx)
	failed := 0
	for _, r := range results {
		fmt.Fprintf(w, "%-4s  %-10s %s\n", r.Level, r.Name, r.Msg)
		if r.Level == checkFail {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", failed, len(results))
	}
	fmt.Fprintf(w, "all %d checks passed\n", len(results))
	return nil
}

func (d *doctor) run(ctx context.Context) []checkResult {
	var out []checkResult
	add := func(level, name, format string, a ...any) {
		out = append(out, checkResult{Level: level, Name: name, Msg: fmt.Sprintf(format, a...)})
	}
	dir, err := d.flags.absRepo()
	if err != nil {
		add(checkFail, "repo", "%v: pass --repo DIR (a checkout of karpathy/autoresearch)", err)
		return out
	}
	d.checkGit(dir, add)
	d.checkOwner(dir, add)
	d.checkFiles(dir, add)
	d.checkUV(add)
	d.checkDataCache(dir, add)
	d.checkGPU(ctx, add)
	d.checkSlack(ctx, add)
	d.checkLLM(ctx, add)
	d.checkDisk(dir, add)
	d.checkIsolation(add)
	return out
}

type addFunc func(level, name, format string, a ...any)

func (d *doctor) checkGit(dir string, add addFunc) {
	repo, err := gitrepo.Open(dir)
	if errors.Is(err, gitrepo.ErrNotRepository) {
		add(checkFail, "git", "%s is not a git repository: run `git init && git add prepare.py train.py program.md && git commit -m initial` there", dir)
		return
	}
	if err != nil {
		add(checkFail, "git", "cannot open %s: %v", dir, err)
		return
	}
	branch, err := repo.CurrentBranch()
	if err != nil {
		add(checkFail, "git", "no current branch in %s (%v): check out a branch with at least one commit", dir, err)
		return
	}
	dirty, err := repo.DirtyTracked()
	if err != nil {
		add(checkFail, "git", "reading the status of %s: %v", dir, err)
		return
	}
	if len(dirty) > 0 {
		add(checkFail, "git", "on branch %s, but tracked files have uncommitted changes (%s): commit or stash them", branch, strings.Join(dirty, ", "))
		return
	}
	add(checkOK, "git", "on branch %s, tracked files clean", branch)
}

// checkOwner says which process, if any, owns the repo now (doctor only
// looks, so it works while a run or the bot holds the lock).
func (d *doctor) checkOwner(dir string, add addFunc) {
	stateDir := d.flags.config(dir).StateDir
	o, held, err := statelock.Holder(stateDir)
	switch {
	case err != nil:
		add(checkWarn, "owner", "cannot read the owner lock in %s: %v", stateDir, err)
	case !held:
		add(checkOK, "owner", "no process owns %s: a run or the bot may start", dir)
	case o.PID == 0:
		add(checkOK, "owner", "another process holds %s (it is starting up)", filepath.Join(stateDir, statelock.LockFile))
	default:
		add(checkOK, "owner", "pid %d `%s`%s since %s on %s; a second run or bot on this repo is refused (stop it with `kill %d`)",
			o.PID, o.Command, tagPart(o.Tag), o.Since.Local().Format("2006-01-02 15:04:05"), o.Hostname, o.PID)
	}
}

func tagPart(tag string) string {
	if tag == "" {
		return ""
	}
	return ", run " + tag + ","
}

func (d *doctor) checkFiles(dir string, add addFunc) {
	cfg := d.flags.config(dir)
	var missing []string
	for _, f := range cfg.RequiredFiles() {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		add(checkFail, "files", "%s missing in %s: a research repo needs %s (see karpathy/autoresearch)", strings.Join(missing, ", "), dir, strings.Join(cfg.RequiredFiles(), ", "))
		return
	}
	add(checkOK, "files", "%s present", strings.Join(cfg.RequiredFiles(), ", "))
}

func (d *doctor) checkUV(add addFunc) {
	fields := strings.Fields(d.flags.trainCmd)
	if len(fields) == 0 || fields[0] != "uv" {
		add(checkOK, "uv", "not needed (--train-cmd %q)", d.flags.trainCmd)
		return
	}
	path, err := d.lookPath("uv")
	if err != nil {
		add(checkFail, "uv", "--train-cmd starts with uv, but uv is not on PATH: install it (curl -LsSf https://astral.sh/uv/install.sh | sh) or change --train-cmd")
		return
	}
	add(checkOK, "uv", "%s", path)
}

// checkDataCache looks at upstream prepare.py's cache: data/shard_*.parquet
// and tokenizer/{tokenizer.pkl,token_bytes.pt} under ~/.cache/autoresearch.
func (d *doctor) checkDataCache(dir string, add addFunc) {
	cache := filepath.Join(d.home, ".cache", "autoresearch")
	prep, _ := os.ReadFile(filepath.Join(dir, "prepare.py"))
	uses := strings.Contains(string(prep), `".cache"`) && strings.Contains(string(prep), `"autoresearch"`) ||
		strings.Contains(string(prep), ".cache/autoresearch")
	level := checkFail
	if !uses {
		level = checkWarn
	}
	fix := "run `uv run prepare.py` in the repo (downloads the shards and trains the tokenizer)"
	if !uses {
		fix += "; this repo's prepare.py does not seem to use it, so this may not matter"
	}
	shards, _ := filepath.Glob(filepath.Join(cache, "data", "shard_*.parquet"))
	var missingTok []string
	for _, f := range []string{"tokenizer.pkl", "token_bytes.pt"} {
		if _, err := os.Stat(filepath.Join(cache, "tokenizer", f)); err != nil {
			missingTok = append(missingTok, "tokenizer/"+f)
		}
	}
	switch {
	case len(shards) == 0 && len(missingTok) == 2:
		add(level, "data", "%s holds no data shards and no tokenizer: %s", cache, fix)
	case len(shards) < 2:
		add(level, "data", "%s holds %d data shard(s); training needs a training shard and the validation shard: %s", cache, len(shards), fix)
	case len(missingTok) > 0:
		add(level, "data", "%s has %d shards but lacks %s: %s", cache, len(shards), strings.Join(missingTok, ", "), fix)
	default:
		add(checkOK, "data", "%s: %d shards and the tokenizer", cache, len(shards))
	}
}

func (d *doctor) checkGPU(ctx context.Context, add addFunc) {
	mon := d.openGPU()
	if c, ok := mon.(io.Closer); ok {
		defer c.Close()
	}
	inv := mon.Inventory()
	missing := checkFail
	if d.noGPU {
		missing = checkWarn
	}
	if !inv.Available {
		fix := "install the NVIDIA driver, or start the container with --gpus all"
		if strings.Contains(inv.Reason, "without cgo") {
			fix = "rebuild with CGO_ENABLED=1 (go-nvml needs cgo)"
		}
		add(missing, "gpu", "%s: %s (pass --no-gpu for a CPU-only train.py)", inv.Reason, fix)
		return
	}
	if len(inv.GPUs) == 0 {
		add(missing, "gpu", "NVML found no GPUs (driver %s): check nvidia-smi", inv.DriverVersion)
		return
	}
	index := d.flags.gpu.gpuIndex()
	var names []string
	for _, g := range inv.GPUs {
		names = append(names, fmt.Sprintf("%d: %s %.0f MiB %s", g.Index, g.Name, g.MemoryTotalMB, g.UUID))
	}
	add(checkOK, "gpu", "%s; %s", inv.String(), strings.Join(names, "; "))
	err := mon.Preflight(ctx, index)
	var pe *research.PreflightError
	switch {
	case err == nil:
		add(checkOK, "gpu", "GPU %d is free for experiments", index)
	case errors.As(err, &pe) && pe.WarnOnly:
		add(checkWarn, "gpu", "%v", err)
	case errors.As(err, &pe) && strings.HasPrefix(pe.Reason, "no GPU"):
		add(checkFail, "gpu", "%v: pick one with --gpu-index", err)
	default:
		// Busy now is worth knowing, but it may be gone by the time the run starts.
		add(checkWarn, "gpu", "%v: the run would pause until it is free", err)
	}
}

func (d *doctor) checkSlack(ctx context.Context, add addFunc) {
	msg, err := slack.CheckSetup(ctx, d.getenv)
	switch {
	case errors.Is(err, slack.ErrNotConfigured):
		level := checkWarn
		if d.requireSlack {
			level = checkFail
		}
		add(level, "slack", "%v", err)
	case err != nil:
		add(checkFail, "slack", "%v", err)
	default:
		add(checkOK, "slack", "%s", msg)
	}
}

func (d *doctor) checkLLM(ctx context.Context, add addFunc) {
	key, base := d.getenv("OPENAI_API_KEY"), d.getenv("OPENAI_BASE_URL")
	if key == "" && base == "" {
		if d.flags.proposer == "llm" {
			add(checkFail, "llm", "--proposer llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for another endpoint); or use --proposer sweep or command")
		} else {
			add(checkOK, "llm", "not used (--proposer %s)", d.flags.proposer)
		}
		return
	}
	if base == "" {
		base = agent.DefaultBaseURL
	}
	model := d.flags.modelName()
	listed, err := agent.CheckEndpoint(ctx, d.client, base, key, model)
	switch {
	case err != nil:
		add(checkFail, "llm", "%v", err)
	case !listed:
		add(checkWarn, "llm", "%s answers, but does not list model %q: check --model / AUTORESEARCH_MODEL", base, model)
	case model == "":
		add(checkOK, "llm", "%s answers", base)
	default:
		add(checkOK, "llm", "%s answers (model %s)", base, model)
	}
}

func (d *doctor) checkDisk(dir string, add addFunc) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		add(checkWarn, "disk", "cannot read free space of %s: %v", dir, err)
		return
	}
	free := st.Bavail * uint64(st.Bsize)
	gib := float64(free) / (1 << 30)
	switch {
	case free < d.diskFail:
		add(checkFail, "disk", "only %.1f GiB free on the filesystem of %s: free space (logs, checkpoints and the uv cache grow overnight)", gib, dir)
	case free < d.diskWarn:
		add(checkWarn, "disk", "%.1f GiB free on the filesystem of %s: a night of runs may need more", gib, dir)
	default:
		add(checkOK, "disk", "%.0f GiB free", gib)
	}
}

// checkIsolation says how far train.py is kept from the harness's secrets
// and processes, and how to get namespaces when they are not in effect.
func (d *doctor) checkIsolation(add addFunc) {
	if d.flags.slurm.runner == "slurm" {
		add(checkOK, "isolation", "experiments train in SLURM jobs, not on this host")
		return
	}
	probe := d.probe
	if probe == nil {
		probe = trainer.Probe
	}
	p := probe()
	if p.Mode == trainer.IsolationNamespaces {
		add(checkOK, "isolation", "%s", p)
		return
	}
	add(checkWarn, "isolation", "%s", p)
}
