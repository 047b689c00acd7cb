package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// placesCollection is the collection whose version marks gazetteer
// changes (places and aliases), for the ETags of searches.
const placesCollection = "places"

// PlaceStore searches the gazetteer.
type PlaceStore interface {
	// SearchPlaces finds up to limit places by name, alternate name or
	// alias, best match first, preferring places near near when given.
	SearchPlaces(ctx context.Context, q string, near *orb.Point, limit int) ([]geo.PlaceMatch, error)
	PlaceLabelStore
}

// placeRoutes registers the gazetteer endpoints.
func (s *Server) placeRoutes(g routeGroup) {
	g.GET("/places", s.searchPlaces)
}

// placePaths documents placeRoutes in the OpenAPI document.
func placePaths() obj {
	return obj{
		"/api/places": obj{"get": operation(
			"Search the gazetteer (GeoNames cities500: places with population ≥ 500, with their alternate names "+
				"in every script, plus aliases such as contested or transliterated names) by name: accent- and "+
				"case-insensitive, Azerbaijani letters matched under their transliterations (ə as e or a, ş as sh, "+
				"x as kh, c as j...), by prefix, and tolerant of typos. Best match first (exact name, prefix, prefix "+
				"of a later word, then similar spelling); equal matches by ln(population + 10), the feature code "+
				"(capitals and administrative seats first), the place's own name before an alternate name, the "+
				"spelling as typed, and with near minus 3·ln(1 + km/5): a place 1 km away beats an equal match "+
				"3,000 km away. Place data: GeoNames (geonames.org), CC BY 4.0.",
			"searchPlaces",
			[]obj{
				param("q", "query", "The name to look for: 1 to 100 characters with a letter or digit.",
					obj{"type": "string", "minLength": 1, "maxLength": geo.PlaceQueryMaxLen}),
				param("near", "query", "lon,lat (WGS 84): prefer places near this point; adds distance_m to the results.", str()),
				param("limit", "query", "Results, 1..50; default 10.",
					obj{"type": "integer", "minimum": 1, "maximum": geo.PlaceSearchMax, "default": geo.PlaceSearchDefault}),
				param("f", "query", "Output format: json (the default).", obj{"type": "string", "enum": []string{"json"}}),
			},
			jsonResponse("A GeoJSON FeatureCollection of places; properties id, name, ascii_name, country_code, "+
				"admin1, feature_code, population, matched (the name or alias that matched), score (1 exact, 0.9 prefix, "+
				"0.8 word prefix, below that spelling similarity) and, with near, distance_m.", mediaGeoJSON),
			"400", "503")},
	}
}

// placeFeature is one search result as a GeoJSON Feature.
type placeFeature struct {
	Type       string          `json:"type"`
	ID         int64           `json:"id"`
	Geometry   placePoint      `json:"geometry"`
	Properties placeProperties `json:"properties"`
}

type placePoint struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

type placeProperties struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	ASCIIName   string   `json:"ascii_name"`
	CountryCode *string  `json:"country_code"`
	Admin1      string   `json:"admin1"`
	FeatureCode string   `json:"feature_code"`
	Population  int64    `json:"population"`
	Matched     string   `json:"matched"`
	Score       float64  `json:"score"`
	DistanceM   *float64 `json:"distance_m,omitempty"`
}

func (s *Server) searchPlaces(c echo.Context) error {
	q, err := geo.ParsePlaceQuery(c.QueryParams())
	if err != nil {
		return err
	}
	if s.deps.Places == nil {
		return &PublicError{Msg: "the gazetteer is not available", Err: geo.ErrUnavailable}
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	if s.deps.Features != nil {
		notModified, err := s.checkETag(ctx, c, placesCollection)
		if err != nil || notModified {
			return err
		}
	}
	matches, err := s.deps.Places.SearchPlaces(ctx, q.Text, q.Near, q.Limit)
	if err != nil {
		return err
	}
	features := make([]placeFeature, len(matches))
	for i, m := range matches {
		f := placeFeature{
			Type:     "Feature",
			ID:       m.ID,
			Geometry: placePoint{Type: "Point", Coordinates: [2]float64{m.Point.Lon(), m.Point.Lat()}},
			Properties: placeProperties{
				ID: m.ID, Name: m.Name, ASCIIName: m.ASCIIName, Admin1: m.Admin1, FeatureCode: m.FeatureCode,
				Population: m.Population, Matched: m.Matched, Score: m.Score,
			},
		}
		if m.CountryCode != "" {
			code := m.CountryCode
			f.Properties.CountryCode = &code
		}
		if m.DistanceM != nil {
			d := float64(int64(*m.DistanceM + 0.5)) // whole metres
			f.Properties.DistanceM = &d
		}
		features[i] = f
	}
	body, err := json.Marshal(map[string]any{
		"type":           "FeatureCollection",
		"features":       features,
		"numberReturned": len(features),
		"timeStamp":      time.Now().UTC().Format(time.RFC3339),
		"links": []link{{Href: baseURL(c) + "/places?" + c.QueryParams().Encode(), Rel: "self",
			Type: mediaGeoJSON, Title: "this search"}},
	})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, mediaGeoJSON, body)
}

// placesCollectionID is the gazetteer served as an OGC collection.
const placesCollectionID = "places"

// PlaceCollectionStore serves the gazetteer as a feature collection.
type PlaceCollectionStore interface {
	PlacesExtent(ctx context.Context) (geo.Extent, error)
	StreamPlaces(ctx context.Context, q geo.LayerQuery, emit func([]byte) error) (geo.FeaturePage, error)
	CountPlaces(ctx context.Context, q geo.LayerQuery, limit int) (n int64, exact bool, err error)
	PlaceFeature(ctx context.Context, id int64) ([]byte, error)
}

const placesDescription = "GeoNames populated places (cities500: population ≥ 500) with their alternate names and aliases; search them at /api/places. Data: GeoNames (geonames.org), CC BY 4.0."
