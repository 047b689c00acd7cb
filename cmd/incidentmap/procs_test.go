package main

import (
	"runtime"
	"testing"
)

func TestGoProcs(t *testing.T) {
	current := runtime.GOMAXPROCS(0)
	half := max(1, runtime.NumCPU()/2)
	noEnv := func(string) string { return "" }
	withEnv := func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}
	for _, tc := range []struct {
		name     string
		procs    int
		embedded bool
		getenv   func(string) string
		want     int
	}{
		{"flag wins", 7, true, withEnv, 7},
		{"GOMAXPROCS set: left alone", 0, true, withEnv, current},
		{"external database: every CPU", 0, false, noEnv, current},
		{"embedded database: half the CPUs", 0, true, noEnv, half},
	} {
		if got := goProcs(tc.procs, tc.embedded, tc.getenv); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
	if err := checkGoProcs(-1); err == nil {
		t.Errorf("--go-procs -1: got no error, want one")
	}
	if err := checkGoProcs(0); err != nil {
		t.Errorf("--go-procs 0: got %v, want no error", err)
	}
}
