package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BigTreeOptions shape AddBigTree.
type BigTreeOptions struct {
	Tracked   int // files committed under src/ besides the research files
	Untracked int // files no .gitignore covers, under data/, checkpoints/ and logs/
}

// bigTreePerDir is how many files go into one directory of the big tree.
const bigTreePerDir = 100

// AddBigTree grows the research repository in dir (made by NewRepo) into a
// big one: opts.Tracked small Python files committed on the current branch
// (a vendored library, say) and opts.Untracked files that git sees as
// untracked and nothing ignores (data caches, checkpoints and logs are often
// like that). The files are written by a few writers at once and committed
// with one git add and one git commit.
func AddBigTree(dir string, opts BigTreeOptions) error {
	if opts.Tracked > 0 {
		if err := writeSpread(filepath.Join(dir, "src"), "lib", "mod", ".py", opts.Tracked); err != nil {
			return err
		}
		if err := git(dir, "add", "src"); err != nil {
			return err
		}
		if err := git(dir, "commit", "-q", "-m", fmt.Sprintf("vendor %d files", opts.Tracked)); err != nil {
			return err
		}
	}
	// Three kinds of untracked clutter, split evenly.
	n := opts.Untracked
	parts := []struct{ dir, prefix, ext string }{
		{"data", "shard", ".bin"}, {"checkpoints", "step", ".pt"}, {"logs", "run", ".log"},
	}
	for i, p := range parts {
		share := n / len(parts)
		if i == 0 {
			share += n % len(parts)
		}
		if err := writeSpread(filepath.Join(dir, p.dir), p.prefix, "f", p.ext, share); err != nil {
			return err
		}
	}
	return nil
}

// writeSpread writes n small files under root, bigTreePerDir per
// directory: root/PREFIXNNNN/NAMENN.EXT.
func writeSpread(root, prefix, name, ext string, n int) error {
	if n <= 0 {
		return nil
	}
	dirs := (n + bigTreePerDir - 1) / bigTreePerDir
	return inParallel(dirs, func(d int) error {
		sub := filepath.Join(root, fmt.Sprintf("%s%04d", prefix, d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		for f := 0; f < min(bigTreePerDir, n-d*bigTreePerDir); f++ {
			content := fmt.Sprintf("# %s %d/%d\nVALUE = %d\n", prefix, d, f, d*bigTreePerDir+f)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%s%02d%s", name, f, ext)), []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// shellLoop is the research loop as a person writes it over the git CLI,
// the way upstream's program.md describes it: edit train.py, commit it,
// train with the output in run.log, grep the metric, keep the commit or
// reset --hard to the best one, append to results.tsv. Each training run
// writes its own start and end stamps (StampEnv); the loop records, with
// bash's clock, when it called and got back from the training command.
const shellLoop = `set -eu
cd "$REPO"
git checkout -q -b "$BRANCH"
printf 'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n' > results.tsv
best=9
for i in $(seq 1 "$N"); do
  if [ "$i" -gt 1 ]; then
    k=$(( (i - 2) % 8 ))
    # Every other edit makes val_bpb worse: kept and reset commits alternate.
    if [ $(( i % 2 )) -eq 0 ]; then v=6.$(( i % 10 ))000; else v=4.$(( i % 10 ))000; fi
    sed -i "s/^K$k = .*/K$k = $v/" train.py
    git commit -q -m "K$k = $v" train.py
  fi
  t0=$EPOCHREALTIME
  BENCH_STAMP="$STAMPS/$i" "$PY" train.py > run.log 2>&1 || true
  t1=$EPOCHREALTIME
  echo "call $i $t0 $t1" >> "$CALLS"
  val=$(grep '^val_bpb:' run.log | awk '{print $2}')
  commit=$(git rev-parse --short HEAD)
  if [ -n "$val" ] && awk "BEGIN { exit !($val < $best) }"; then
    best=$val; status=keep
  else
    status=discard
    git reset -q --hard HEAD~1
  fi
  printf '%s\t%s\t0.0\t%s\tK%s\n' "$commit" "${val:-0}" "$status" "$i" >> results.tsv
done
`

// ShellLoopResult is what RunShellLoop measured: one span per training
// run, from bash's clock (the call) and the trainer's stamps.
type ShellLoopResult struct {
	Spans []Span
	Keep  int
	Wall  time.Duration
}

// RunShellLoop runs the git-CLI loop for n training runs (the first one is
// the baseline, no edit) in dir on a new branch, with python running the
// simulated train.py. scratch holds the stamps and the call log (outside
// the repository, so they add nothing to its tree).
func RunShellLoop(ctx context.Context, dir, branch, python, scratch string, n int) (ShellLoopResult, error) {
	var r ShellLoopResult
	stamps := filepath.Join(scratch, "stamps")
	if err := os.MkdirAll(stamps, 0o755); err != nil {
		return r, err
	}
	calls := filepath.Join(scratch, "calls")
	cmd := exec.CommandContext(ctx, "bash", "-c", shellLoop)
	cmd.Env = append(os.Environ(), "REPO="+dir, "BRANCH="+branch, "N="+strconv.Itoa(n), "PY="+python,
		"STAMPS="+stamps, "CALLS="+calls,
		"GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@localhost",
		"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@localhost", "GIT_CONFIG_NOSYSTEM=1")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	r.Wall = time.Since(t0)
	if err != nil {
		return r, fmt.Errorf("the git-CLI loop: %v: %s", err, strings.TrimSpace(string(out)))
	}
	f, err := os.Open(calls)
	if err != nil {
		return r, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var i int
		var a, b float64
		if _, err := fmt.Sscanf(sc.Text(), "call %d %f %f", &i, &a, &b); err != nil {
			return r, fmt.Errorf("the git-CLI loop's call log: %q: %v", sc.Text(), err)
		}
		s := Span{Slot: "shell", Seq: i, CallStart: unix(a), CallEnd: unix(b)}
		s.ProcStart, s.ProcEnd = readStamp(filepath.Join(stamps, strconv.Itoa(i)))
		r.Spans = append(r.Spans, s)
	}
	if err := sc.Err(); err != nil {
		return r, err
	}
	tsv, _ := os.ReadFile(filepath.Join(dir, "results.tsv"))
	r.Keep = strings.Count(string(tsv), "\tkeep\t")
	return r, nil
}

// Gaps are the times between consecutive spans (ordered by Seq, the first
// transition, out of the baseline, left out as Analyze does): process is
// one trainer's end stamp to the next one's start stamp, own is the
// training call's return to the next call (the loop's own work, without
// the interpreter's start).
func Gaps(spans []Span) (process, own []time.Duration) {
	for i := 2; i < len(spans); i++ {
		a, b := spans[i-1], spans[i]
		if a.Stamped() && b.Stamped() {
			process = append(process, b.ProcStart.Sub(a.ProcEnd))
		}
		own = append(own, b.CallStart.Sub(a.CallEnd))
	}
	return process, own
}
