// Package atomicfile replaces files so that a crash or a power cut leaves
// the old content or the new one, never half of each: the data goes to a
// temporary file in the same directory, is synced, and is renamed over the
// target, and the directory is synced so the rename itself lasts.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with data and gives it perm. The temporary file is
// created next to path from pattern, as os.CreateTemp names it (a "*" is
// replaced by a random string), so callers can recognise and skip their
// own temporaries; "" means "."+base(path)+".tmp-*". A symlink at path is
// replaced, never written through.
func Write(path string, data []byte, perm fs.FileMode, pattern string) error {
	return writeTemp(path, data, perm, pattern, true)
}

// WriteVia is Write through the temporary file tmp, a fixed name the
// caller knows (e.g. one its ignore rules list); an old tmp is overwritten.
func WriteVia(path, tmp string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	return replace(f, path, data, perm, true)
}

// WriteVolatile is Write without the syncs: a reader, or the next start
// after a crash of the process, sees the old content or the new one, but a
// power cut may lose both. For records that mean nothing after a reboot
// (the processes of a running experiment), where a sync would cost
// milliseconds for nothing.
func WriteVolatile(path string, data []byte, perm fs.FileMode, pattern string) error {
	return writeTemp(path, data, perm, pattern, false)
}

// writeTemp replaces path through a temporary named from pattern.
func writeTemp(path string, data []byte, perm fs.FileMode, pattern string, durable bool) error {
	if pattern == "" {
		pattern = "." + filepath.Base(path) + ".tmp-*"
	}
	f, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return err
	}
	return replace(f, path, data, perm, durable)
}

// replace writes data to the open temporary f, syncs it when durable,
// closes it and renames it over path (then syncs the directory when
// durable); on any failure the temporary is removed.
func replace(f *os.File, path string, data []byte, perm fs.FileMode, durable bool) error {
	tmp := f.Name()
	err := write(f, data, perm, durable)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if !durable {
		return nil
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // best effort: some filesystems refuse to sync a directory
		d.Close()
	}
	return nil
}

func write(f *os.File, data []byte, perm fs.FileMode, durable bool) error {
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	return f.Sync()
}
