package main

import (
	"fmt"
	"runtime"
)

// goProcs is the number of OS threads that run Go code at once
// (GOMAXPROCS) for `serve`: procs when set (--go-procs), unchanged when
// the GOMAXPROCS environment variable is set, half the CPUs (at least one)
// when the database is the embedded one, all of them otherwise.
//
// The embedded PostgreSQL runs on the same cores and does most of the work
// of a request (about three quarters of the CPU of an items page). With
// every core the Go scheduler's idle threads spin looking for work between
// the database's packets, taking CPU from PostgreSQL: measured on 2 cores
// (wrk, 16 clients, binaries alternated on the 1M set, 3 rounds), one
// thread cut the server's CPU per request by 11-25% (small bbox 860-955 ->
// 668-710 µs, first page 821-883 -> 605-652, medium bbox 5,320-5,554 ->
// 4,433-5,159, by id 150-158 -> 112-130) and its peak RSS by 15%.
func goProcs(procs int, embedded bool, getenv func(string) string) int {
	switch {
	case procs > 0:
		return procs
	case getenv("GOMAXPROCS") != "" || !embedded:
		return runtime.GOMAXPROCS(0)
	}
	return max(1, runtime.NumCPU()/2)
}

// checkGoProcs refuses a negative --go-procs.
func checkGoProcs(procs int) error {
	if procs < 0 {
		return fmt.Errorf("--go-procs must be 0 (automatic) or more, not %d", procs)
	}
	return nil
}
