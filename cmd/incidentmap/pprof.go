//go:build pprof

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// Profiling builds only (go build -tags pprof): INCIDENTMAP_PPROF=addr
// serves net/http/pprof there, apart from the API, for the benchmark's
// profiles. Release builds have no such listener.
func init() {
	addr := os.Getenv("INCIDENTMAP_PPROF")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof listener", "err", err)
		}
	}()
}
