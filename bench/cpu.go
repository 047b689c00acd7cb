package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPU accounting of a measurement, from /proc: the incidentmap server
// process, its PostgreSQL (the postmaster and every backend, exited ones
// included through the postmaster's children times) and the load
// generator (wrk or pgbench).
type cpuUse struct {
	app, db, client time.Duration
}

// clockTick is the unit of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procTimes reads utime+stime and cutime+cstime of a process, and its
// parent pid.
func procTimes(pid int) (own, children time.Duration, ppid int, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, 0, false
	}
	// The command may hold spaces: fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0, 0, 0, false
	}
	n := func(k int) time.Duration { v, _ := strconv.ParseInt(f[k], 10, 64); return time.Duration(v) * clockTick }
	ppid, _ = strconv.Atoi(f[1])
	// After ')': state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
	return n(11) + n(12), n(13) + n(14), ppid, true
}

// serverCPU returns the CPU time used so far by the server process pid
// and by the PostgreSQL that process dbPid started.
func serverCPU(pid, dbPid int) (app, db time.Duration) {
	app, _, _, _ = procTimes(pid)
	pid = dbPid
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, _, pp, ok := procTimes(p); ok {
			parent[p] = pp
		}
	}
	for p, pp := range parent {
		switch {
		case pp == pid: // the postmaster (and anything else the server runs)
			own, children, _, _ := procTimes(p)
			db += own + children
		case parent[pp] == pid: // backends and auxiliary processes
			own, _, _, _ := procTimes(p)
			db += own
		}
	}
	return app, db
}

// cpuMeter measures the server's CPU over an interval.
type cpuMeter struct {
	pid, dbPid int
	app, db    time.Duration
}

// startCPU meters srv and the PostgreSQL it uses (srv.pg's when it is
// attached to another server's).
func startCPU(srv *server) cpuMeter {
	pid, dbPid := srv.cmd.Process.Pid, srv.pgPid()
	app, db := serverCPU(pid, dbPid)
	return cpuMeter{pid: pid, dbPid: dbPid, app: app, db: db}
}

func (m cpuMeter) stop(client time.Duration) cpuUse {
	app, db := serverCPU(m.pid, m.dbPid)
	return cpuUse{app: app - m.app, db: db - m.db, client: client}
}

// perRequest formats CPU time per request in microseconds.
func perRequest(d time.Duration, n int) string {
	if n == 0 {
		return "–"
	}
	return strconv.FormatInt(d.Microseconds()/int64(n), 10)
}
