package geo

import (
	"net/url"
	"strconv"

	"github.com/paulmach/orb"
)

// Limits of a place-label request (GET /api/places/labels).
const (
	PlaceLabelsDefault = 50
	PlaceLabelsMax     = 200
)

// PlaceLabel is a place as the map labels it: the largest places in view
// are named on the offline basemap, sized by population.
type PlaceLabel struct {
	ID          int64
	Name        string
	FeatureCode string // GeoNames feature code: PPLC is a capital
	Population  int64
	Point       orb.Point
}

// PlaceLabelQuery asks for the Limit most populous places in BBox.
type PlaceLabelQuery struct {
	BBox  BBox
	Limit int
}

// ParsePlaceLabelQuery reads bbox (required) and limit (1..PlaceLabelsMax,
// default PlaceLabelsDefault). Errors are *ParamError.
func ParsePlaceLabelQuery(v url.Values) (PlaceLabelQuery, error) {
	q := PlaceLabelQuery{Limit: PlaceLabelsDefault}
	raw := v.Get("bbox")
	if raw == "" {
		return q, Invalidf("bbox", "is required: minLon,minLat,maxLon,maxLat")
	}
	b, err := ParseBBox(raw)
	if err != nil {
		return q, err
	}
	q.BBox = b
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > PlaceLabelsMax {
			return q, Invalidf("limit", "must be a whole number from 1 to %d, got %q", PlaceLabelsMax, s)
		}
		q.Limit = n
	}
	return q, nil
}
