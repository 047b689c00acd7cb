package geo

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/paulmach/orb/geojson"
)

// WGS84 is the EPSG code of WGS 84 longitude/latitude, the only CRS that
// RFC 7946 GeoJSON and the layer store use.
const WGS84 = 4326

var (
	// crsEPSGRe matches the ways files name an EPSG CRS: the GeoJSON 2008
	// URN (urn:ogc:def:crs:EPSG::3857, with or without a version), the
	// OGC http URI and the short form EPSG:3857.
	crsEPSGRe = regexp.MustCompile(`(?i)^(?:urn:ogc:def:crs:epsg:[0-9.]*:|https?://www\.opengis\.net/def/crs/epsg/[0-9.]+/|epsg:{1,2})([0-9]{1,6})$`)
	// crsCRS84Re matches OGC CRS84 (WGS 84 with longitude first).
	crsCRS84Re = regexp.MustCompile(`(?i)^(?:urn:ogc:def:crs:ogc:[0-9.]*:|https?://www\.opengis\.net/def/crs/ogc/[0-9.]+/)crs84$`)
)

// webMercatorAliases are codes that tools wrote for EPSG:3857 before it
// was registered (900913) or under ESRI's numbers.
var webMercatorAliases = map[int]bool{900913: true, 3785: true, 102100: true, 102113: true}

// LayerSRID returns the EPSG code of the coordinates of fc, read from its
// "crs" member as files written before RFC 7946 carry it (GDAL, QGIS):
// {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
// or "EPSG:3857", OGC CRS84 (WGS84), or the 2008 draft's {"type": "EPSG",
// "properties": {"code": 3857}}. Without a crs member the file is WGS 84
// (RFC 7946). EPSG:4326 is read longitude first, as GDAL writes it. A crs
// it cannot read is a *ValidationError naming it; whether PostGIS knows
// the code is the store's check.
func LayerSRID(fc *geojson.FeatureCollection) (int, error) {
	if fc == nil || fc.ExtraMembers == nil {
		return WGS84, nil
	}
	raw, ok := fc.ExtraMembers["crs"]
	if !ok || raw == nil {
		return WGS84, nil
	}
	crs, ok := raw.(map[string]any)
	if !ok {
		return 0, layerError("crs", "must be an object such as {\"type\": \"name\", \"properties\": {\"name\": \"EPSG:3857\"}}, got %s", describeJSON(raw))
	}
	props, _ := crs["properties"].(map[string]any)
	switch typ := crs["type"]; typ {
	case "name":
		name, ok := props["name"].(string)
		if !ok {
			return 0, layerError("crs", "a crs of type \"name\" needs properties.name, got %s", describeJSON(props["name"]))
		}
		return parseCRSName(name)
	case "EPSG":
		code, ok := props["code"].(json.Number)
		if !ok {
			return 0, layerError("crs", "a crs of type \"EPSG\" needs a numeric properties.code, got %s", describeJSON(props["code"]))
		}
		return parseCRSName("EPSG:" + code.String())
	default:
		return 0, layerError("crs", "unsupported crs type %s: give the CRS by name (\"EPSG:3857\") or reproject the file to WGS 84", describeJSON(typ))
	}
}

// parseCRSName reads a CRS name into an EPSG code.
func parseCRSName(name string) (int, error) {
	name = strings.TrimSpace(name)
	if crsCRS84Re.MatchString(name) {
		return WGS84, nil
	}
	m := crsEPSGRe.FindStringSubmatch(name)
	if m == nil {
		return 0, layerError("crs", "unknown coordinate reference system %s: give it as EPSG:code or reproject the file to WGS 84", quoteShort(name))
	}
	code, err := strconv.Atoi(m[1])
	if err != nil || code <= 0 {
		return 0, layerError("crs", "unknown coordinate reference system %s", quoteShort(name))
	}
	if webMercatorAliases[code] {
		return 3857, nil
	}
	return code, nil
}

// CRSName names an EPSG code for messages.
func CRSName(srid int) string { return fmt.Sprintf("EPSG:%d", srid) }
