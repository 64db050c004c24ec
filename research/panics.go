package research

import (
	"fmt"
	"log/slog"
	"runtime/debug"
)

// A panic is a bug report, not an outage: every goroutine of the loop and
// every request handler of the front ends recovers, logs the panic with its
// stack (one record) and carries on; the person who hit it is told
// BugMessage, and a loop that hit it pauses the run with the reason, so a
// resume continues once the cause is understood.

// BugMessage is what a person is told when their request hit a bug.
const BugMessage = "that was a bug, it is logged"

// PanicError is a recovered panic: where it happened, its value and the
// stack of the goroutine that panicked.
type PanicError struct {
	Where string
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("bug: panic in %s: %v", e.Where, e.Value) }

// Unwrap exposes a panic value that is an error (e.g. a runtime error).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Recover, deferred directly (`defer research.Recover(log, "where", then)`),
// stops a panic of the calling goroutine, logs it with its stack and hands
// it to then (nil: only log). Without a panic it does nothing.
func Recover(logger *slog.Logger, where string, then func(*PanicError)) {
	v := recover()
	if v == nil {
		return
	}
	p := &PanicError{Where: where, Value: v, Stack: string(debug.Stack())}
	LogPanic(logger, p)
	if then != nil {
		then(p)
	}
}

// Catch runs f and returns a panic in it as a logged *PanicError (nil
// when f returned normally).
func Catch(logger *slog.Logger, where string, f func()) (err error) {
	defer Recover(logger, where, func(p *PanicError) { err = p })
	f()
	return nil
}

// LogPanic writes the one log record of a recovered panic.
func LogPanic(logger *slog.Logger, p *PanicError) {
	if logger == nil {
		logger = slog.Default()
	}
	logger.Error("panic recovered: this is a bug, please report it", "where", p.Where, "panic", fmt.Sprint(p.Value), "stack", p.Stack)
}
