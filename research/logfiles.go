package research

import (
	"fmt"
	"os"
	"path/filepath"
)

// freshLogPath is the log file for experiment number in dir: NNNN.log, or
// NNNN-2.log, NNNN-3.log... when that exists, so a log is never
// overwritten (a store rebuilt or restored from an older backup numbers
// experiments again; the old logs stay).
func freshLogPath(dir string, number int) string {
	base := filepath.Join(dir, fmt.Sprintf("%04d.log", number))
	if _, err := os.Lstat(base); os.IsNotExist(err) {
		return base
	}
	for i := 2; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%04d-%d.log", number, i))
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			return p
		}
	}
}

// redactTraining hides the process's secrets in a finished training: its
// output (the log tail, the crash cause and the crash-fix prompt come from
// it) and its log files on disk, which `log N` shows and the agent may read
// (run.log).
func (m *Manager) redactTraining(job TrainJob, res *TrainResult) {
	r := m.Config.Redactor
	if r == nil {
		return
	}
	res.Output = r.RedactBytes(res.Output)
	for _, p := range []string{job.LogPath, job.RunLogPath} {
		if err := r.RedactFile(p); err != nil {
			m.logger().Warn("redacting secrets in a training log", "path", p, "err", err)
		}
	}
}
