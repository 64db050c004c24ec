package slurm

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake SLURM commands are small sh scripts on PATH that print what the
// real ones print (Slurm 22.05, as Debian bookworm ships it). Their state
// lives in $FAKE_SLURM:
//
//	calls        every invocation, one line each ("squeue -h -t all -j 4242 ...")
//	jobid        the id sbatch hands out (default 4242)
//	sbatch.err   when present, sbatch prints it to stderr and fails
//	run          when present, sbatch runs the batch script at once, as the
//	             node would, with its output in the --output file
//	squeue       one answer per call, the last one repeating: a line
//	             "STATE|REASON|NODES", "ERR:message" (stderr, exit 1),
//	             "GONE" (Invalid job id) or "EMPTY" (no line)
//	state        the state squeue printed last (scontrol shows it)
//	exitcode     scontrol's ExitCode (default 0:0)
//	uid          scontrol's UserId number (default: ours)
//	scontrol.gone  scontrol answers Invalid job id
//	sacct        when present, sacct prints it; else accounting is disabled
const fakeSbatch = `#!/bin/sh
d="$FAKE_SLURM"
echo "sbatch $*" >> "$d/calls"
env > "$d/sbatch.env"
if [ -f "$d/sbatch.err" ]; then cat "$d/sbatch.err" >&2; exit 1; fi
id=$(cat "$d/jobid" 2>/dev/null || echo 4242)
out=""; script=""
for a in "$@"; do
  case "$a" in --output=*) out="${a#--output=}";; esac
  script="$a"
done
cp "$script" "$d/script.sh"
if [ -f "$d/run" ]; then
  o=$(printf '%s' "$out" | sed "s/%j/$id/g")
  SLURM_JOB_ID=$id sh "$script" > "$o" 2>&1
fi
echo "sbatch: warning: this is a fake cluster" >&2
echo "$id"
`

const fakeSqueue = `#!/bin/sh
d="$FAKE_SLURM"
echo "squeue $*" >> "$d/calls"
line=$(head -n 1 "$d/squeue")
if [ "$(wc -l < "$d/squeue")" -gt 1 ]; then
  tail -n +2 "$d/squeue" > "$d/squeue.tmp" && mv "$d/squeue.tmp" "$d/squeue"
fi
case "$line" in
  ERR:*) echo "${line#ERR:}" >&2; exit 1;;
  GONE) echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;;
  EMPTY) exit 0;;
esac
echo "${line%%|*}" > "$d/state"
echo "$line"
`

const fakeScontrol = `#!/bin/sh
d="$FAKE_SLURM"
echo "scontrol $*" >> "$d/calls"
for id; do :; done
if [ -f "$d/scontrol.gone" ]; then echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1; fi
state=$(cat "$d/state" 2>/dev/null || echo PENDING)
code=$(cat "$d/exitcode" 2>/dev/null || echo 0:0)
uid=$(cat "$d/uid" 2>/dev/null || id -u)
cat <<EOF
JobId=$id JobName=autoresearch-slurm1
   UserId=alice($uid) GroupId=alice($uid) MCS_label=N/A
   Priority=4294901757 Nice=0 Account=(null) QOS=(null)
   JobState=$state Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=$code
   DerivedExitCode=0:0
   RunTime=00:05:07 TimeLimit=00:12:00 TimeMin=N/A
   SubmitTime=2026-11-26T13:53:09 EligibleTime=2026-11-26T13:53:09
   AccrueTime=2026-11-26T13:53:09
   StartTime=2026-11-26T13:54:39 EndTime=2026-11-26T13:59:46 Deadline=N/A
   Partition=gpu AllocNode:Sid=login1:11223
   ReqNodeList=(null) ExcNodeList=(null)
   NodeList=gpu-07
   BatchHost=gpu-07
   NumNodes=1 NumCPUs=8 NumTasks=1 CPUs/Task=8 ReqB:S:C:T=0:0:*:*
   TRES=cpu=8,mem=64G,node=1,billing=8,gres/gpu=1,gres/gpu:h100=1
   Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=*
   JOB_GRES=gpu:h100:1
     Nodes=gpu-07 CPU_IDs=0-7 Mem=65536 GRES=gpu:h100:1(IDX:0)
   MinCPUsNode=8 MinMemoryNode=64G MinTmpDiskNode=0
   Command=/shared/ar/jobs/submit-1.sh
   WorkDir=/shared/ar/worktrees/slurm1
   StdErr=/shared/ar/jobs/job-$id.out
   StdIn=/dev/null
   StdOut=/shared/ar/jobs/job-$id.out
   TresPerNode=gres:gpu:1
EOF
`

const fakeScancel = `#!/bin/sh
echo "scancel $*" >> "$FAKE_SLURM/calls"
`

const fakeSacct = `#!/bin/sh
d="$FAKE_SLURM"
echo "sacct $*" >> "$d/calls"
if [ -f "$d/sacct" ]; then cat "$d/sacct"; exit 0; fi
echo "Slurm accounting storage is disabled" >&2
exit 1
`

// fakeCluster is the fake SLURM of one test.
type fakeCluster struct {
	t   *testing.T
	dir string
}

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	bin := t.TempDir()
	state := t.TempDir()
	for name, body := range map[string]string{"sbatch": fakeSbatch, "squeue": fakeSqueue, "scontrol": fakeScontrol,
		"scancel": fakeScancel, "sacct": fakeSacct} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SLURM", state)
	return &fakeCluster{t: t, dir: state}
}

func (c *fakeCluster) set(name, content string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// squeue sets the answers of the next squeue calls.
func (c *fakeCluster) squeue(lines ...string) { c.set("squeue", strings.Join(lines, "\n")+"\n") }

func (c *fakeCluster) read(name string) string {
	data, _ := os.ReadFile(filepath.Join(c.dir, name))
	return string(data)
}

// calls returns the invocations of one command.
func (c *fakeCluster) calls(cmd string) []string {
	var out []string
	for _, line := range strings.Split(c.read("calls"), "\n") {
		if strings.HasPrefix(line, cmd+" ") || line == cmd {
			out = append(out, line)
		}
	}
	return out
}

// stepClock advances by step on every call: pending and running times
// grow with the number of polls, not with the wall clock.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func uid() string { return strconv.Itoa(os.Getuid()) }

var bg = context.Background()
