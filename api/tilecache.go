package api

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/incidentmap/incidentmap/geo"
)

// Tiles under tileGzipMin bytes are not compressed, nor those that
// compression shrinks by less than a tenth.
const tileGzipMin = 1024

// tileEntryOverhead is what an entry costs beside its bytes (the entry,
// its list element and map slot), for the memory bound.
const tileEntryOverhead = 256

// tileCache keeps rendered tiles within a memory bound, the least recently
// used leaving first. Its keys hold the collection's version (tileKey), so
// an entry is never stale: after an edit requests look for a new key and
// the old entries age out. Concurrent misses of one key render it once
// (single flight).
type tileCache struct {
	max, maxEntry int64

	mu      sync.Mutex
	size    int64
	entries map[string]*list.Element // values *tileEntry
	lru     list.List                // front: most recently used
	flights map[string]*tileFlight

	requests             *prometheus.CounterVec
	hits, misses, shared prometheus.Counter // requests' children
	evictions            prometheus.Counter
	refreshed            prometheus.Counter // tiles re-rendered ahead after edits

	changedIDs map[string]bool // collections changed since refreshTiles last looked
	wake       chan struct{}
	gzips      sync.Pool // *gzip.Writer
}

type tileEntry struct {
	key, etag string
	body      []byte // nil: the tile is empty
	elem      *list.Element
	size      int64     // accounted in the cache while elem is set
	spec      *tileSpec // how to render it again; nil: not re-rendered ahead
	hits      atomic.Int64

	gzOnce sync.Once
	gz     []byte // body gzipped; nil when not worth it
}

type tileFlight struct {
	done  chan struct{}
	entry *tileEntry
	err   error
}

func newTileCache(maxBytes int64) *tileCache {
	c := &tileCache{
		max: maxBytes, maxEntry: maxBytes / 16,
		entries: map[string]*list.Element{}, flights: map[string]*tileFlight{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "incidentmap_tile_cache_requests_total",
			Help: "Tile requests by how the tile cache served them: hit, miss (rendered), shared (waited for another request's render).",
		}, []string{"result"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "incidentmap_tile_cache_evictions_total", Help: "Tiles dropped from the tile cache to stay within its memory bound.",
		}),
		refreshed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "incidentmap_tile_cache_refreshed_total", Help: "Popular tiles rendered ahead of requests after an edit.",
		}),
		wake: make(chan struct{}, 1),
		gzips: sync.Pool{New: func() any {
			w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
			return w
		}},
	}
	c.hits, c.misses = c.requests.WithLabelValues("hit"), c.requests.WithLabelValues("miss")
	c.shared = c.requests.WithLabelValues("shared")
	return c
}

var (
	tileCacheBytesDesc   = prometheus.NewDesc("incidentmap_tile_cache_bytes", "Memory held by the tile cache.", nil, nil)
	tileCacheMaxDesc     = prometheus.NewDesc("incidentmap_tile_cache_max_bytes", "The tile cache's memory bound.", nil, nil)
	tileCacheEntriesDesc = prometheus.NewDesc("incidentmap_tile_cache_entries", "Tiles in the tile cache.", nil, nil)
)

// Describe and Collect make the cache a Prometheus collector.
func (c *tileCache) Describe(ch chan<- *prometheus.Desc) {
	c.requests.Describe(ch)
	c.evictions.Describe(ch)
	c.refreshed.Describe(ch)
	ch <- tileCacheBytesDesc
	ch <- tileCacheMaxDesc
	ch <- tileCacheEntriesDesc
}

func (c *tileCache) Collect(ch chan<- prometheus.Metric) {
	c.requests.Collect(ch)
	c.evictions.Collect(ch)
	c.refreshed.Collect(ch)
	c.mu.Lock()
	size, n := c.size, len(c.entries)
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(tileCacheBytesDesc, prometheus.GaugeValue, float64(size))
	ch <- prometheus.MustNewConstMetric(tileCacheMaxDesc, prometheus.GaugeValue, float64(c.max))
	ch <- prometheus.MustNewConstMetric(tileCacheEntriesDesc, prometheus.GaugeValue, float64(n))
}

// get returns the cached tile of key, or nil.
func (c *tileCache) get(key string) *tileEntry {
	c.mu.Lock()
	el, ok := c.entries[key]
	if ok {
		c.lru.MoveToFront(el)
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	c.hits.Inc()
	e := el.Value.(*tileEntry)
	e.hits.Add(1)
	return e
}

// render makes the tile of key with fn, or joins a render of the same key
// in progress, which later requests then join. Kept, the tile goes into
// the cache.
func (c *tileCache) render(ctx context.Context, key, etag string, keep bool, timeout time.Duration,
	fn func(context.Context) ([]byte, error), spec *tileSpec) (*tileEntry, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok { // rendered since get
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		c.hits.Inc()
		return el.Value.(*tileEntry), nil
	}
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		c.shared.Inc()
		select {
		case <-f.done:
			return f.entry, f.err
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: waiting for a tile: %w", geo.ErrUnavailable, ctx.Err())
			}
			return nil, ctx.Err()
		}
	}
	f := &tileFlight{done: make(chan struct{}), err: errTileRender}
	c.flights[key] = f
	c.mu.Unlock()
	c.misses.Inc()
	defer func() { // also when fn panics: nobody waits for ever
		c.mu.Lock()
		delete(c.flights, key)
		if f.entry != nil && keep {
			c.putLocked(f.entry)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	// The render serves every request that joins it, so it does not end
	// when this request's client goes away; the request timeout bounds it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	body, err := fn(rctx)
	if f.err = err; err == nil {
		f.entry = &tileEntry{key: key, etag: etag, body: body, spec: spec}
	}
	return f.entry, f.err
}

// errTileRender is what requests waiting for a render get when it panicked.
var errTileRender = errors.New("tile render failed")

// putLocked adds e, replacing an entry of the same key, and evicts the
// least recently used entries beyond the memory bound.
func (c *tileCache) putLocked(e *tileEntry) {
	e.size = int64(len(e.key)+len(e.etag)+len(e.body)) + tileEntryOverhead
	if e.size > c.maxEntry {
		return
	}
	if old, ok := c.entries[e.key]; ok {
		c.removeLocked(old)
	}
	e.elem = c.lru.PushFront(e)
	c.entries[e.key] = e.elem
	c.size += e.size
	c.evictLocked()
}

func (c *tileCache) removeLocked(el *list.Element) {
	e := el.Value.(*tileEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.size -= e.size
	e.elem = nil
}

func (c *tileCache) evictLocked() {
	for c.size > c.max {
		c.removeLocked(c.lru.Back())
		c.evictions.Inc()
	}
}

// gzipped returns e's body gzipped, compressing it on first use (once per
// entry, not per request), or nil when that is not worth it.
func (c *tileCache) gzipped(e *tileEntry) []byte {
	e.gzOnce.Do(func() {
		if len(e.body) < tileGzipMin {
			return
		}
		var buf bytes.Buffer
		buf.Grow(len(e.body) / 2)
		w := c.gzips.Get().(*gzip.Writer)
		w.Reset(&buf)
		_, err := w.Write(e.body)
		if err == nil {
			err = w.Close()
		}
		c.gzips.Put(w)
		if err != nil || buf.Len() > len(e.body)*9/10 {
			return
		}
		e.gz = buf.Bytes()
		c.mu.Lock()
		if e.elem != nil { // still cached: its size grew
			e.size += int64(len(e.gz))
			c.size += int64(len(e.gz))
			c.evictLocked()
		}
		c.mu.Unlock()
	})
	return e.gz
}

// Re-rendering ahead. An edit changes the collection's version, and with it
// the key of every tile: the next view of the world would render all its
// low-zoom cluster tiles cold (hundreds of milliseconds each at a million
// incidents). So after a change the cache renders, in the background and
// one at a time, the most requested unfiltered cluster tiles of the
// collection under the new version. Bounded: at most refreshTileCount
// tiles, once per refreshTileEvery per collection, after a short pause
// that lets a burst of edits settle.
const (
	refreshTileCount  = 16
	refreshTileSettle = 500 * time.Millisecond
	refreshTileEvery  = 10 * time.Second
)

// tileSpec is how to render a tile again under a newer version.
type tileSpec struct {
	collection string
	tile       geo.Tile
	render     func(context.Context) ([]byte, error)
}

// changed notes that collection id changed, for refreshTiles.
func (c *tileCache) changed(id string) {
	c.mu.Lock()
	if c.changedIDs == nil {
		c.changedIDs = map[string]bool{}
	}
	c.changedIDs[id] = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// popular returns the specs of the most requested re-renderable tiles of
// collection (over every version in the cache), most requested first.
func (c *tileCache) popular(collection string, n int) []*tileSpec {
	type hot struct {
		spec *tileSpec
		hits int64
	}
	byTile := map[geo.Tile]*hot{}
	c.mu.Lock()
	for _, el := range c.entries {
		e := el.Value.(*tileEntry)
		if e.spec == nil || e.spec.collection != collection {
			continue
		}
		h := byTile[e.spec.tile]
		if h == nil {
			h = &hot{spec: e.spec}
			byTile[e.spec.tile] = h
		}
		h.hits += e.hits.Load() + 1 // rendered once: requested at least once
	}
	c.mu.Unlock()
	list := make([]*hot, 0, len(byTile))
	for _, h := range byTile {
		list = append(list, h)
	}
	slices.SortFunc(list, func(a, b *hot) int { return cmp.Compare(b.hits, a.hits) })
	specs := make([]*tileSpec, 0, min(n, len(list)))
	for _, h := range list[:min(n, len(list))] {
		specs = append(specs, h.spec)
	}
	return specs
}

// refreshTiles re-renders popular tiles after changes until ctx ends.
func (s *Server) refreshTiles(ctx context.Context) {
	cache := s.tiles
	if cache == nil || cache.max == 0 {
		return
	}
	last := map[string]time.Time{} // when each collection was last refreshed
	scheduled := map[string]bool{} // a timer will bring it back
	for {
		select {
		case <-ctx.Done():
			return
		case <-cache.wake:
		}
		select { // let a burst of edits settle
		case <-ctx.Done():
			return
		case <-time.After(refreshTileSettle):
		}
		cache.mu.Lock()
		ids := cache.changedIDs
		cache.changedIDs = nil
		cache.mu.Unlock()
		for id := range ids {
			if wait := refreshTileEvery - time.Since(last[id]); wait > 0 {
				if !scheduled[id] { // too soon: come back for it, once
					scheduled[id] = true
					time.AfterFunc(wait, func() { cache.changed(id) })
				}
				continue
			}
			delete(scheduled, id)
			last[id] = time.Now()
			s.refreshCollectionTiles(ctx, id)
		}
	}
}

// refreshCollectionTiles renders collection id's popular tiles under its
// current version, skipping those already there.
func (s *Server) refreshCollectionTiles(ctx context.Context, id string) {
	specs := s.tiles.popular(id, refreshTileCount)
	if len(specs) == 0 {
		return
	}
	version, err := s.collectionVersion(ctx, id)
	if version == "0" {
		return // never changed: its key would never change either (see tile)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Warn("tile refresh: collection version", "collection", id, "err", err)
		}
		return
	}
	for _, spec := range specs {
		key := tileKey(id, version, spec.tile, s.cfg.ClusterBelowZoom, nil)
		if s.tiles.peek(key) {
			continue
		}
		if _, err := s.tiles.render(ctx, key, tileETag(key), true, s.cfg.RequestTimeout, spec.render, spec); err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("tile refresh", "collection", id, "tile", spec.tile, "err", err)
			}
			return // the database is busy or down: requests will render what they need
		}
		s.tiles.refreshed.Inc()
	}
}

// peek reports whether key is cached, without counting a request.
func (c *tileCache) peek(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[key]
	return ok
}
