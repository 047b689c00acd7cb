package api

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strconv"

	"github.com/incidentmap/incidentmap/geo"
)

// collection is one OGC API collection as every handler sees it: the
// incidents, the gazetteer or an imported layer. Which one a request names
// is decided once, in findCollection; each handler then asks the
// collection, so a new kind of collection is one new type, not four new
// branches.
type collection interface {
	// doc describes the collection for /collections and /collections/{id}.
	doc(ctx context.Context, base string) (collectionDoc, error)
	// extent is where and when the collection's features are.
	extent(ctx context.Context) (geo.Extent, error)
	// items parses an items query into what the items handler streams.
	items(query url.Values) (itemsRequest, error)
	// feature returns one feature as GeoJSON in crs; ErrNotFound when absent.
	feature(ctx context.Context, id int64, crs geo.CRS) ([]byte, error)
	// tiles parses a tile query into what the tile handler renders.
	tiles(query url.Values, t geo.Tile) (tileRequest, error)
	// tileFields describes the attributes of its tiles, for TileJSON.
	tileFields() map[string]string
	// title names the collection for people.
	title() string
}

// itemsRequest is what the items handler needs, whichever collection.
type itemsRequest struct {
	limit   int
	clamped bool
	format  string
	stream  func(ctx context.Context, emit func([]byte) error) (geo.FeaturePage, error)
	count   func(ctx context.Context) (int64, bool, error)
	// csv writes the same page as CSV; nil when the collection has none.
	csv func(ctx context.Context, w io.Writer) (geo.FeaturePage, error)
	// crs is the CRS of the geometries, for Content-Crs.
	crs geo.CRS
}

// tileRequest is what the tile handler needs, whichever collection.
type tileRequest struct {
	render func(context.Context) ([]byte, error)
	// query is the parsed query, normalised, for the cache key; nil for a
	// tile without parameters.
	query []byte
	// refresh: re-render this tile ahead after edits when it is popular.
	refresh bool
}

// findCollection names the collection id: 404 when there is none.
func (s *Server) findCollection(ctx context.Context, id string) (collection, error) {
	switch id {
	case incidentsCollection:
		return incidentCollection{s}, nil
	case placesCollectionID:
		return placeCollection{s}, nil
	}
	l, err := s.findLayer(ctx, id)
	if err != nil {
		return nil, err
	}
	return layerCollection{s, l}, nil
}

// incidentCollection is the built-in incidents collection.
type incidentCollection struct{ s *Server }

func (ic incidentCollection) title() string { return "Incidents" }

func (ic incidentCollection) extent(ctx context.Context) (geo.Extent, error) {
	return ic.s.deps.Features.IncidentExtent(ctx)
}

func (ic incidentCollection) doc(ctx context.Context, base string) (collectionDoc, error) {
	ext, err := ic.extent(ctx)
	if err != nil {
		return collectionDoc{}, err
	}
	doc := newCollectionDoc(base, incidentsCollection, ic.title(), incidentsDescription, ext, true)
	doc.Links = append(doc.Links, link{Href: base + "/collections/" + incidentsCollection + "/queryables",
		Rel: relQueryables, Type: mediaJSONSchema, Title: "what a filter may name"})
	return doc, nil
}

func (ic incidentCollection) items(query url.Values) (itemsRequest, error) {
	q, err := geo.ParseIncidentQuery(query)
	if err != nil {
		return itemsRequest{}, err
	}
	store := ic.s.deps.Features
	return itemsRequest{
		limit: q.Limit, clamped: q.LimitClamped, format: q.Format, crs: q.CRS,
		stream: func(ctx context.Context, emit func([]byte) error) (geo.FeaturePage, error) {
			return store.StreamIncidents(ctx, q, emit)
		},
		count: func(ctx context.Context) (int64, bool, error) {
			return store.CountIncidents(ctx, q, numberMatchedLimit)
		},
		csv: func(ctx context.Context, w io.Writer) (geo.FeaturePage, error) {
			return store.StreamIncidentCSV(ctx, q, w)
		},
	}, nil
}

func (ic incidentCollection) feature(ctx context.Context, id int64, crs geo.CRS) ([]byte, error) {
	return ic.s.deps.Features.IncidentFeature(ctx, id, crs)
}

func (ic incidentCollection) tiles(query url.Values, t geo.Tile) (tileRequest, error) {
	q := defaultIncidentTileQuery
	var normalised []byte
	if len(query) > 0 {
		var err error
		if q, err = geo.ParseIncidentTileQuery(query); err != nil {
			return tileRequest{}, err
		}
		if normalised, err = json.Marshal(q); err != nil {
			return tileRequest{}, err
		}
	}
	store, clusterBelow := ic.s.deps.Features, ic.s.cfg.ClusterBelowZoom
	return tileRequest{
		render: func(ctx context.Context) ([]byte, error) { return store.IncidentTile(ctx, t, q, clusterBelow) },
		query:  normalised,
		// The unfiltered cluster tiles are what every visitor's world view asks.
		refresh: normalised == nil && t.Z < clusterBelow,
	}, nil
}

func (ic incidentCollection) tileFields() map[string]string {
	return map[string]string{
		"title": "String", "event_type": "String (clusters: the most frequent)", "status": "String",
		"fatalities": "Number (clusters: the sum)", "occurred_at": "String (YYYY-MM-DD)",
		"geo_precision": "Number (not clusters): 1 exact, 2 near a place (2 km), 3 the district (25 km)",
		"count":         "Number: incidents in the cluster (zoom < " + strconv.Itoa(ic.s.cfg.ClusterBelowZoom) + ")",
		"types":         "String (clusters): a JSON object of the incidents per event type",
	}
}

// placeCollection is the gazetteer.
type placeCollection struct{ s *Server }

func (pc placeCollection) title() string { return "Places" }

func (pc placeCollection) extent(ctx context.Context) (geo.Extent, error) {
	return pc.s.deps.Features.PlacesExtent(ctx)
}

func (pc placeCollection) doc(ctx context.Context, base string) (collectionDoc, error) {
	ext, err := pc.extent(ctx)
	if err != nil {
		return collectionDoc{}, err
	}
	return newCollectionDoc(base, placesCollectionID, pc.title(), placesDescription, ext, true), nil
}

func (pc placeCollection) items(query url.Values) (itemsRequest, error) {
	q, err := geo.ParseLayerQuery(query, false)
	if err != nil {
		return itemsRequest{}, err
	}
	store := pc.s.deps.Features
	return itemsRequest{
		limit: q.Limit, clamped: q.LimitClamped, format: q.Format, crs: q.CRS,
		stream: func(ctx context.Context, emit func([]byte) error) (geo.FeaturePage, error) {
			return store.StreamPlaces(ctx, q, emit)
		},
		count: func(ctx context.Context) (int64, bool, error) { return store.CountPlaces(ctx, q, numberMatchedLimit) },
	}, nil
}

func (pc placeCollection) feature(ctx context.Context, id int64, crs geo.CRS) ([]byte, error) {
	f, err := pc.s.deps.Features.PlaceFeature(ctx, id)
	if err != nil {
		return nil, err
	}
	return featureInCRS(f, crs)
}

func (pc placeCollection) tiles(query url.Values, t geo.Tile) (tileRequest, error) {
	for name := range query {
		return tileRequest{}, geo.Invalidf(quoteForMessage(name), "unknown parameter: places tiles take none")
	}
	store := pc.s.deps.Features
	return tileRequest{render: func(ctx context.Context) ([]byte, error) { return store.PlaceTile(ctx, t) }}, nil
}

func (pc placeCollection) tileFields() map[string]string {
	return map[string]string{"name": "String", "population": "Number", "feature_code": "String (GeoNames)",
		"country_code": "String (ISO 3166-1 alpha-2)"}
}

// layerCollection is an imported layer.
type layerCollection struct {
	s     *Server
	layer geo.Layer
}

func (lc layerCollection) title() string { return lc.layer.Title }

func (lc layerCollection) extent(context.Context) (geo.Extent, error) { return lc.layer.Extent, nil }

func (lc layerCollection) doc(_ context.Context, base string) (collectionDoc, error) {
	return layerCollectionDoc(base, lc.layer), nil
}

func (lc layerCollection) items(query url.Values) (itemsRequest, error) {
	q, err := geo.ParseLayerQuery(query, lc.layer.TimeProperty != "")
	if err != nil {
		return itemsRequest{}, err
	}
	store, l := lc.s.deps.Features, lc.layer
	return itemsRequest{
		limit: q.Limit, clamped: q.LimitClamped, format: q.Format, crs: q.CRS,
		stream: func(ctx context.Context, emit func([]byte) error) (geo.FeaturePage, error) {
			return store.StreamLayerFeatures(ctx, l, q, emit)
		},
		count: func(ctx context.Context) (int64, bool, error) {
			return store.CountLayerFeatures(ctx, l, q, numberMatchedLimit)
		},
	}, nil
}

func (lc layerCollection) feature(ctx context.Context, id int64, crs geo.CRS) ([]byte, error) {
	f, err := lc.s.deps.Features.LayerFeature(ctx, lc.layer, id)
	if err != nil {
		return nil, err
	}
	return featureInCRS(f, crs)
}

func (lc layerCollection) tiles(query url.Values, t geo.Tile) (tileRequest, error) {
	q, err := geo.ParseLayerQuery(query, lc.layer.TimeProperty != "")
	if err != nil {
		return tileRequest{}, err
	}
	if q.BBox != nil || q.Cursor != nil || query.Get("limit") != "" {
		return tileRequest{}, geo.Invalidf("bbox", "bbox, limit and cursor are not tile parameters")
	}
	normalised, err := json.Marshal(q)
	if err != nil {
		return tileRequest{}, err
	}
	store, l := lc.s.deps.Features, lc.layer
	return tileRequest{
		render: func(ctx context.Context) ([]byte, error) { return store.LayerTile(ctx, l, t, q) },
		query:  normalised,
	}, nil
}

// tileFields of a layer: each feature's properties are attributes of
// their own (ST_AsMVT expands them, typed); their names vary by feature.
func (lc layerCollection) tileFields() map[string]string { return map[string]string{} }
