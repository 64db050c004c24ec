package research

import (
	"bytes"
	"fmt"
	"github.com/autoresearch/autoresearch/research/textclip"
	"regexp"
	"strings"
)

// ReasonStopped is the reason of an experiment a person (or a shutdown)
// stopped: a crash in results.tsv, but no fault of the change.
const ReasonStopped = "stopped"

// ReasonInterrupted is the reason of an experiment that was running when
// its process died (kill -9, a crash of the host): recovery records it so.
const ReasonInterrupted = "interrupted"

// WasStopped reports whether e ended because it was stopped, not because
// it failed.
func WasStopped(e Experiment) bool { return e.Status == StatusCrash && e.Reason == ReasonStopped }

// crashScanBytes is how much of the end of a log CrashCause reads: the
// cause of a crash is in its last lines, and a huge log is not re-read.
const crashScanBytes = 64 << 10

var (
	lossNonFinite = regexp.MustCompile(`(?i)\bloss\b[^\n\r]{0,40}?[:=]\s*[-+]?(nan|inf)\b`)
	exceptionLine = regexp.MustCompile(`^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)|[A-Za-z_][\w.]*\.OutOfMemoryError)(:.*)?$`)
)

// CrashCause says in words why a training that exited with exitCode (-1:
// killed by a signal) failed, read from the end of its output: out of
// memory, a NaN or infinite loss, a syntax or import error, the last
// exception of a traceback, or the signal that killed it; "exit status N"
// when the log says nothing more.
func CrashCause(output []byte, exitCode int) string {
	if len(output) > crashScanBytes {
		output = output[len(output)-crashScanBytes:]
	}
	text := string(bytes.ReplaceAll(output, []byte("\r"), []byte("\n")))
	exc := lastException(text)
	status := fmt.Sprintf("exit status %d", exitCode)
	switch {
	case exitCode < 0:
		status = "killed by a signal"
	case exitCode > 128 && exitCode <= 128+64:
		status = fmt.Sprintf("exit status %d, killed by %s", exitCode, signalName(exitCode-128))
	}
	lower := strings.ToLower(text)
	switch {
	case strings.Contains(lower, "outofmemoryerror") || strings.Contains(lower, "cuda out of memory") ||
		strings.Contains(lower, "cuda error: out of memory"):
		if exc == "" {
			exc = "CUDA out of memory"
		}
		return "out of memory on the GPU: " + textclip.Bytes(exc, 160) + " (" + status + ")"
	case strings.HasPrefix(exc, "MemoryError"):
		return "out of memory: " + textclip.Bytes(exc, 160) + " (" + status + ")"
	case strings.HasPrefix(exc, "SyntaxError") || strings.HasPrefix(exc, "IndentationError") || strings.HasPrefix(exc, "TabError"):
		return "syntax error: " + textclip.Bytes(exc, 160)
	case strings.HasPrefix(exc, "ModuleNotFoundError") || strings.HasPrefix(exc, "ImportError"):
		return "import error: " + textclip.Bytes(exc, 160)
	case lossNonFinite.MatchString(text):
		m := lossNonFinite.FindString(text)
		return "the loss became " + strings.ToLower(lossNonFinite.FindStringSubmatch(text)[1]) + " (" + textclip.Bytes(strings.TrimSpace(m), 60) + "; " + status + ")"
	case exitCode == 137 || exitCode == -1 && exc == "":
		if exitCode == 137 {
			return status + "; the kernel's out-of-memory killer sends this too"
		}
		return status
	case exc != "":
		return textclip.Bytes(exc, 200) + " (" + status + ")"
	}
	return status
}

// signalName names the signals a training commonly dies of.
func signalName(n int) string {
	if name, ok := map[int]string{1: "SIGHUP", 2: "SIGINT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
		9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"}[n]; ok {
		return name
	}
	return fmt.Sprintf("signal %d", n)
}

// lastException is the last line of output that names a Python exception
// ("ValueError: bad shape"), or "".
func lastException(text string) string {
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if exceptionLine.MatchString(l) {
			return l
		}
	}
	return ""
}
