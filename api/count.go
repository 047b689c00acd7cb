package api

import (
	"context"
	"net/url"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"
)

// countCacheEntries bounds the counts kept; past it the cache starts
// afresh (counts are cheap to redo once, and stale ones never served).
const countCacheEntries = 4096

// countCache remembers numberMatched per collection version and filter:
// every page of a listing, and every client opening the same collection,
// asks the same count, which changes only when the collection does. Keys
// hold the collection's version, so a change makes old entries unreachable.
// Concurrent requests for the same count run one query.
type countCache struct {
	flight singleflight.Group

	mu      sync.Mutex
	entries map[string]countResult
}

type countResult struct {
	n     int64
	exact bool
}

// countKey names a count: the collection, its version, and the query's
// filters (parameters that only page, sort or shape the output left out).
func countKey(collection, version string, query url.Values) string {
	filters := url.Values{}
	for k, v := range query {
		switch k {
		case "cursor", "limit", "f", "properties", "sortby", "derived":
		default:
			filters[k] = v
		}
	}
	return strconv.Quote(collection) + " " + strconv.Quote(version) + " " + filters.Encode()
}

// get returns the count under key, running count once when it is not
// known yet.
func (cc *countCache) get(ctx context.Context, key string, count func(context.Context) (int64, bool, error)) (int64, bool, error) {
	cc.mu.Lock()
	r, ok := cc.entries[key]
	cc.mu.Unlock()
	if ok {
		return r.n, r.exact, nil
	}
	v, err, _ := cc.flight.Do(key, func() (any, error) {
		n, exact, err := count(ctx)
		if err != nil {
			return nil, err
		}
		r := countResult{n, exact}
		cc.mu.Lock()
		if cc.entries == nil || len(cc.entries) >= countCacheEntries {
			cc.entries = make(map[string]countResult)
		}
		cc.entries[key] = r
		cc.mu.Unlock()
		return r, nil
	})
	if err != nil {
		return 0, false, err
	}
	r = v.(countResult)
	return r.n, r.exact, nil
}
