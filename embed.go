// Package autoresearch holds files embedded into the binary. It lives at the
// repository root because go:embed cannot reach parent directories.
package autoresearch

import _ "embed"

// AgentProgram is the bot's own agent protocol (program.md at the repository
// root): the system prompt of the LLM proposer. It is not the research
// repository's program.md, which holds the human's research instructions.
//
//go:embed program.md
var AgentProgram string
