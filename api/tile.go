package api

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/incidentmap/incidentmap/geo"
)

// Media types of tiles.
const (
	mediaMVT      = "application/vnd.mapbox-vector-tile"
	mediaTileJSON = "application/json"
)

// webMercatorQuad is the OGC tile matrix set of web maps.
const (
	webMercatorQuad    = "WebMercatorQuad"
	webMercatorQuadURI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
)

// TileStore makes vector tiles.
type TileStore interface {
	IncidentTile(ctx context.Context, t geo.Tile, q geo.IncidentQuery, clusterBelow int) ([]byte, error)
	LayerTile(ctx context.Context, layer geo.Layer, t geo.Tile, q geo.LayerQuery) ([]byte, error)
}

func (s *Server) tileRoutes(g routeGroup) {
	g.GET("/tileMatrixSets", s.tileMatrixSets)
	g.GET("/tileMatrixSets/"+webMercatorQuad, s.tileMatrixSet)
	g.GET("/collections/:collectionId/tiles", s.collectionTilesets)
	g.GET("/collections/:collectionId/tiles/"+webMercatorQuad, s.tileJSON)
	cache := newTileCache(max(s.cfg.TileCacheBytes, 0))
	s.metrics.registry.MustRegister(cache)
	s.tiles = cache
	s.versions.onChange = cache.changed
	g.GET("/collections/:collectionId/tiles/"+webMercatorQuad+"/:z/:y/:x", func(c echo.Context) error { return s.tile(c, cache) })
}

// isTileRequest tells the gzip middleware to leave tiles alone.
func isTileRequest(c echo.Context) bool {
	return strings.HasSuffix(c.Path(), "/"+webMercatorQuad+"/:z/:y/:x")
}

func (s *Server) tileMatrixSets(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	base := baseURL(c)
	return c.JSON(http.StatusOK, map[string]any{"tileMatrixSets": []map[string]any{{
		"id": webMercatorQuad, "title": "Google Maps Compatible for the World", "uri": webMercatorQuadURI,
		"links": []link{{Href: base + "/tileMatrixSets/" + webMercatorQuad, Rel: "self", Type: mediaJSON}},
	}}})
}

// tileMatrixSet describes WebMercatorQuad by reference to the OGC registry
// (its full definition is standard and well known to clients).
func (s *Server) tileMatrixSet(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"id": webMercatorQuad, "uri": webMercatorQuadURI, "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
		"title": "Google Maps Compatible for the World", "orderedAxes": []string{"X", "Y"},
		"links": []link{{Href: webMercatorQuadURI, Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", Title: "definition"}},
	})
}

// tileTemplate is the URL template of a collection's tiles.
func tileTemplate(c echo.Context, id string) string {
	return fmt.Sprintf("%s/collections/%s/tiles/%s/{z}/{y}/{x}", baseURL(c), id, webMercatorQuad)
}

// checkTileCollection answers 404 for collections that do not exist.
func (s *Server) checkTileCollection(ctx context.Context, id string) (geo.Layer, error) {
	if id == incidentsCollection {
		return geo.Layer{ID: id, Title: "Incidents"}, nil
	}
	return s.findLayer(ctx, id)
}

func (s *Server) collectionTilesets(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	id := c.Param("collectionId")
	if _, err := s.checkTileCollection(ctx, id); err != nil {
		return err
	}
	base := baseURL(c) + "/collections/" + id + "/tiles/" + webMercatorQuad
	return c.JSON(http.StatusOK, map[string]any{"tilesets": []map[string]any{{
		"title": id + " as vector tiles", "dataType": "vector", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
		"tileMatrixSetURI": webMercatorQuadURI,
		"links": []link{
			{Href: base, Rel: "self", Type: mediaTileJSON, Title: "TileJSON"},
			{Href: baseURL(c) + "/tileMatrixSets/" + webMercatorQuad, Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", Type: mediaJSON},
			{Href: tileTemplate(c, id), Rel: "item", Type: mediaMVT, Title: "tiles"},
		},
	}}})
}

// tileJSON describes the tiles of a collection as TileJSON 3.0.
func (s *Server) tileJSON(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	id := c.Param("collectionId")
	l, err := s.checkTileCollection(ctx, id)
	if err != nil {
		return err
	}
	fields := map[string]string{"properties": "String: the feature's properties as JSON"}
	if id == incidentsCollection {
		fields = map[string]string{
			"title": "String", "event_type": "String (clusters: the most frequent)", "status": "String",
			"fatalities": "Number (clusters: the sum)", "occurred_at": "String (YYYY-MM-DD)",
			"count": fmt.Sprintf("Number: incidents in the cluster (zoom < %d)", s.cfg.ClusterBelowZoom),
		}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"tilejson": "3.0.0", "name": l.Title, "scheme": "xyz", "minzoom": 0, "maxzoom": geo.MaxTileZoom,
		"tiles":         []string{tileTemplate(c, id)},
		"vector_layers": []map[string]any{{"id": id, "fields": fields}},
	})
}

// tile answers one vector tile: 204 when empty, ETag from the collection's
// version so caches never keep a tile past an edit. Rendered tiles are kept
// in cache (see tileCache) under the same inputs as the ETag.
func (s *Server) tile(c echo.Context, cache *tileCache) error {
	// Database work gets the request timeout where it happens: a cached
	// tile needs none (and no timer).
	ctx := c.Request().Context()
	t, err := geo.ParseTile(c.Param("z"), c.Param("y"), c.Param("x"))
	if err != nil {
		return err
	}
	id := c.Param("collectionId")
	store, ok := s.deps.Features.(TileStore)
	if !ok {
		return &PublicError{Msg: "tiles are not available", Err: geo.ErrNotFound}
	}
	var (
		render func(context.Context) ([]byte, error)
		query  []byte    // the parsed query, normalised, for the cache key
		spec   *tileSpec // set when the tile is re-rendered ahead after edits
	)
	if id == incidentsCollection {
		q := defaultIncidentTileQuery
		if c.Request().URL.RawQuery != "" {
			if q, err = geo.ParseIncidentTileQuery(c.QueryParams()); err != nil {
				return err
			}
			if query, err = json.Marshal(q); err != nil {
				return err
			}
		}
		render = func(ctx context.Context) ([]byte, error) {
			return store.IncidentTile(ctx, t, q, s.cfg.ClusterBelowZoom)
		}
		if query == nil && t.Z < s.cfg.ClusterBelowZoom {
			spec = &tileSpec{collection: id, tile: t, render: render}
		}
	} else {
		lctx, cancel := s.requestContext(c)
		l, err := s.findLayer(lctx, id)
		cancel()
		if err != nil {
			return err
		}
		q, err := geo.ParseLayerQuery(c.QueryParams(), l.TimeProperty != "")
		if err != nil {
			return err
		}
		if q.BBox != nil || q.Cursor != nil || c.QueryParam("limit") != "" {
			return geo.Invalidf("bbox", "bbox, limit and cursor are not tile parameters")
		}
		if query, err = json.Marshal(q); err != nil {
			return err
		}
		render = func(ctx context.Context) ([]byte, error) { return store.LayerTile(ctx, l, t, q) }
	}
	version, err := s.collectionVersion(ctx, id)
	if err != nil {
		return err
	}
	key := tileKey(id, version, t, s.cfg.ClusterBelowZoom, query)
	// Cache-Control: no-cache in the request is not obeyed: the cached tile
	// is the tile of the current version, never stale, and browsers send
	// it whenever a page bypasses their own cache (fetch with no-store), as
	// the map does to redraw the tiles a live update touches: many clients
	// at once, whom one render serves.
	e := cache.get(key)
	if e == nil {
		// A 304 needs no tile: answer it before rendering.
		etag := tileETag(key)
		if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
			setTileHeaders(c, etag)
			return c.NoContent(http.StatusNotModified)
		}
		// Not kept under version "0": no edit would change that key.
		if e, err = cache.render(ctx, key, etag, version != "0", s.cfg.RequestTimeout, render, spec); err != nil {
			return err
		}
	}
	setTileHeaders(c, e.etag)
	if etagMatches(c.Request().Header.Get("If-None-Match"), e.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if e.body == nil {
		return c.NoContent(http.StatusNoContent)
	}
	body := e.body
	if strings.Contains(c.Request().Header.Get(echo.HeaderAcceptEncoding), "gzip") {
		if gz := cache.gzipped(e); gz != nil {
			c.Response().Header().Set(echo.HeaderContentEncoding, "gzip")
			body = gz
		}
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, mediaMVT, body)
}

func setTileHeaders(c echo.Context, etag string) {
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=5, must-revalidate")
	h.Add("Vary", echo.HeaderAcceptEncoding) // gzipped or not, by the request
}

// tileFormat names how tiles are made; it is part of their ETags, so a
// server that makes them differently does not confirm a client's copy.
const tileFormat = "mvt2"

// tileKey is what a tile depends on: the collection and its version, the
// tile, the zoom below which incidents are clustered, and the query
// (parsed, so spellings of the same filters share an entry).
func tileKey(collection, version string, t geo.Tile, clusterBelow int, query []byte) string {
	b := make([]byte, 0, 64+len(query))
	b = append(b, tileFormat...)
	b = append(b, 0)
	b = append(b, collection...)
	b = append(b, 0)
	b = append(b, version...)
	for _, n := range []int{t.Z, t.X, t.Y, clusterBelow} {
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, 0)
	b = append(b, query...)
	return string(b)
}

func tileETag(key string) string {
	sum := sha256.Sum256([]byte(key))
	return `W/"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// tilePaths documents the tile routes.
func tilePaths() obj {
	collectionID := param("collectionId", "path", "Collection id.", str())
	tileParams := []obj{collectionID,
		param("z", "path", "Zoom level (tileMatrix), 0..22.", obj{"type": "integer"}),
		param("y", "path", "Row (tileRow), from the top.", obj{"type": "integer"}),
		param("x", "path", "Column (tileCol).", obj{"type": "integer"}),
		param("datetime", "query", "As for items.", str()),
		param("event_type", "query", "Incidents: as for items (and the other incident filters).", str()),
	}
	return obj{
		"/api/tileMatrixSets": obj{"get": operation("Tile matrix sets: WebMercatorQuad.", "getTileMatrixSets", nil, jsonResponse("The list.", mediaJSON), "400")},
		"/api/tileMatrixSets/WebMercatorQuad": obj{"get": operation("WebMercatorQuad, by reference to the OGC registry.", "getTileMatrixSet", nil,
			jsonResponse("The tile matrix set.", mediaJSON), "400")},
		"/api/collections/{collectionId}/tiles": obj{"get": operation("The vector tilesets of a collection.", "getCollectionTilesets",
			[]obj{collectionID}, jsonResponse("Tilesets.", mediaJSON), "404")},
		"/api/collections/{collectionId}/tiles/WebMercatorQuad": obj{"get": operation("TileJSON 3.0 of a collection's vector tiles.", "getTileJSON",
			[]obj{collectionID}, jsonResponse("TileJSON.", mediaTileJSON), "404")},
		"/api/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{y}/{x}": obj{"get": operation(
			"A Mapbox Vector Tile made by PostGIS; incidents below the cluster zoom come as clusters (count, event_type, fatalities). 204 when empty. "+
				"The server keeps rendered tiles per collection version, so they are never stale.",
			"getTile", tileParams, obj{"description": "The tile.", "content": obj{mediaMVT: obj{"schema": obj{"type": "string", "format": "binary"}}}},
			"400", "404", "503")},
	}
}

// defaultIncidentTileQuery is the query of an incidents tile without
// parameters (most tiles), parsed once.
var defaultIncidentTileQuery = func() geo.IncidentQuery {
	q, err := geo.ParseIncidentTileQuery(url.Values{})
	if err != nil {
		panic(err)
	}
	return q
}()

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
