package research

import (
	"strings"
	"testing"
)

func TestCrashCause(t *testing.T) {
	t.Parallel()
	traceback := func(last string) string {
		return "step 00012 (4.0%) | loss: 3.2\rstep 00013 (4.3%) | loss: 3.1\n" +
			"Traceback (most recent call last):\n  File \"train.py\", line 40, in <module>\n    x = model(x)\n" + last + "\n"
	}
	for _, tc := range []struct {
		name   string
		output string
		code   int
		want   string
	}{
		{"torch OOM", traceback("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"), 1,
			"out of memory on the GPU: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (exit status 1)"},
		{"older CUDA OOM", traceback("RuntimeError: CUDA out of memory. Tried to allocate 20 MiB"), 1,
			"out of memory on the GPU: RuntimeError: CUDA out of memory. Tried to allocate 20 MiB (exit status 1)"},
		{"host OOM", traceback("MemoryError"), 1, "out of memory: MemoryError (exit status 1)"},
		{"nan loss", "step 00100 (30.0%) | loss: 3.1\rstep 00101 (30.3%) | loss: nan | lr 0.04\nFAIL\n", 1,
			"the loss became nan (loss: nan; exit status 1)"},
		{"inf loss", "step 7 | train loss = inf\n", 2, "the loss became inf (loss = inf; exit status 2)"},
		{"syntax", "  File \"train.py\", line 3\n    x = (\n        ^\nSyntaxError: '(' was never closed\n", 1,
			"syntax error: SyntaxError: '(' was never closed"},
		{"import", traceback("ModuleNotFoundError: No module named 'flash_attn'"), 1,
			"import error: ModuleNotFoundError: No module named 'flash_attn'"},
		{"other exception", traceback("ValueError: shapes (4,8) and (9,) not aligned"), 1,
			"ValueError: shapes (4,8) and (9,) not aligned (exit status 1)"},
		{"killed by SIGKILL", "step 1\n", 137, "exit status 137, killed by SIGKILL; the kernel's out-of-memory killer sends this too"},
		{"killed by SIGSEGV", "step 1\n", 139, "exit status 139, killed by SIGSEGV"},
		{"signal, no exit code", "", -1, "killed by a signal"},
		{"nothing in the log", "all fine until now\n", 3, "exit status 3"},
		{"a word that is not an exception", "Error rates look fine\n", 1, "exit status 1"},
	} {
		if got := CrashCause([]byte(tc.output), tc.code); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// Only the end of a huge log is read, and the cause stays one short line.
func TestCrashCauseReadsTheEndOfAHugeLog(t *testing.T) {
	t.Parallel()
	out := strings.Repeat("ValueError: early and irrelevant\n", 10000) + strings.Repeat("x", 200<<10) +
		"\ntorch.OutOfMemoryError: CUDA out of memory. " + strings.Repeat("detail ", 100) + "\n"
	got := CrashCause([]byte(out), 1)
	if !strings.HasPrefix(got, "out of memory on the GPU: torch.OutOfMemoryError") || len(got) > 220 {
		t.Errorf("cause = %q (%d bytes)", got, len(got))
	}
}
