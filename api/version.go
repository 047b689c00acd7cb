package api

import (
	"context"
	"errors"
	"sync"

	"github.com/incidentmap/incidentmap/geo"
)

// versionCache keeps collection versions (for ETags) between requests,
// saving a database round trip per request. It is only used while the
// instance's listener is connected: every version change is announced by
// NOTIFY and drops the entry; losing the listener drops everything.
type versionCache struct {
	mu sync.Mutex
	// off: never cache. Set when collections are read from a replica,
	// where a NOTIFY from the primary can arrive before the change does.
	off     bool
	enabled bool
	// onChange, when set, hears every collection change (the tile cache
	// re-renders popular tiles with it). Called outside the lock.
	onChange func(id string)
	gen      uint64 // bumped by every invalidation
	versions map[string]string
}

// get returns the cached version of id, or fetches it (and caches it when
// the listener is up).
func (v *versionCache) get(ctx context.Context, id string, fetch func(context.Context, string) (string, error)) (string, error) {
	v.mu.Lock()
	ver, ok := v.versions[id]
	gen, enabled := v.gen, v.enabled
	v.mu.Unlock()
	if ok {
		return ver, nil
	}
	ver, err := fetch(ctx, id)
	if err != nil || !enabled {
		return ver, err
	}
	v.mu.Lock()
	// An invalidation while we fetched may be newer than what we read:
	// then keep nothing, the next request fetches again.
	if v.enabled && v.gen == gen {
		v.versions[id] = ver
	}
	v.mu.Unlock()
	return ver, nil
}

// changed drops one collection's version.
func (v *versionCache) changed(id string) {
	v.mu.Lock()
	v.gen++
	delete(v.versions, id)
	onChange := v.onChange
	v.mu.Unlock()
	if onChange != nil {
		onChange(id)
	}
}

// connection enables the cache while the listener is up and empties it on
// every change of state.
func (v *versionCache) connection(up bool) {
	v.mu.Lock()
	v.gen++
	v.enabled = up && !v.off
	v.versions = map[string]string{}
	v.mu.Unlock()
}

// collectionVersion is collection id's version, for ETags and tile cache
// keys: cached while the listener is up, read within the request timeout
// otherwise, "0" for a collection that never changed since it was made.
func (s *Server) collectionVersion(ctx context.Context, id string) (string, error) {
	version, err := s.versions.get(ctx, id, func(ctx context.Context, id string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		return s.deps.Features.CollectionVersion(ctx, id)
	})
	if errors.Is(err, geo.ErrNotFound) {
		return "0", nil
	}
	return version, err
}
