package research

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// setAside copies the files among changed that a restore of the proposal
// workspace would delete or revert and that the proposal could not have
// been meant to write (anything but the editable files) to
// STATE_DIR/set-aside/, before the restore. In sequential mode the model
// proposes in the person's own working copy: a file someone else created
// or edited there meanwhile (a data cache, a note, a fix to prepare.py) is
// indistinguishable from the proposal's and is undone with it, but never
// lost. The proposal worktree of pipelined runs is the harness's own:
// nothing there needs keeping.
func (s *session) setAside(changed []string) {
	if s.propRepo != s.m.Repo {
		return
	}
	var kept []string
	dest := filepath.Join(s.m.Config.StateDir, "set-aside", time.Now().UTC().Format("20060102T150405.000000000"))
	for _, p := range changed {
		if contains(s.m.Config.Editable, p) {
			continue
		}
		src := filepath.Join(s.propRepo.Root(), p)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted, or not a plain file: nothing to keep
		}
		data, err := os.ReadFile(src)
		if err == nil {
			target := filepath.Join(dest, filepath.FromSlash(p))
			if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
				err = os.WriteFile(target, data, info.Mode().Perm())
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.m.logger().Error("setting aside a file before undoing the proposal", "path", p, "err", err)
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) > 0 {
		s.m.logger().Warn("files that changed in the repository while the model proposed were undone with the proposal; copies are kept",
			"paths", strings.Join(kept, ", "), "copies", dest)
	}
}
