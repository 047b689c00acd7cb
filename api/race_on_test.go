//go:build race

package api_test

// raceEnabled: the race detector slows the code down several times, so
// load tests that measure time relax their bounds or skip.
const raceEnabled = true
