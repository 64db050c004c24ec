package research

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The check interpreter runs scripts as `python -c` would, survives a
// script's exit, a crash of its own and a stuck script, and is gone after
// Close.
func TestPyServerRunsScriptsLikeASubprocess(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-not-for-the-checker")
	p := &pyServer{python: py}
	t.Cleanup(p.Close)
	ctx := context.Background()
	dir := t.TempDir()

	// It lives as long as the run: nothing of the harness's environment
	// (tokens, keys) is in its own, where another process could read it.
	res, err := p.run(ctx, dir, "import os\nprint(sorted(os.environ))\n", nil)
	if err != nil || strings.Contains(res.Stdout, "SLACK_BOT_TOKEN") || !strings.Contains(res.Stdout, "PATH") {
		t.Errorf("the checker's environment: %+v %v", res, err)
	}
	if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.cmd.Process.Pid)); err == nil && strings.Contains(string(env), "xoxb-") {
		t.Errorf("the checker's /proc environ holds the token")
	}

	res, err = p.run(ctx, dir, "import os,sys\nprint(os.getcwd(), sys.argv[1:])\nprint('oops', file=sys.stderr)\nsys.exit(3)\n", []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 3 || res.Stdout != dir+" ['a', 'b']\n" || res.Output != dir+" ['a', 'b']\noops\n" {
		t.Errorf("run = %+v", res)
	}
	res, err = p.run(ctx, dir, "import sys\nsys.exit('refused: reasons')\n", nil)
	if err != nil || res.Code != 1 || !strings.Contains(res.Output, "refused: reasons") {
		t.Errorf("sys.exit(str) = %+v, %v", res, err)
	}
	res, err = p.run(ctx, dir, "def f():\n    raise ValueError('bad')\nf()\n", nil)
	if err != nil || res.Code != 1 || !strings.Contains(res.Output, "ValueError: bad") ||
		!strings.Contains(res.Output, `File "<string>", line 3`) || strings.Contains(res.Output, "def run(") {
		t.Errorf("an exception = %+v, %v", res, err)
	}
	// A script's globals do not leak into the next one.
	if res, err := p.run(ctx, dir, "LEAK = 1\n", nil); err != nil || res.Code != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if res, _ := p.run(ctx, dir, "print(LEAK)\n", nil); res.Code != 1 || !strings.Contains(res.Output, "NameError") {
		t.Errorf("globals leaked between scripts: %+v", res)
	}

	// The interpreter dies: the request says so, the next one starts anew.
	if _, err := p.run(ctx, dir, "import os\nos._exit(9)\n", nil); err == nil || !strings.Contains(err.Error(), "ended") {
		t.Errorf("a dead interpreter: %v", err)
	}
	if res, err := p.run(ctx, dir, "print('again')\n", nil); err != nil || res.Stdout != "again\n" {
		t.Errorf("after a restart: %+v %v", res, err)
	}

	// A stuck script is killed at its deadline; the next request is served.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := p.run(short, dir, "import time\ntime.sleep(600)\n", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a stuck script: %v", err)
	}
	if res, err := p.run(ctx, dir, "print('served')\n", nil); err != nil || res.Stdout != "served\n" {
		t.Errorf("after a stuck script: %+v %v", res, err)
	}

	p.Close()
	if _, err := p.run(ctx, dir, "print(1)\n", nil); !errors.Is(err, errPyServerClosed) {
		t.Errorf("after Close: %v", err)
	}
}
