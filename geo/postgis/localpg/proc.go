package localpg

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pidFile is the postmaster's lock file. Line 1 is its pid, line 8 its
// status ("ready" once it accepts connections, PostgreSQL 10+).
type pidFile struct {
	pid    int
	status string
}

func readPIDFile(dataDir string) (pidFile, bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, false
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return pidFile{}, false
	}
	pf := pidFile{pid: pid}
	if len(lines) >= 8 {
		pf.status = strings.TrimSpace(lines[7])
	}
	return pf, true
}

// liveServer returns the pid of a postmaster still serving dataDir. A
// stale lock file (crash, reused pid) is left for postgres to handle: it
// is only "live" if the process exists and runs in dataDir (the
// postmaster chdirs there) or, when that cannot be read, is named postgres.
func liveServer(dataDir string) (int, bool) {
	pf, ok := readPIDFile(dataDir)
	if !ok || !alive(pf.pid) {
		return 0, false
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(pf.pid) + "/cwd"); err == nil {
		return pf.pid, cwd == dataDir
	}
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pf.pid) + "/comm")
	return pf.pid, err == nil && strings.TrimSpace(string(comm)) == "postgres"
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	_, state, ok := procStat(pid)
	return !ok || state != 'Z'
}

// procStat reads the parent pid and state of pid from /proc/<pid>/stat.
// The command name is in parentheses and may itself contain spaces and
// parentheses, so fields are counted from the last ')'.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	if err != nil {
		return 0, 0, false
	}
	return ppid, fields[0][0], true
}

// descendants lists all processes below root. PostgreSQL backends call
// setsid(), so a process-group signal would miss them; /proc has the tree.
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
