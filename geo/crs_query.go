package geo

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// CRS is a coordinate reference system features can be asked in (OGC API –
// Features Part 2). The store keeps WGS 84 longitude/latitude.
type CRS int

// The supported CRSs.
const (
	CRS84    CRS = iota // WGS 84, longitude then latitude (GeoJSON's, the default)
	EPSG4326            // WGS 84, latitude then longitude (the EPSG axis order)
	EPSG3857            // Web Mercator metres
)

// CRS URIs, as clients name them.
const (
	CRSURI84   = BBoxCRS84
	CRSURI4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
	CRSURI3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
)

// supportedCRS lists the CRS URIs of every collection, the default first.
var supportedCRS = []string{CRSURI84, CRSURI4326, CRSURI3857}

// URI names c.
func (c CRS) URI() string {
	switch c {
	case EPSG4326:
		return CRSURI4326
	case EPSG3857:
		return CRSURI3857
	}
	return CRSURI84
}

// ParseCRS reads the crs or bbox-crs parameter param; empty is CRS84.
func ParseCRS(param, s string) (CRS, error) {
	switch s {
	case "", CRSURI84:
		return CRS84, nil
	case CRSURI4326:
		return EPSG4326, nil
	case CRSURI3857:
		return EPSG3857, nil
	}
	return CRS84, Invalidf(param, "unsupported CRS %s (supported: %s)", quoteShort(s), strings.Join(supportedCRS, ", "))
}

// webMercatorRadius is the sphere of Web Mercator (EPSG:3857), metres.
const webMercatorRadius = 6378137

// bboxToCRS84 rewrites a bbox parameter given in crs as longitude/latitude
// text, for ParseBBox: EPSG:4326 swaps the axes back, EPSG:3857 is
// projected back to degrees (spherical Mercator).
func bboxToCRS84(s string, crs CRS) (string, error) {
	if crs == CRS84 {
		return s, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return "", Invalidf("bbox", "with bbox-crs %s, give 4 numbers", crs.URI())
	}
	v := make([]float64, 4)
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", Invalidf("bbox", "%s is not a number", quoteShort(p))
		}
		v[i] = f
	}
	switch crs {
	case EPSG4326:
		v[0], v[1], v[2], v[3] = v[1], v[0], v[3], v[2]
	case EPSG3857:
		for i := 0; i < 4; i += 2 {
			v[i] = v[i] / webMercatorRadius * 180 / math.Pi
			v[i+1] = (2*math.Atan(math.Exp(v[i+1]/webMercatorRadius)) - math.Pi/2) * 180 / math.Pi
		}
	}
	out := make([]string, 4)
	for i, f := range v {
		out[i] = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strings.Join(out, ","), nil
}

// SupportedCRS returns a copy of supportedCRS (see there).
func SupportedCRS() []string { return slices.Clone(supportedCRS) }
