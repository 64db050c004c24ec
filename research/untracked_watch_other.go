//go:build !linux

package research

import "errors"

// treeWatch is Linux-only (inotify); elsewhere the guard walks the tree
// before and after each training.
type treeWatch struct{}

func newTreeWatch(root string, skip []string, max int) (*treeWatch, error) {
	return nil, errors.New("no inotify on this platform")
}

func (w *treeWatch) close()      {}
func (w *treeWatch) sync() error { return errors.New("no inotify on this platform") }
func (w *treeWatch) changes(tracked func(string) bool) (treeDamage, treePicture, error) {
	return treeDamage{}, treePicture{}, errors.New("no inotify on this platform")
}
