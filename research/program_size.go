package research

import (
	"errors"
	"fmt"
)

// DefaultProgramMaxBytes caps program.md: it goes into every proposal's
// prompt, so a huge one (a pasted data dump, a 4 MB modal submission) would
// cost every experiment of the night, or not fit at all.
const DefaultProgramMaxBytes = 64 << 10

// ErrProgramTooLarge is wrapped by the refusal of an edit that would make
// program.md larger than Config.ProgramMaxBytes.
var ErrProgramTooLarge = errors.New("program.md too large")

// ProgramTooLargeError says how large program.md would become and what the
// limit is.
type ProgramTooLargeError struct {
	Kind  string // append or replace
	Bytes int    // program.md's size after the edit
	Max   int
}

func (e *ProgramTooLargeError) Error() string {
	what := "the new program.md is"
	if e.Kind == "append" {
		what = "program.md with this append would be"
	}
	return fmt.Sprintf("%s %s, over the limit of %s (--program-max-bytes); nothing was changed: shorten it, or put long material in a file in the repo and point to it",
		what, formatBytes(e.Bytes), formatBytes(e.Max))
}

func (e *ProgramTooLargeError) Unwrap() error { return ErrProgramTooLarge }

// checkProgramSize refuses a program.md of size bytes when over the limit.
func (c Config) checkProgramSize(kind string, size int) error {
	if max := c.programMaxBytes(); size > max {
		tl := &ProgramTooLargeError{Kind: kind, Bytes: size, Max: max}
		return &InputError{Msg: tl.Error(), Err: tl}
	}
	return nil
}

func (c Config) programMaxBytes() int {
	if c.ProgramMaxBytes > 0 {
		return c.ProgramMaxBytes
	}
	return DefaultProgramMaxBytes
}

// formatBytes writes a size for people: 812 bytes, 64 KB, 3.9 MB.
func formatBytes(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.4g KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.2g MB", float64(n)/(1<<20))
	}
}
