//go:build !linux

package gitrepo

import "errors"

// monitor is absent outside Linux: every check is a full scan.
type monitor struct {
	changes   uint64
	overflows int
	off       string
}

func newMonitor(root string, max int) (*monitor, error) {
	return nil, errors.New("no change monitor on this platform")
}

func (m *monitor) live() bool                   { return false }
func (m *monitor) close()                       {}
func (m *monitor) drain()                       {}
func (m *monitor) watch(rel string) *watchedDir { return nil }
