package proctree

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestParseStatCountsFieldsFromTheLastParenthesis(t *testing.T) {
	line := "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n"
	p, err := parseStat(4242, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := Proc{PID: 4242, PPID: 17, PGID: 4242, SID: 4242, State: 'S', StartTime: 987654}
	if p != want {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	if _, err := parseStat(1, []byte("1 (x) S 0")); err == nil {
		t.Fatal("a short line was accepted")
	}
}

func TestDescendantsFollowParentLinksOutOfTheGroup(t *testing.T) {
	all := []Proc{
		{PID: 10, PPID: 1, PGID: 10},
		{PID: 11, PPID: 10, PGID: 10},
		{PID: 12, PPID: 11, PGID: 12, SID: 12}, // setsid
		{PID: 13, PPID: 12, PGID: 12},
		{PID: 20, PPID: 1, PGID: 10}, // an orphan still in the group
		{PID: 30, PPID: 1, PGID: 30}, // unrelated
	}
	got := map[int]bool{}
	for _, p := range descendantsOf(all, 10, 10) {
		got[p.PID] = true
	}
	for _, pid := range []int{10, 11, 12, 13, 20} {
		if !got[pid] {
			t.Errorf("%d not found", pid)
		}
	}
	if got[30] {
		t.Error("an unrelated process was taken for a descendant")
	}
}

// A recorded process is killed after a restart; a recorded pid whose start
// time differs (the pid was reused) is left alone.
func TestEndRecordedKillsOnlyTheSameProcesses(t *testing.T) {
	victim := exec.Command("sleep", "1000")
	bystander := exec.Command("sleep", "1000")
	for _, c := range []*exec.Cmd{victim, bystander} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	v, err := Stat(victim.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Stat(bystander.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	reused := b
	reused.StartTime++ // as if the recorded process had exited and its pid been reused
	path := filepath.Join(t.TempDir(), "trainer-gpu0.procs")
	if err := WriteRecord(path, []Proc{v, reused}); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- victim.Wait() }()
	killed, err := EndRecorded(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(killed) != 1 || killed[0].PID != v.PID {
		t.Fatalf("killed %+v, want only %d", killed, v.PID)
	}
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the recorded process still runs")
	}
	if !Alive(b) {
		t.Fatal("the process now holding a reused pid was killed")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the record is still there")
	}
	if k, err := EndRecorded(path, time.Second); err != nil || len(k) != 0 {
		t.Fatalf("a missing record: %v %v", k, err)
	}
}
