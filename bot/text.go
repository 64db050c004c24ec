package bot

// Text helpers the front ends outside this package share with its
// renderers, so a commit or a description reads the same everywhere.

// ShortCommit is the 7-character commit upstream's results.tsv uses.
func ShortCommit(commit string) string { return short(commit) }

// OneLine collapses whitespace (newlines included) so user text cannot
// break line-oriented output.
func OneLine(s string) string { return oneLine(s) }
