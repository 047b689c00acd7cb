package postgis

import (
	"encoding/json"
	"fmt"

	"github.com/incidentmap/incidentmap/geo"
)

// encodeSources is the jsonb text of an incident's sources ([] when none).
// The generated column independent_sources is computed from it.
func encodeSources(list []geo.Source) ([]byte, error) {
	if list == nil {
		return []byte("[]"), nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("encode sources: %w", err)
	}
	return b, nil
}

// addMinSources keeps incidents with at least n independent sources
// (index incidents_independent_sources_idx, migration 00013); n <= 0 adds
// nothing.
func (w *where) addMinSources(n int) {
	if n > 0 {
		w.add("independent_sources >= %s", n)
	}
}
