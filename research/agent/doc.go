// Package agent holds the proposers that change the editable files of a
// research working copy for the next experiment.
//
// LLM talks to an OpenAI-compatible chat-completions endpoint with the tool
// protocol of the bot's program.md (read_file, edit_file, write_file,
// finish). The system message is that embedded document; the first user
// message is BuildPrompt's text: the research program, the editable files,
// the compact history, pinned ideas, harness feedback and a crash to fix.
// Tool failures (refused paths, bad arguments, missing matches, a Check that
// refuses the finished change) are tool results the model reads and can act
// on, never Go errors. Go errors end the proposal: *BudgetError (turns or
// tokens spent, errors.Is ErrBudget), *NoToolCallError (the model keeps
// answering in prose), *UnavailableError (the endpoint kept failing with
// 429/5xx/network errors; pause the run) and plain errors for non-retryable
// API failures such as 401 (an *openai.APIError inside).
//
// Command runs an external agent command with the same prompt on stdin.
//
// Neither proposer touches git or training: the harness checks, commits and
// trains what is left in the working copy.
package agent
