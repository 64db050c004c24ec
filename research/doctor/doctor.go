// Package doctor checks what a run needs on its host: the repository, its
// owner, the files, uv, the data cache, the GPU, Slack, the model endpoint,
// the disk and the trainer's isolation. Each check prints one line with
// what to do when it is not ok. It only looks: it changes nothing and works
// while a run or the bot holds the repository.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/agent"
	"github.com/autoresearch/autoresearch/research/gitrepo"
	"github.com/autoresearch/autoresearch/research/statelock"
	"github.com/autoresearch/autoresearch/research/trainer"
)

// Levels, printed first on each line.
const (
	OK   = "ok"
	Warn = "warn"
	Fail = "FAIL"
)

// Result is one line of the report.
type Result struct {
	Level string
	Name  string
	Msg   string // what was found and, for warn/FAIL, what to do
}

// Doctor holds what the checks look at; the command line fills it from
// its flags, tests replace the functions.
type Doctor struct {
	Repo    string // the research repository (absolute)
	RepoErr error  // why Repo could not be resolved (every check is skipped)

	StateDir      string
	RequiredFiles []string
	TrainCmd      string
	Proposer      string
	Model         string
	GPUIndex      int
	NoGPU         bool // a missing GPU is a warning (a CPU-only train.py)
	Slurm         bool // experiments train in SLURM jobs, not on this host
	RequireSlack  bool // a Slack that is not configured fails

	Home     string // for ~/.cache/autoresearch
	Getenv   func(string) string
	LookPath func(string) (string, error)
	OpenGPU  func() research.GPUMonitor
	Client   *http.Client
	DiskWarn uint64 // bytes; warn below
	DiskFail uint64 // bytes; fail below
	Probe    func() trainer.ProbeResult
	// Slack checks the Slack setup: configured is false when no token is
	// set (err then says what to set).
	Slack func(ctx context.Context) (msg string, configured bool, err error)
}

// Report runs every check, prints one line each and fails when one failed.
func (d *Doctor) Report(ctx context.Context, w io.Writer) error {
	results := d.Run(ctx)
	failed := 0
	for _, r := range results {
		fmt.Fprintf(w, "%-4s  %-10s %s\n", r.Level, r.Name, r.Msg)
		if r.Level == Fail {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", failed, len(results))
	}
	fmt.Fprintf(w, "all %d checks passed\n", len(results))
	return nil
}

// Run runs every check in order.
func (d *Doctor) Run(ctx context.Context) []Result {
	var out []Result
	add := func(level, name, format string, a ...any) {
		out = append(out, Result{Level: level, Name: name, Msg: fmt.Sprintf(format, a...)})
	}
	if d.RepoErr != nil {
		add(Fail, "repo", "%v: pass --repo DIR (a checkout of karpathy/autoresearch)", d.RepoErr)
		return out
	}
	dir := d.Repo
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

func (d *Doctor) checkGit(dir string, add addFunc) {
	repo, err := gitrepo.Open(dir)
	if errors.Is(err, gitrepo.ErrNotRepository) {
		add(Fail, "git", "%s is not a git repository: run `git init && git add prepare.py train.py program.md && git commit -m initial` there", dir)
		return
	}
	if err != nil {
		add(Fail, "git", "cannot open %s: %v", dir, err)
		return
	}
	branch, err := repo.CurrentBranch()
	if err != nil {
		add(Fail, "git", "no current branch in %s (%v): check out a branch with at least one commit", dir, err)
		return
	}
	dirty, err := repo.DirtyTracked()
	if err != nil {
		add(Fail, "git", "reading the status of %s: %v", dir, err)
		return
	}
	if len(dirty) > 0 {
		add(Fail, "git", "on branch %s, but tracked files have uncommitted changes (%s): commit or stash them", branch, strings.Join(dirty, ", "))
		return
	}
	add(OK, "git", "on branch %s, tracked files clean", branch)
}

// checkOwner says which process, if any, owns the repo now (doctor only
// looks, so it works while a run or the bot holds the lock).
func (d *Doctor) checkOwner(dir string, add addFunc) {
	stateDir := d.StateDir
	o, held, err := statelock.Holder(stateDir)
	switch {
	case err != nil:
		add(Warn, "owner", "cannot read the owner lock in %s: %v", stateDir, err)
	case !held:
		add(OK, "owner", "no process owns %s: a run or the bot may start", dir)
	case o.PID == 0:
		add(OK, "owner", "another process holds %s (it is starting up)", filepath.Join(stateDir, statelock.LockFile))
	default:
		add(OK, "owner", "pid %d `%s`%s since %s on %s; a second run or bot on this repo is refused (stop it with `kill %d`)",
			o.PID, o.Command, tagPart(o.Tag), o.Since.Local().Format("2006-01-02 15:04:05"), o.Hostname, o.PID)
	}
}

func tagPart(tag string) string {
	if tag == "" {
		return ""
	}
	return ", run " + tag + ","
}

func (d *Doctor) checkFiles(dir string, add addFunc) {
	var missing []string
	for _, f := range d.RequiredFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		add(Fail, "files", "%s missing in %s: a research repo needs %s (see karpathy/autoresearch)", strings.Join(missing, ", "), dir, strings.Join(d.RequiredFiles, ", "))
		return
	}
	add(OK, "files", "%s present", strings.Join(d.RequiredFiles, ", "))
}

func (d *Doctor) checkUV(add addFunc) {
	fields := strings.Fields(d.TrainCmd)
	if len(fields) == 0 || fields[0] != "uv" {
		add(OK, "uv", "not needed (--train-cmd %q)", d.TrainCmd)
		return
	}
	path, err := d.LookPath("uv")
	if err != nil {
		add(Fail, "uv", "--train-cmd starts with uv, but uv is not on PATH: install it (curl -LsSf https://astral.sh/uv/install.sh | sh) or change --train-cmd")
		return
	}
	add(OK, "uv", "%s", path)
}

// checkDataCache looks at upstream prepare.py's cache: data/shard_*.parquet
// and tokenizer/{tokenizer.pkl,token_bytes.pt} under ~/.cache/autoresearch.
func (d *Doctor) checkDataCache(dir string, add addFunc) {
	cache := filepath.Join(d.Home, ".cache", "autoresearch")
	prep, _ := os.ReadFile(filepath.Join(dir, "prepare.py"))
	uses := strings.Contains(string(prep), `".cache"`) && strings.Contains(string(prep), `"autoresearch"`) ||
		strings.Contains(string(prep), ".cache/autoresearch")
	level := Fail
	if !uses {
		level = Warn
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
		add(OK, "data", "%s: %d shards and the tokenizer", cache, len(shards))
	}
}

func (d *Doctor) checkGPU(ctx context.Context, add addFunc) {
	mon := d.OpenGPU()
	if c, ok := mon.(io.Closer); ok {
		defer c.Close()
	}
	inv := mon.Inventory()
	missing := Fail
	if d.NoGPU {
		missing = Warn
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
	index := d.GPUIndex
	var names []string
	for _, g := range inv.GPUs {
		names = append(names, fmt.Sprintf("%d: %s %.0f MiB %s", g.Index, g.Name, g.MemoryTotalMB, g.UUID))
	}
	add(OK, "gpu", "%s; %s", inv.String(), strings.Join(names, "; "))
	err := mon.Preflight(ctx, index)
	var pe *research.PreflightError
	switch {
	case err == nil:
		add(OK, "gpu", "GPU %d is free for experiments", index)
	case errors.As(err, &pe) && pe.WarnOnly:
		add(Warn, "gpu", "%v", err)
	case errors.As(err, &pe) && strings.HasPrefix(pe.Reason, "no GPU"):
		add(Fail, "gpu", "%v: pick one with --gpu-index", err)
	default:
		// Busy now is worth knowing, but it may be gone by the time the run starts.
		add(Warn, "gpu", "%v: the run would pause until it is free", err)
	}
}

func (d *Doctor) checkSlack(ctx context.Context, add addFunc) {
	if d.Slack == nil {
		add(Warn, "slack", "no Slack check wired in")
		return
	}
	msg, configured, err := d.Slack(ctx)
	switch {
	case !configured:
		level := Warn
		if d.RequireSlack {
			level = Fail
		}
		add(level, "slack", "%v", err)
	case err != nil:
		add(Fail, "slack", "%v", err)
	default:
		add(OK, "slack", "%s", msg)
	}
}

func (d *Doctor) checkLLM(ctx context.Context, add addFunc) {
	key, base := d.Getenv("OPENAI_API_KEY"), d.Getenv("OPENAI_BASE_URL")
	if key == "" && base == "" {
		if d.Proposer == "llm" {
			add(Fail, "llm", "--proposer llm needs OPENAI_API_KEY (and OPENAI_BASE_URL for another endpoint); or use --proposer sweep or command")
		} else {
			add(OK, "llm", "not used (--proposer %s)", d.Proposer)
		}
		return
	}
	if base == "" {
		base = agent.DefaultBaseURL
	}
	model := d.Model
	listed, err := agent.CheckEndpoint(ctx, d.Client, base, key, model)
	switch {
	case err != nil:
		add(Fail, "llm", "%v", err)
	case !listed:
		add(Warn, "llm", "%s answers, but does not list model %q: check --model / AUTORESEARCH_MODEL", base, model)
	case model == "":
		add(OK, "llm", "%s answers", base)
	default:
		add(OK, "llm", "%s answers (model %s)", base, model)
	}
}

func (d *Doctor) checkDisk(dir string, add addFunc) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		add(Warn, "disk", "cannot read free space of %s: %v", dir, err)
		return
	}
	free := st.Bavail * uint64(st.Bsize)
	gib := float64(free) / (1 << 30)
	switch {
	case free < d.DiskFail:
		add(Fail, "disk", "only %.1f GiB free on the filesystem of %s: free space (logs, checkpoints and the uv cache grow overnight)", gib, dir)
	case free < d.DiskWarn:
		add(Warn, "disk", "%.1f GiB free on the filesystem of %s: a night of runs may need more", gib, dir)
	default:
		add(OK, "disk", "%.0f GiB free", gib)
	}
}

// checkIsolation says how far train.py is kept from the harness's secrets
// and processes, and how to get namespaces when they are not in effect.
func (d *Doctor) checkIsolation(add addFunc) {
	if d.Slurm {
		add(OK, "isolation", "experiments train in SLURM jobs, not on this host")
		return
	}
	probe := d.Probe
	if probe == nil {
		probe = trainer.Probe
	}
	p := probe()
	if p.Mode == trainer.IsolationNamespaces {
		add(OK, "isolation", "%s", p)
		return
	}
	add(Warn, "isolation", "%s", p)
}
