package research

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// trainerMarkerVar is set in every trainer's environment to a token of the
// state dir, so that a restart finds trainers a killed harness left behind
// even when it died before recording their process group (the instant
// between starting the trainer and writing trainer-SLOT.pgid). The token is
// a hash: the trainer learns nothing from it.
const trainerMarkerVar = "AUTORESEARCH_TRAINER"

func (m *Manager) trainerMarker() string { return trainerMarkerVar + "=" + m.stateToken() }

// proposerMarkerVar marks a proposer's processes (the `--proposer command`
// agent) the same way: an agent a killed harness left behind would go on
// editing the proposal workspace the next process uses.
const proposerMarkerVar = "AUTORESEARCH_PROPOSER"

func (m *Manager) proposerMarker() string { return proposerMarkerVar + "=" + m.stateToken() }

// stateToken names the state dir without telling it.
func (m *Manager) stateToken() string {
	sum := sha256.Sum256([]byte(m.Config.StateDir))
	return hex.EncodeToString(sum[:8])
}

// killOrphanProposers kills the process groups of proposer agents a killed
// harness of this state dir left running. Every start does it, before
// anything in the repository is repaired or reset: nothing of this state
// dir proposes while no process owns it.
func (m *Manager) killOrphanProposers() {
	groups, _ := m.markedProcessGroups(m.proposerMarker())
	for _, pgid := range groups {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err == nil {
			m.logger().Warn("killed a proposer agent left over from before the restart", "pgid", pgid)
		}
	}
}

// trainerEnv is a slot's environment plus the marker.
func (m *Manager) trainerEnv(env []string) []string {
	return append(append([]string(nil), env...), m.trainerMarker())
}

// markedProcessGroups lists the process groups of live processes whose
// environment carries entry (a marker of this state dir). It reads Linux's /proc:
// where that cannot be read, ok is false (nothing could be checked). The
// harness's own group is never listed.
func (m *Manager) markedProcessGroups(entry string) (groups []int, ok bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	marker := []byte(entry)
	own := syscall.Getpgrp()
	seen := map[int]bool{}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !hasEnvEntry(env, marker) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 3 {
			continue
		}
		pgid, err := strconv.Atoi(fields[2])
		if err != nil || pgid <= 1 || pgid == own || seen[pgid] {
			continue
		}
		seen[pgid] = true
		groups = append(groups, pgid)
	}
	return groups, true
}

func hasEnvEntry(environ, entry []byte) bool {
	for _, kv := range bytes.Split(environ, []byte{0}) {
		if bytes.Equal(kv, entry) {
			return true
		}
	}
	return false
}
