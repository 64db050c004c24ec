package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procTable reads process facts from a /proc tree.
type procTable struct {
	root string // "/proc"
	self int    // our pid: it and its descendants are ours
}

// comm is the process's command name, or "" when it is not visible.
func (p procTable) comm(pid int) string {
	b, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// ppid reads the parent pid from /proc/PID/stat ("pid (comm) state ppid ...";
// comm may hold spaces and parentheses, so parse after the last ')').
func (p procTable) ppid(pid int) (int, bool) {
	b, err := os.ReadFile(filepath.Join(p.root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// owner tells whether pid is this process or one of its descendants.
// visible is false when pid is not in the /proc tree (it exited, or it lives
// in another pid namespace, as NVML reports host pids inside a container).
func (p procTable) owner(pid int) (ours, visible bool) {
	cur := pid
	for depth := 0; depth < 128; depth++ {
		if cur == p.self {
			return true, true
		}
		parent, ok := p.ppid(cur)
		if !ok {
			return false, depth > 0
		}
		if parent <= 1 {
			return false, true
		}
		cur = parent
	}
	return false, true
}

// describe names a process for people: "pid 4242 (python3)".
func (p procTable) describe(pid int) string {
	if c := p.comm(pid); c != "" {
		return fmt.Sprintf("pid %d (%s)", pid, c)
	}
	return fmt.Sprintf("pid %d (not visible from here)", pid)
}
