package research

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// minSecretLen is the shortest value the Redactor hides: shorter values
// ("1", "true", a port) would blank out ordinary words and numbers, and are
// no credential worth the name.
const minSecretLen = 8

// Redactor replaces every secret value the process knows (Slack and LLM
// tokens, the signing secret, the value of every variable kept from the
// trainer's environment) with a marker naming it. It is the defence in
// depth behind the scrubbed environment: whatever train.py manages to read
// and print is redacted before it is stored, posted or sent to a model.
//
// A nil *Redactor redacts nothing, so code and tests without secrets need
// not build one.
type Redactor struct {
	r       *strings.Replacer
	names   []string
	values  []string // the secrets, longest first
	longest int
}

// NewRedactor builds a Redactor from name -> value. Values shorter than
// minSecretLen are ignored. The replacer is built once; longer values are
// tried first so that a secret containing another is hidden whole.
func NewRedactor(secrets map[string]string) *Redactor {
	type pair struct{ name, value string }
	var ps []pair
	seen := map[string]bool{}
	for name, v := range secrets {
		v = strings.TrimSpace(v)
		if len(v) < minSecretLen || seen[v] {
			continue
		}
		seen[v] = true
		ps = append(ps, pair{name, v})
	}
	if len(ps) == 0 {
		return nil
	}
	sort.Slice(ps, func(i, j int) bool {
		if len(ps[i].value) != len(ps[j].value) {
			return len(ps[i].value) > len(ps[j].value)
		}
		return ps[i].name < ps[j].name
	})
	var args, names, values []string
	for _, p := range ps {
		args = append(args, p.value, "[redacted "+p.name+"]")
		names = append(names, p.name)
		values = append(values, p.value)
	}
	sort.Strings(names)
	return &Redactor{r: strings.NewReplacer(args...), names: names, values: values, longest: len(values[0])}
}

// Redact returns s with every known secret replaced.
func (r *Redactor) Redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	return r.r.Replace(s)
}

// RedactBytes is Redact for file contents.
func (r *Redactor) RedactBytes(b []byte) []byte {
	if r == nil || len(b) == 0 {
		return b
	}
	out := r.r.Replace(string(b))
	if len(out) == len(b) && out == string(b) {
		return b
	}
	return []byte(out)
}

// Func is Redact as a function value (nil when there is nothing to redact),
// for packages that take a plain func(string) string.
func (r *Redactor) Func() func(string) string {
	if r == nil {
		return nil
	}
	return r.Redact
}

// Names are the names of the secrets it hides, sorted (for logs: never the
// values).
func (r *Redactor) Names() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.names...)
}

// redactChunk is how much of a file RedactFile holds in memory at a time:
// training logs can be far larger than anything worth reading whole.
const redactChunk = 1 << 20

// RedactFile rewrites path with its secrets redacted, atomically (a
// temporary file renamed over it), and only when it holds one. It streams
// the file in chunks, carrying enough of each chunk's end into the next
// that no secret is split. A missing file is not an error: there is
// nothing to leak.
func (r *Redactor) RedactFile(path string) error {
	if r == nil || path == "" {
		return nil
	}
	in, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".redact-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	changed, err := r.copyRedacted(tmp, in)
	if err == nil {
		err = tmp.Chmod(info.Mode().Perm())
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil || !changed {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// copyRedacted copies in to out with the secrets redacted and says whether
// anything was.
func (r *Redactor) copyRedacted(out io.Writer, in io.Reader) (changed bool, err error) {
	buf := make([]byte, 0, redactChunk+r.longest)
	chunk := make([]byte, redactChunk)
	for {
		n, rerr := io.ReadFull(in, chunk)
		buf = append(buf, chunk[:n]...)
		eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !eof {
			return changed, rerr
		}
		cut := len(buf)
		if !eof {
			cut = r.safeCut(buf)
		}
		red := r.RedactBytes(buf[:cut])
		if len(red) != cut || !bytes.Equal(red, buf[:cut]) {
			changed = true
		}
		if _, err := out.Write(red); err != nil {
			return changed, err
		}
		if eof {
			return changed, nil
		}
		buf = append(buf[:0], buf[cut:]...)
	}
}

// safeCut is where buf may be cut so that no secret straddles the cut: at
// most the longest secret's length minus one from the end, moved back to
// the start of a secret that would cross it. Moving back can only make
// another secret cross when secrets overlap in the text; a few rounds cover
// that, and bound the work for text built to defeat it.
func (r *Redactor) safeCut(buf []byte) int {
	cut := max(len(buf)-(r.longest-1), 0)
	for round := 0; round < 4; round++ {
		moved := false
		for _, v := range r.values {
			// An occurrence starting here, before cut, ends after it.
			lo, hi := max(cut-len(v)+1, 0), min(cut+len(v)-1, len(buf))
			if lo >= hi {
				continue
			}
			if i := bytes.Index(buf[lo:hi], []byte(v)); i >= 0 && lo+i < cut {
				cut, moved = lo+i, true
			}
		}
		if !moved {
			break
		}
	}
	return cut
}
