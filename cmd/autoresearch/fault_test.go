package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
	"github.com/autoresearch/autoresearch/research/researchtest"
	"github.com/autoresearch/autoresearch/store"
)

// faultAgent is the fake coding agent (--proposer command): it announces
// that it waits (with the harness's pid), waits for the test's gate file, so
// the test can look at a restarted run while nothing moves, then sets a
// random BONUS (a unique change: a keep or a discard) and says it proposed.
// It gives up when its harness died, so no orphan edits the next run's files.
const faultAgent = `ctl=%s
h=$PPID # the harness, or the sh -c it started this script with
case "$(cat /proc/$h/comm)" in sh|dash|bash) h=$(cut -d' ' -f4 /proc/$h/stat) ;; esac
echo $h > "$ctl/waiting.tmp" && mv "$ctl/waiting.tmp" "$ctl/waiting"
while [ ! -e "$ctl/go" ]; do kill -0 $h 2>/dev/null || exit 1; sleep 0.01; done
rm -f "$ctl/waiting"
r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
sed -i "s/^BONUS = .*/BONUS = $r \/ 1e11/" train.py
echo "DESCRIPTION: bonus $r"
echo $h > "$ctl/proposed"
`

// lineWatch collects a process's output lines (split at \n and \r) and
// wakes whoever waits for one.
type lineWatch struct {
	mu     sync.Mutex
	lines  []string
	ended  bool
	notify chan struct{}
}

func watchLines(r io.Reader) *lineWatch {
	w := &lineWatch{notify: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			for i, b := range data {
				if b == '\n' || b == '\r' {
					return i + 1, data[:i], nil
				}
			}
			if atEOF && len(data) > 0 {
				return len(data), data, nil
			}
			return 0, nil, nil
		})
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			w.mu.Unlock()
			w.poke()
		}
		w.mu.Lock()
		w.ended = true
		w.mu.Unlock()
		w.poke()
	}()
	return w
}

func (w *lineWatch) poke() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *lineWatch) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// find returns the first line from index from on that matches re.
func (w *lineWatch) find(re *regexp.Regexp, from int) (string, int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := from; i < len(w.lines); i++ {
		if re.MatchString(w.lines[i]) {
			return w.lines[i], i, true
		}
	}
	return "", len(w.lines), false
}

// faultRun is one `autoresearch run` process of the fault test.
type faultRun struct {
	cmd   *exec.Cmd
	out   *lineWatch
	done  chan struct{}
	state *os.ProcessState
}

var pausedLine = regexp.MustCompile(`\bpaused: |autoresearch: `)

// faultHarness holds what the fault test keeps across kills.
type faultHarness struct {
	t        *testing.T
	seed     uint64
	rng      *rand.Rand
	dir, ctl string
	args     []string
	venv     string // an ignored file's content, checked after every restart
	// expected interrupted experiments: numbers left running by each kill.
	interrupted map[int]bool
	deadPgids   []int
	kills       int
	began       time.Time
	log         []string // what each kill aimed at, for the failure message
}

func (h *faultHarness) fatalf(format string, a ...any) {
	h.t.Helper()
	h.t.Fatalf("%s\nreplay with AUTORESEARCH_FAULT_SEED=%d; kills so far:\n  %s", fmt.Sprintf(format, a...), h.seed, strings.Join(h.log, "\n  "))
}

func (h *faultHarness) start() *faultRun {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], h.args...)
	cmd.Env = append(os.Environ(), "AUTORESEARCH_TEST_MAIN=1")
	pr, pw, err := os.Pipe()
	if err != nil {
		h.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	pw.Close()
	r := &faultRun{cmd: cmd, out: watchLines(pr), done: make(chan struct{})}
	go func() { cmd.Wait(); r.state = cmd.ProcessState; pr.Close(); close(r.done) }()
	h.t.Cleanup(func() { cmd.Process.Kill(); <-r.done })
	return r
}

// waitFor polls cond (cheap checks: files, lines) until it holds; it fails
// at once when the run ended or paused, and after a last-guard minute.
func (h *faultHarness) waitFor(r *faultRun, what string, cond func() bool) {
	h.t.Helper()
	h.waitEvery(r, what, 5*time.Millisecond, cond)
}

func (h *faultHarness) waitEvery(r *faultRun, what string, every time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		select {
		case <-r.done:
			h.fatalf("the run ended while waiting for %s (%v):\n%s", what, r.state, r.out.text())
		default:
		}
		if l, _, ok := r.out.find(pausedLine, 0); ok {
			h.fatalf("the run paused or failed while waiting for %s: %q\n%s", what, l, r.out.text())
		}
		if time.Now().After(deadline) {
			h.fatalf("%s never happened:\n%s", what, r.out.text())
		}
		select {
		case <-r.out.notify:
		case <-time.After(every):
		}
	}
}

func (h *faultHarness) kill(r *faultRun, aim string) {
	h.t.Helper()
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
	os.Remove(filepath.Join(h.ctl, "go")) // the next start waits for the test again
	h.kills++
	// What the dead process left: experiments in flight and live trainers.
	_, exps := h.store()
	running := 0
	for _, e := range exps {
		if e.Status == "running" {
			h.interrupted[e.Number] = true
			running++
		}
	}
	if running > 1 {
		h.fatalf("kill %d (%s) left %d experiments running; one slot trains one", h.kills, aim, running)
	}
	h.deadPgids = append(h.deadPgids, livePgids(h.dir)...)
	h.log = append(h.log, fmt.Sprintf("%2d %-28s running at death: %d (at %s)", h.kills, aim, running, time.Since(h.began).Round(time.Millisecond)))
}

func (h *faultHarness) store() (research.Run, []research.Experiment) {
	h.t.Helper()
	db, err := store.Open(filepath.Join(h.dir, ".autoresearch", "autoresearch.db"))
	if err != nil {
		h.fatalf("opening the store: %v", err)
	}
	defer db.Close()
	run, err := db.RunByTag(context.Background(), "fault")
	if err != nil {
		return research.Run{}, nil
	}
	exps, err := db.Experiments(context.Background(), run.ID)
	if err != nil {
		h.fatalf("reading experiments: %v", err)
	}
	return run, exps
}

// quiet waits until the restarted run said it (re)started, finished what
// was in flight and its proposer waits at the gate: nothing moves until the
// test opens it.
func (h *faultHarness) quiet(r *faultRun) {
	h.t.Helper()
	h.waitFor(r, "the run to start or resume", func() bool {
		_, _, ok := r.out.find(regexp.MustCompile(`run fault (started|resumed)`), 0)
		return ok
	})
	pid := strconv.Itoa(r.cmd.Process.Pid)
	h.waitFor(r, "the proposer to wait at the gate", func() bool {
		b, err := os.ReadFile(filepath.Join(h.ctl, "waiting"))
		return err == nil && strings.TrimSpace(string(b)) == pid
	})
	h.waitEvery(r, "nothing to train and results.tsv to be complete", 25*time.Millisecond, func() bool {
		_, exps := h.store()
		for _, e := range exps {
			if e.Status == "running" {
				return false
			}
		}
		data, _ := os.ReadFile(filepath.Join(h.dir, "results.tsv"))
		return strings.Count(string(data), "\n")-1 == len(exps)
	})
}

var tsvRow = regexp.MustCompile(`^([0-9a-f]{7})\t([0-9.]+)\t([0-9.]+)\t(keep|discard|crash)\t(.*)$`)

// check asserts, on a quiet restarted run, everything a kill may never
// break.
func (h *faultHarness) check() {
	h.t.Helper()
	run, exps := h.store()
	if run.ID == 0 {
		h.fatalf("the run has no record")
	}
	interrupted := 0
	for i, e := range exps {
		if e.Number != i+1 {
			h.fatalf("experiment numbers have a gap or a duplicate: %d at position %d", e.Number, i+1)
		}
		if e.Reason == "interrupted" {
			interrupted++
			if !h.interrupted[e.Number] {
				h.fatalf("experiment %d is an interrupted crash, but no kill hit it in training", e.Number)
			}
		}
	}
	for n := range h.interrupted {
		if n > len(exps) || exps[n-1].Status != "crash" || exps[n-1].Reason != "interrupted" {
			h.fatalf("experiment %d was training at a kill but is not recorded as an interrupted crash", n)
		}
	}
	if interrupted != len(h.interrupted) {
		h.fatalf("%d interrupted crashes for %d kills during training", interrupted, len(h.interrupted))
	}
	data := researchtest.Read(h.t, h.dir, "results.tsv")
	rows := strings.Split(strings.TrimSuffix(data, "\n"), "\n")[1:]
	if len(rows) != len(exps) {
		h.fatalf("results.tsv has %d rows for %d experiments:\n%s", len(rows), len(exps), data)
	}
	for i, row := range rows {
		m := tsvRow.FindStringSubmatch(row)
		if m == nil || !strings.HasPrefix(exps[i].Commit, m[1]) || m[4] != exps[i].Status {
			h.fatalf("results.tsv row %d %q is not experiment %d (%s %s)", i+1, row, exps[i].Number, exps[i].Commit, exps[i].Status)
		}
	}
	if tip := researchtest.Git(h.t, h.dir, "rev-parse", "autoresearch/fault"); tip != run.BestCommit {
		h.fatalf("the branch is at %s, the best kept commit is %s", tip, run.BestCommit)
	}
	if head := researchtest.Git(h.t, h.dir, "symbolic-ref", "HEAD"); head != "refs/heads/autoresearch/fault" {
		h.fatalf("HEAD is %s", head)
	}
	if st := researchtest.Git(h.t, h.dir, "status", "--porcelain"); st != "?? notes.txt" {
		h.fatalf("git status is not clean: %q", st)
	}
	if researchtest.Read(h.t, h.dir, "notes.txt") != "untracked notes\n" || researchtest.Read(h.t, h.dir, ".venv/lib/pkg0.py") != h.venv {
		h.fatalf("an untracked or ignored file changed")
	}
	for _, pg := range h.deadPgids {
		if alive(pg) {
			h.fatalf("the trainer (process group %d) of a killed run still runs", pg)
		}
	}
	if pids := trainersIn(h.dir); len(pids) > 0 {
		h.fatalf("trainers run although nothing trains: %v", pids)
	}
}

// trainersIn lists live train.py processes working under dir.
func trainersIn(dir string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		// The syntax check (python3 -c "import ast ..." train.py) of a killed
		// run ends by itself within milliseconds: not a trainer.
		if !strings.Contains(string(cmdline), "train.py") || strings.Contains(string(cmdline), "import ast") {
			continue
		}
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if strings.HasPrefix(cwd, dir) && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

func envInt(name string, def uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// TestKillDashNineAtManyMomentsAlwaysRestarts kills `autoresearch run` with
// SIGKILL at many moments, half aimed at the commit/reset window right after
// a proposal or a result and half at random, and restarts it with the same
// command each time: the run must always come back by itself, with nothing
// lost or doubled.
func TestKillDashNineAtManyMomentsAlwaysRestarts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills and restarts a real run many times")
	}
	h := &faultHarness{t: t, interrupted: map[int]bool{}}
	h.seed = envInt("AUTORESEARCH_FAULT_SEED", uint64(time.Now().UnixNano()))
	kills := int(envInt("AUTORESEARCH_FAULT_KILLS", 40))
	h.rng = rand.New(rand.NewPCG(h.seed, h.seed>>1|1))
	t.Logf("fault injection: seed %d, %d kills (AUTORESEARCH_FAULT_SEED / AUTORESEARCH_FAULT_KILLS to change)", h.seed, kills)
	fmt.Fprintf(os.Stderr, "TestKillDashNineAtManyMomentsAlwaysRestarts: AUTORESEARCH_FAULT_SEED=%d\n", h.seed)

	h.dir = researchtest.New(t)
	h.ctl = t.TempDir()
	h.venv = researchtest.Read(t, h.dir, ".venv/lib/pkg0.py")
	researchtest.SetConst(t, h.dir, "SLEEP", "0.2") // long enough to be hit while training
	researchtest.Git(t, h.dir, "commit", "-qam", "slower trainer")
	agent := filepath.Join(h.ctl, "agent.sh")
	researchtest.Write(t, h.ctl, "agent.sh", fmt.Sprintf(faultAgent, h.ctl))
	h.args = []string{"run", "--repo", h.dir, "--tag", "fault", "--proposer", "command", "--agent-cmd", "sh " + agent,
		"--train-cmd", "python3 train.py", "--python", "none", "--baseline-repeats", "0", "--fix-attempts", "0", "--max-experiments", "0"}

	trainingLine := regexp.MustCompile(`#(\d+) training`)
	start := time.Now()
	h.began = start
	for k := 0; k < kills; k++ {
		r := h.start()
		// A few random kills land during the restart itself (recovery).
		if k > 0 && k%2 == 1 && h.rng.IntN(4) == 0 {
			time.Sleep(time.Duration(h.rng.IntN(400)) * time.Millisecond)
			h.kill(r, "random, during the restart")
			continue
		}
		h.quiet(r)
		h.check()
		mark := len(strings.Split(r.out.text(), "\n"))
		os.Remove(filepath.Join(h.ctl, "proposed"))
		researchtest.Write(t, h.ctl, "go", "")
		jitter := time.Duration(h.rng.IntN(15)) * time.Millisecond
		var aim string
		switch {
		case k%2 == 1: // at random over proposing, committing, training, judging, resetting
			d := time.Duration(h.rng.IntN(1000)) * time.Millisecond
			time.Sleep(d)
			aim = fmt.Sprintf("random, %s after the gate", d)
		case k%4 == 0: // right after a proposal: the harness checks and commits it
			pid := strconv.Itoa(r.cmd.Process.Pid)
			h.waitFor(r, "a proposal", func() bool {
				b, err := os.ReadFile(filepath.Join(h.ctl, "proposed"))
				return err == nil && strings.TrimSpace(string(b)) == pid
			})
			time.Sleep(jitter)
			aim = fmt.Sprintf("proposal +%s", jitter)
		default: // right after a result: the harness records it and resets
			var line string
			h.waitFor(r, "an experiment to train", func() bool {
				line, _, _ = r.out.find(trainingLine, mark)
				return line != ""
			})
			n, _ := strconv.Atoi(trainingLine.FindStringSubmatch(line)[1])
			logPath := filepath.Join(h.dir, ".autoresearch", "logs", "fault", fmt.Sprintf("%04d.log", n))
			h.waitFor(r, fmt.Sprintf("experiment %d's result", n), func() bool {
				b, _ := os.ReadFile(logPath)
				return strings.Contains(string(b), "depth:")
			})
			time.Sleep(jitter)
			aim = fmt.Sprintf("result of #%d +%s", n, jitter)
		}
		h.kill(r, aim)
	}
	// The last restart must come back too.
	r := h.start()
	h.quiet(r)
	h.check()
	r.cmd.Process.Signal(syscall.SIGTERM)
	<-r.done
	_, exps := h.store()
	researchtest.Git(t, h.dir, "fsck", "--no-dangling")
	t.Logf("%d kills, %d experiments, %d interrupted, in %s (seed %d):\n  %s", h.kills, len(exps), len(h.interrupted),
		time.Since(start).Round(time.Millisecond), h.seed, strings.Join(h.log, "\n  "))
}
