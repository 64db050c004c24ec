package proctree

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/autoresearch/autoresearch/research/atomicfile"
)

// A record file lists an experiment's processes, one "PID STARTTIME" line
// each, so that a harness restarted after kill -9 can end the processes of
// the experiment it lost. It is rewritten (atomically) whenever a new
// process shows up, and removed once all of them are gone.

// WriteRecord replaces the record at path with procs.
func WriteRecord(path string, procs []Proc) error {
	var b bytes.Buffer
	b.WriteString("# pid starttime: processes of a running experiment (autoresearch)\n")
	for _, p := range procs {
		fmt.Fprintf(&b, "%d %d\n", p.PID, p.StartTime)
	}
	// Not synced: the processes it names do not outlive the machine.
	return atomicfile.WriteVolatile(path, b.Bytes(), 0o600, "."+filepath.Base(path)+".*")
}

// ReadRecord reads a record file. Lines it cannot read are skipped: a
// half-written record must not keep the rest from being ended.
func ReadRecord(path string) ([]Proc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var procs []Proc
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pidText, startText, ok := strings.Cut(line, " ")
		pid, perr := strconv.Atoi(pidText)
		start, serr := strconv.ParseUint(strings.TrimSpace(startText), 10, 64)
		if !ok || perr != nil || serr != nil || pid <= 1 {
			continue
		}
		procs = append(procs, Proc{PID: pid, StartTime: start, State: 'S'})
	}
	return procs, sc.Err()
}

// EndRecorded ends the processes a record file lists that still run as the
// same processes (a pid reused by an unrelated process since is left
// alone): SIGKILL at once, since their harness is gone and nobody reads
// their output. It waits up to wait for them to be gone, reaps those that
// became our children, removes the file and returns the processes it
// killed. A missing file is not an error.
func EndRecorded(path string, wait time.Duration) ([]Proc, error) {
	procs, err := ReadRecord(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var killed []Proc
	for _, p := range procs {
		if Alive(p) && Signal(p, syscall.SIGKILL) == nil {
			killed = append(killed, p)
		}
	}
	deadline := time.Now().Add(wait)
	for AnyAlive(killed) && time.Now().Before(deadline) {
		Reap(killed)
		time.Sleep(10 * time.Millisecond)
	}
	Reap(killed)
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	return killed, err
}
