package slurm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// jobInfo is what the cluster says about a job, from whichever command
// answered. Empty fields are unknown.
type jobInfo struct {
	State     string // first word of the state: RUNNING, CANCELLED, ...
	Reason    string
	Node      string
	ExitCode  string // "exit:signal"
	GPUType   string
	UserID    int // -1: unknown
	OutPath   string
	Submitted time.Time
	Started   time.Time
	Ended     time.Time
	Elapsed   time.Duration
	MaxRSSMB  float64
}

// States the follower tells apart. Anything else that is not terminal
// (CONFIGURING, REQUEUED, RESIZING, SUSPENDED, SIGNALING, STAGE_OUT, ...)
// is waited on like RUNNING.
func isPending(state string) bool {
	switch state {
	case "PENDING", "REQUEUE_HOLD", "REQUEUE_FED", "SPECIAL_EXIT":
		return true
	}
	return false
}

func isTerminal(state string) bool {
	switch state {
	case "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
		"PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED":
		return true
	}
	return false
}

// normState turns "CANCELLED by 1001" or "cancelled+" into CANCELLED.
func normState(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " +"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToUpper(s)
	switch s { // squeue's compact codes, in case someone passes %t
	case "PD":
		return "PENDING"
	case "R":
		return "RUNNING"
	case "CG":
		return "COMPLETING"
	case "CD":
		return "COMPLETED"
	case "F":
		return "FAILED"
	case "CA":
		return "CANCELLED"
	case "TO":
		return "TIMEOUT"
	case "OOM":
		return "OUT_OF_MEMORY"
	case "NF":
		return "NODE_FAIL"
	}
	return s
}

// parseSqueue reads `squeue -h -t all -j ID -o '%T|%r|%N'`: one line
// "RUNNING|None|gpu-07". ok is false when the output holds no such line
// (the controller no longer knows the job).
func parseSqueue(out []byte) (info jobInfo, ok bool) {
	for _, line := range strings.Split(string(out), "\n") {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) < 3 || parts[0] == "" || strings.Contains(parts[0], " ") {
			continue
		}
		info = jobInfo{State: normState(parts[0]), UserID: -1}
		if r := strings.TrimSpace(parts[1]); r != "None" && r != "(null)" {
			info.Reason = r
		}
		if n := strings.TrimSpace(parts[2]); n != "(null)" {
			info.Node = n
		}
		return info, true
	}
	return jobInfo{UserID: -1}, false
}

// parseScontrol reads `scontrol show job -d ID`: whitespace-separated
// Key=Value pairs over several lines. The first occurrence of a key wins.
func parseScontrol(out []byte) (info jobInfo, ok bool) {
	kv := map[string]string{}
	for _, field := range strings.Fields(string(out)) {
		k, v, found := strings.Cut(field, "=")
		if !found {
			continue
		}
		if _, seen := kv[k]; !seen {
			kv[k] = v
		}
	}
	info.UserID = -1
	if kv["JobId"] == "" || kv["JobState"] == "" {
		return info, false
	}
	info.State = normState(kv["JobState"])
	info.Reason = nullable(kv["Reason"])
	info.Node = nullable(kv["NodeList"])
	info.ExitCode = kv["ExitCode"]
	info.OutPath = nullable(kv["StdOut"])
	if m := uidRE.FindStringSubmatch(kv["UserId"]); m != nil {
		info.UserID, _ = strconv.Atoi(m[1])
	}
	info.Submitted = parseSlurmTime(kv["SubmitTime"])
	if !isPending(info.State) { // a pending job's StartTime is only an estimate
		info.Started = parseSlurmTime(kv["StartTime"])
	}
	if isTerminal(info.State) {
		info.Ended = parseSlurmTime(kv["EndTime"])
	}
	if d, ok := parseSlurmDuration(kv["RunTime"]); ok {
		info.Elapsed = d
	}
	for _, key := range []string{"JOB_GRES", "GRES", "AllocTRES", "TRES", "TresPerNode", "TresPerJob", "Gres"} {
		if t := gpuType(kv[key]); t != "" {
			info.GPUType = t
			break
		}
	}
	return info, true
}

var uidRE = regexp.MustCompile(`\((\d+)\)$`)

func nullable(s string) string {
	if s == "(null)" || s == "None" || s == "N/A" {
		return ""
	}
	return s
}

// gpuType finds the GPU type in a GRES or TRES string:
// "gpu:h100:1(IDX:0)", "cpu=1,gres/gpu=1,gres/gpu:h100=1", "gres:gpu:a100:2".
// An untyped GPU gives "gpu"; no GPU gives "".
func gpuType(s string) string {
	if s == "" || s == "(null)" {
		return ""
	}
	found := false
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimPrefix(strings.TrimPrefix(item, "gres/"), "gres:")
		name, _, _ := strings.Cut(item, "=")
		name, _, _ = strings.Cut(name, "(")
		parts := strings.Split(name, ":")
		if parts[0] != "gpu" {
			continue
		}
		found = true
		if len(parts) >= 2 {
			if _, err := strconv.Atoi(parts[1]); err != nil && parts[1] != "" {
				return parts[1]
			}
		}
	}
	if found {
		return "gpu"
	}
	return ""
}

// parseSacct reads `sacct -n -P -j ID -o State,ExitCode,Elapsed,MaxRSS,NodeList`:
// the allocation's line first, then its steps (batch, extern), whose MaxRSS
// is the job's peak memory.
func parseSacct(out []byte) (info jobInfo, ok bool) {
	info.UserID = -1
	for _, line := range strings.Split(string(out), "\n") {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if len(parts) < 5 || parts[0] == "" {
			continue
		}
		if !ok {
			ok = true
			info.State = normState(parts[0])
			info.ExitCode = parts[1]
			if d, good := parseSlurmDuration(parts[2]); good {
				info.Elapsed = d
			}
			if n := nullable(strings.TrimSpace(parts[4])); n != "None assigned" {
				info.Node = n
			}
		}
		if mb := parseMemMB(parts[3]); mb > info.MaxRSSMB {
			info.MaxRSSMB = mb
		}
	}
	return info, ok
}

// parseMemMB reads sacct's "123456K", "1.5G", "2048M", "512" (bytes) as MB.
func parseMemMB(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	mult := 1.0 / (1024 * 1024)
	switch s[len(s)-1] {
	case 'K', 'k':
		mult, s = 1.0/1024, s[:len(s)-1]
	case 'M', 'm':
		mult, s = 1, s[:len(s)-1]
	case 'G', 'g':
		mult, s = 1024, s[:len(s)-1]
	case 'T', 't':
		mult, s = 1024*1024, s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v * mult
}

// parseSlurmTime reads "2026-11-26T13:53:09" in the local zone, as SLURM
// prints it; "Unknown", "None" and "N/A" are the zero time.
func parseSlurmTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
	if err != nil {
		return time.Time{}
	}
	return t
}

// parseSlurmDuration reads "[days-]hours:minutes:seconds", "minutes:seconds"
// or "seconds" (sacct's Elapsed, scontrol's RunTime).
func parseSlurmDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	var days int
	if d, rest, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, false
		}
		days, s = n, rest
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, false
	}
	var total float64
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 {
			return 0, false
		}
		total = total*60 + v
	}
	return time.Duration((float64(days)*86400 + total) * float64(time.Second)), true
}

// formatLimit writes d as sbatch's --time, in whole minutes rounded up
// ("days-hours:minutes:seconds"); SLURM counts time limits in minutes.
func formatLimit(d time.Duration) string {
	mins := int((d + time.Minute - 1) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	days, mins := mins/(24*60), mins%(24*60)
	return fmt.Sprintf("%d-%02d:%02d:00", days, mins/60, mins%60)
}

// exitStatus reads "3:0" (exit code 3) or "0:9" (killed by signal 9).
func exitStatus(code string) (exit, signal int) {
	e, s, _ := strings.Cut(code, ":")
	exit, _ = strconv.Atoi(e)
	signal, _ = strconv.Atoi(s)
	return exit, signal
}

// merge fills o's empty fields from n.
func (o *jobInfo) merge(n jobInfo) {
	if n.State != "" {
		o.State = n.State
	}
	if n.Reason != "" {
		o.Reason = n.Reason
	}
	if n.Node != "" {
		o.Node = n.Node
	}
	if n.ExitCode != "" {
		o.ExitCode = n.ExitCode
	}
	if n.GPUType != "" {
		o.GPUType = n.GPUType
	}
	if n.UserID >= 0 {
		o.UserID = n.UserID
	}
	if n.OutPath != "" {
		o.OutPath = n.OutPath
	}
	if !n.Submitted.IsZero() {
		o.Submitted = n.Submitted
	}
	if !n.Started.IsZero() {
		o.Started = n.Started
	}
	if !n.Ended.IsZero() {
		o.Ended = n.Ended
	}
	if n.Elapsed > 0 {
		o.Elapsed = n.Elapsed
	}
	if n.MaxRSSMB > o.MaxRSSMB {
		o.MaxRSSMB = n.MaxRSSMB
	}
}
