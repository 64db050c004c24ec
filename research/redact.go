package research

import (
	"bytes"
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
	r     *strings.Replacer
	names []string
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
	var args []string
	var names []string
	for _, p := range ps {
		args = append(args, p.value, "[redacted "+p.name+"]")
		names = append(names, p.name)
	}
	sort.Strings(names)
	return &Redactor{r: strings.NewReplacer(args...), names: names}
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

// RedactFile rewrites path with its secrets redacted, atomically (a
// temporary file renamed over it), and only when it holds one. A missing
// file is not an error: there is nothing to leak.
func (r *Redactor) RedactFile(path string) error {
	if r == nil || path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	red := r.RedactBytes(data)
	if bytes.Equal(red, data) {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".redact-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(red); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
