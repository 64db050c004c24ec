// Package demo holds the bundled example research repository: a CPU-only
// byte-level language model that trains in a few seconds, so the whole loop
// can be shown without a GPU, Slack or an API key.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files are named one by one rather than embedding the whole directory: a
// __pycache__ left by running train.py in the source tree must not ship.
//
//go:embed example/prepare.py example/train.py example/program.md example/.gitignore example/data/*.txt
var example embed.FS

// Files returns the example repository's files, rooted at the repo root.
func Files() fs.FS {
	sub, err := fs.Sub(example, "example")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// WriteExample writes the example repository into dir, creating it (and
// data/) as needed. Existing files of the same names are overwritten; other
// files in dir are left alone.
func WriteExample(dir string) error {
	src := Files()
	return fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			return nil
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		return nil
	})
}
