package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/sashabaranov/go-openai"

	"github.com/autoresearch/autoresearch/research/atomicfile"
)

// Tool names of the agent protocol (program.md).
const (
	toolRead   = "read_file"
	toolEdit   = "edit_file"
	toolWrite  = "write_file"
	toolFinish = "finish"
)

// MaxDescriptionLen bounds finish's description: it is one results.tsv cell
// and a chat line.
const MaxDescriptionLen = 200

// toolDefs are the function tools offered to the model. The schemas are
// strict enough that well-behaved models send exactly these arguments; the
// executor still validates everything, since compatible servers may not
// enforce schemas.
var toolDefs = []openai.Tool{
	fnTool(toolRead, "Read a file of the research repository (path relative to the repository root). Large files are truncated.",
		`{"type":"object","properties":{"path":{"type":"string","description":"relative path, e.g. train.py"}},"required":["path"],"additionalProperties":false}`),
	fnTool(toolEdit, "Replace exactly one occurrence of old_string with new_string in an editable file. old_string must match exactly (whitespace included) and be unique in the file.",
		`{"type":"object","properties":{"path":{"type":"string"},"old_string":{"type":"string","description":"exact text to replace; must occur exactly once"},"new_string":{"type":"string"}},"required":["path","old_string","new_string"],"additionalProperties":false}`),
	fnTool(toolWrite, "Replace the whole content of an editable file.",
		`{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string","description":"the complete new file content"}},"required":["path","content"],"additionalProperties":false}`),
	fnTool(toolFinish, "End the proposal: the harness trains the files as they are now. description is one line (max 200 characters) saying what this experiment tries.",
		`{"type":"object","properties":{"description":{"type":"string"}},"required":["description"],"additionalProperties":false}`),
}

func fnTool(name, desc, schema string) openai.Tool {
	return openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
		Name: name, Description: desc, Parameters: json.RawMessage(schema),
	}}
}

// decodeArgs parses a tool call's JSON arguments strictly: unknown fields and
// missing required ones are reported to the model instead of being guessed.
func decodeArgs(tool, raw string, v any, required ...string) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &probe); err != nil {
		return refusef("%s: arguments are not a valid JSON object: %v", tool, err)
	}
	for _, k := range required {
		if _, ok := probe[k]; !ok {
			return refusef("%s: missing argument %q", tool, k)
		}
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return refusef("%s: bad arguments: %v", tool, err)
	}
	return nil
}

// readFile implements read_file: any regular file, capped at maxRead bytes.
func (w *workspace) readFile(raw string) (string, error) {
	var a struct {
		Path string `json:"path"`
	}
	if err := decodeArgs(toolRead, raw, &a, "path"); err != nil {
		return "", err
	}
	rel, abs, err := w.resolve(a.Path)
	if err != nil {
		return "", err
	}
	data, size, err := w.readCapped(rel, abs)
	if err != nil {
		return "", err
	}
	if int64(len(data)) < size {
		return fmt.Sprintf("%s\n[truncated: %s is %d bytes, showing the first %d]", data, rel, size, len(data)), nil
	}
	if len(data) == 0 {
		return fmt.Sprintf("[%s is empty]", rel), nil
	}
	return string(data), nil
}

func (w *workspace) readCapped(rel, abs string) ([]byte, int64, error) {
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, refusef("%s: no such file", rel)
	}
	if err != nil {
		return nil, 0, refusef("%s: %v", rel, errors.Unwrap(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, refusef("%s is not a regular file", rel)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, 0, refusef("%s: %v", rel, errors.Unwrap(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(w.maxRead)))
	if err != nil {
		return nil, 0, refusef("%s: %v", rel, err)
	}
	return data, fi.Size(), nil
}

// editFile implements edit_file: exact, unique match replace.
func (w *workspace) editFile(raw string) (string, error) {
	var a struct {
		Path      string `json:"path"`
		OldString string `json:"old_string"`
		NewString string `json:"new_string"`
	}
	if err := decodeArgs(toolEdit, raw, &a, "path", "old_string", "new_string"); err != nil {
		return "", err
	}
	rel, abs, err := w.resolveWritable(a.Path)
	if err != nil {
		return "", err
	}
	if a.OldString == "" {
		return "", refusef("edit_file: old_string is empty; use write_file to replace a whole file")
	}
	if a.OldString == a.NewString {
		return "", refusef("edit_file: old_string and new_string are identical; nothing would change")
	}
	// Edits read the whole file, not the read cap: truncating here would
	// silently drop the file's tail on write.
	content, err := os.ReadFile(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", refusef("%s: no such file; use write_file to create it", rel)
	}
	if err != nil {
		return "", refusef("%s: %v", rel, errors.Unwrap(err))
	}
	switch n := strings.Count(string(content), a.OldString); {
	case n == 0:
		return "", refusef("edit_file: old_string not found in %s; it must match the file exactly, including whitespace and indentation (read_file it again)", rel)
	case n > 1:
		return "", refusef("edit_file: old_string occurs %d times in %s; include more surrounding lines so it matches exactly once", n, rel)
	}
	updated := strings.Replace(string(content), a.OldString, a.NewString, 1)
	if err := writeAtomic(abs, []byte(updated)); err != nil {
		return "", refusef("%s: write failed: %v", rel, err)
	}
	return fmt.Sprintf("edited %s: replaced %d line(s) with %d line(s)", rel, lineCount(a.OldString), lineCount(a.NewString)), nil
}

// writeFile implements write_file: whole-file replace of an editable file.
func (w *workspace) writeFile(raw string) (string, error) {
	var a struct {
		Path    string `json:"path"`
		Content string `json:"content"`
	}
	if err := decodeArgs(toolWrite, raw, &a, "path", "content"); err != nil {
		return "", err
	}
	rel, abs, err := w.resolveWritable(a.Path)
	if err != nil {
		return "", err
	}
	if err := writeAtomic(abs, []byte(a.Content)); err != nil {
		return "", refusef("%s: write failed: %v", rel, err)
	}
	return fmt.Sprintf("wrote %s (%d bytes, %d lines)", rel, len(a.Content), lineCount(a.Content)), nil
}

// parseFinish validates finish's description: one non-empty line of at most
// MaxDescriptionLen characters, newlines and runs of whitespace collapsed.
func parseFinish(raw string) (string, error) {
	var a struct {
		Description string `json:"description"`
	}
	if err := decodeArgs(toolFinish, raw, &a, "description"); err != nil {
		return "", err
	}
	d := strings.Join(strings.Fields(a.Description), " ")
	if d == "" {
		return "", refusef("finish: description is empty; give one line saying what this experiment tries")
	}
	if n := len([]rune(d)); n > MaxDescriptionLen {
		return "", refusef("finish: description is %d characters; keep it to one line of at most %d", n, MaxDescriptionLen)
	}
	return d, nil
}

// writeAtomic replaces path so a crash never leaves a half-written
// train.py; it keeps an existing file's permissions. Its temporaries are
// named .agent-write-* (the prompt's file listing skips them).
func writeAtomic(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return atomicfile.Write(path, data, mode, ".agent-write-*")
}

func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(strings.TrimSuffix(s, "\n"), "\n") + 1
}
