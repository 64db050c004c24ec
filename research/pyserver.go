package research

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// pyServerScript runs check scripts on request in one interpreter; see
// pyServer.
//
//go:embed pyserver.py
var pyServerScript string

// pyServer is one long-lived interpreter that runs the check scripts
// (syntax, metric) as `python -c SCRIPT ARGS...` would, on request. A
// proposal's check then costs a parse instead of an interpreter start:
// 40 ms for a project's venv and well over 100 ms for an interpreter whose
// site-packages load .pth hooks, more than all the rest of the harness's
// work per experiment on a big tree. The scripts only parse the files they
// are given (ast), never import or run them, so one interpreter can serve
// a whole run.
//
// A request that outlives its deadline kills the interpreter; a crashed or
// killed one is started again on the next request. Close ends it.
type pyServer struct {
	python string

	mu     sync.Mutex // one request at a time; held until its answer is read
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	closed bool

	liveMu sync.Mutex // guards live alone: kill must not wait for mu
	live   *os.Process
}

// pyRun is what a script run produced, as a subprocess would have.
type pyRun struct {
	Code   int    `json:"code"`   // the exit status
	Stdout string `json:"stdout"` // what it printed on stdout
	Output string `json:"output"` // stdout and stderr as interleaved
}

// errPyServerClosed: a request after Close.
var errPyServerClosed = errors.New("the Python check interpreter was closed")

// errPyEnded: the interpreter ended while it had a request.
var errPyEnded = errors.New("the Python check interpreter ended")

// run runs script in dir with args as its sys.argv[1:]. An interpreter
// that ends under a request is started again and asked once more, so that
// an interpreter lost to something else is not taken for a verdict.
func (p *pyServer) run(ctx context.Context, dir, script string, args []string) (pyRun, error) {
	res, err := p.runOnce(ctx, dir, script, args)
	if errors.Is(err, errPyEnded) && ctx.Err() == nil {
		res, err = p.runOnce(ctx, dir, script, args)
	}
	return res, err
}

func (p *pyServer) runOnce(ctx context.Context, dir, script string, args []string) (pyRun, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return pyRun{}, errPyServerClosed
	}
	if p.cmd == nil {
		if err := p.start(); err != nil {
			p.mu.Unlock()
			return pyRun{}, err
		}
	}
	if args == nil {
		args = []string{} // a list, not null
	}
	req, err := json.Marshal(map[string]any{"dir": dir, "script": script, "args": args})
	if err != nil {
		p.mu.Unlock()
		return pyRun{}, err
	}
	if _, err := p.stdin.Write(append(req, '\n')); err != nil {
		p.stopLocked()
		p.mu.Unlock()
		return pyRun{}, fmt.Errorf("%w: %w", errPyEnded, err)
	}
	type answer struct {
		run pyRun
		err error
	}
	// The answer is read on its own goroutine, which releases the server:
	// a caller that gives up (its check is no longer needed) leaves the
	// interpreter to finish the parse rather than killing it.
	got := make(chan answer, 1)
	go func() {
		defer p.mu.Unlock()
		var a answer
		line, err := p.stdout.ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(line, &a.run)
		}
		if err != nil {
			a.err = fmt.Errorf("%w: %w", errPyEnded, err)
			p.stopLocked()
		}
		got <- a
	}()
	select {
	case a := <-got:
		return a.run, a.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.kill() // stuck: the reader sees EOF and releases the server
		}
		return pyRun{}, ctx.Err()
	}
}

// start launches the interpreter; p.mu is held.
func (p *pyServer) start() error {
	// It does not outlive the harness, kill -9 included: its stdin closes
	// and its serve loop ends. (No Pdeathsig: that follows the starting
	// OS thread, not the process.)
	// -I -S: no PYTHON* variables, no user or site packages and their .pth
	// hooks: the scripts need only the standard library, and start faster.
	// Its environment is nearly empty: it lives as long as the run, where a
	// trainer without namespaces could read a process's environment, and
	// the harness's holds the Slack and model keys.
	cmd := exec.Command(p.python, "-I", "-S", "-c", pyServerScript)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s for the Python checks: %w", p.python, err)
	}
	p.cmd, p.stdin, p.stdout = cmd, in, bufio.NewReader(out)
	p.setLive(cmd.Process)
	return nil
}

// kill ends the interpreter at once without waiting for the server's lock
// (the request in progress holds it).
func (p *pyServer) kill() {
	p.liveMu.Lock()
	defer p.liveMu.Unlock()
	if p.live != nil {
		_ = p.live.Kill()
	}
}

func (p *pyServer) setLive(proc *os.Process) {
	p.liveMu.Lock()
	p.live = proc
	p.liveMu.Unlock()
}

// stopLocked ends the interpreter and forgets it; p.mu is held.
func (p *pyServer) stopLocked() {
	if p.cmd == nil {
		return
	}
	_ = p.stdin.Close() // EOF ends the serve loop
	done := make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.setLive(nil)
	p.cmd, p.stdin, p.stdout = nil, nil, nil
}

// Close ends the interpreter and refuses further requests. It waits for a
// request in progress (a parse: milliseconds).
func (p *pyServer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stopLocked()
}
