package researchtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PreferRealPython puts the directory of the interpreter that `python3`
// resolves to first on PATH, for the whole test process and every process
// it starts. Call it from TestMain, before any test runs.
//
// Why: on hosts with pyenv (or asdf, or similar), `python3` on PATH is a
// shell-script shim that forks a dozen bash processes to pick a version
// before it execs the interpreter. Every fake training and every syntax
// check starts python3, so the shim costs seconds per experiment on a busy
// machine, and ordering-sensitive tests then wait on bash instead of on
// the event they test. The interpreter is the same one the shim would
// pick; only the detour is skipped. Where python3 is already the real
// binary, or cannot be found, PATH is left as it is.
func PreferRealPython() {
	shim, err := exec.LookPath("python3")
	if err != nil {
		return
	}
	out, err := exec.Command(shim, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return
	}
	real := strings.TrimSpace(string(out))
	if real == "" || !filepath.IsAbs(real) {
		return
	}
	dir := filepath.Dir(real)
	if filepath.Dir(shim) == dir {
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "python3")); err != nil {
		return // the real interpreter is not called python3 there
	}
	os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}
