package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Limits of layer metadata.
const (
	LayerTitleMaxLen       = 200
	LayerDescriptionMaxLen = 5000
)

// reservedLayerIDs are collection ids that are not layers.
var reservedLayerIDs = []string{"incidents", "places"}

// builtInLayerIDs are the collections the project maintains itself: a
// layer import must not replace them (countries and borders are the
// offline basemap, loaded by `incidentmap borders load`).
var builtInLayerIDs = []string{"countries", "borders", "incidents", "places"}

// LayerIDProperty is the property under which an imported feature keeps
// the file's own feature "id" (the stored feature is numbered by position).
const LayerIDProperty = "feature_id"

// LayerOptions say how a layer file is read into WGS 84.
type LayerOptions struct {
	SRID     int  // EPSG code of the file's coordinates (LayerSRID); 0 means WGS 84 lon/lat
	NoRepair bool // refuse invalid polygons instead of repairing them (ST_MakeValid)
	Strict   bool // refuse features without a geometry instead of skipping them
}

// LayerImport is the outcome of a layer import.
type LayerImport struct {
	Layer    Layer
	SRID     int // EPSG code the coordinates were read in
	Repaired int // invalid polygons made valid
	Skipped  int // features without a geometry, left out
}

// CheckLayerID returns a *ValidationError when id names a built-in
// collection that a user import or delete must not touch.
func CheckLayerID(id string) error {
	if slices.Contains(builtInLayerIDs, id) {
		return layerError("id", "%s is a built-in collection and cannot be replaced or deleted by a layer import; choose another name", quoteShort(id))
	}
	return nil
}

// LayerMeta describes a layer being imported.
type LayerMeta struct {
	ID           string
	Title        string
	Description  string
	TimeProperty string // feature property holding a time; "" for none
}

var (
	// layerIDRe and layerTimePropertyRe mirror the CHECK constraints of the
	// layers table.
	layerIDRe           = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	layerTimePropertyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
)

// ParseLayerFile reads a GeoJSON FeatureCollection of at most maxBytes
// bytes. It streams the features array, so only the decoded features are
// held in memory. It checks the structure only (a FeatureCollection of
// Feature objects whose geometries orb can read and whose positions have
// two or more numbers, extra ones such as heights being dropped);
// ValidateLayer checks the content. Properties keep numbers as
// json.Number so large integers survive unchanged. A feature's own "id" is
// kept in Feature.ID but the import numbers features by position. Errors
// are *ValidationError naming "file" or "features[i]..." (0-based).
func ParseLayerFile(r io.Reader, maxBytes int64) (*geojson.FeatureCollection, error) {
	lr := &io.LimitedReader{R: r, N: maxBytes + 1}
	fc, err := parseFeatureCollection(json.NewDecoder(lr))
	if lr.N <= 0 {
		return nil, layerError("file", "larger than %d bytes", maxBytes)
	}
	if err != nil {
		return nil, err
	}
	return fc, nil
}

func layerError(field, format string, args ...any) *ValidationError {
	v := &ValidationError{}
	v.Add(field, format, args...)
	return v
}

// jsonError describes a decoding error of the file in one line.
func jsonError(field string, err error) *ValidationError {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return layerError("file", "unexpected end of file")
	case errors.As(err, &syn):
		return layerError(field, "invalid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	}
	var verr *ValidationError
	if errors.As(err, &verr) {
		return verr
	}
	return layerError(field, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func parseFeatureCollection(dec *json.Decoder) (*geojson.FeatureCollection, error) {
	dec.UseNumber()
	if err := expectDelim(dec, '{', "file", "not a JSON object"); err != nil {
		return nil, err
	}
	fc := &geojson.FeatureCollection{}
	seenFeatures := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError("file", err)
		}
		key, _ := tok.(string)
		switch key {
		case "type":
			var typ any
			if err := dec.Decode(&typ); err != nil {
				return nil, jsonError("file", err)
			}
			if typ != "FeatureCollection" {
				return nil, layerError("type", "must be \"FeatureCollection\", got %s", describeJSON(typ))
			}
			fc.Type = "FeatureCollection"
		case "features":
			if seenFeatures {
				return nil, layerError("features", "given more than once")
			}
			seenFeatures = true
			if err := parseFeatures(dec, fc); err != nil {
				return nil, err
			}
		case "crs":
			// Read by LayerSRID; other foreign members (bbox, name...) are not kept.
			var crs any
			if err := dec.Decode(&crs); err != nil {
				return nil, jsonError("crs", err)
			}
			fc.ExtraMembers = geojson.Properties{"crs": crs}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, jsonError("file", err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, jsonError("file", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, jsonError("file", err)
		}
		return nil, layerError("file", "unexpected data after the FeatureCollection: %v", tok)
	}
	if fc.Type == "" {
		return nil, layerError("type", "missing: a FeatureCollection needs \"type\": \"FeatureCollection\"")
	}
	if !seenFeatures {
		return nil, layerError("features", "missing")
	}
	return fc, nil
}

func expectDelim(dec *json.Decoder, want json.Delim, field, msg string) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(field, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return layerError(field, "%s", msg)
	}
	return nil
}

func parseFeatures(dec *json.Decoder, fc *geojson.FeatureCollection) error {
	if err := expectDelim(dec, '[', "features", "must be an array"); err != nil {
		return err
	}
	fc.Features = []*geojson.Feature{}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonError(fmt.Sprintf("features[%d]", i), err)
		}
		f, err := parseFeature(i, raw)
		if err != nil {
			return err
		}
		fc.Features = append(fc.Features, f)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return jsonError("features", err)
	}
	return nil
}

// parseFeature decodes feature i. Member names are matched exactly, as
// GeoJSON requires (encoding/json's struct decoding would ignore case).
func parseFeature(i int, raw json.RawMessage) (*geojson.Feature, error) {
	field := fmt.Sprintf("features[%d]", i)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, layerError(field, "must be a GeoJSON Feature object")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, jsonError(field, err)
	}
	var typ any
	if err := decodeNumbers(members["type"], &typ); err != nil || typ != "Feature" {
		return nil, layerError(field+".type", "must be \"Feature\", got %s", describeJSON(typ))
	}
	f := &geojson.Feature{Type: "Feature", Properties: geojson.Properties{}}
	if id := members["id"]; id != nil {
		if err := decodeNumbers(id, &f.ID); err != nil {
			return nil, jsonError(field+".id", err)
		}
	}
	if g := members["geometry"]; g != nil && !isJSONNull(g) {
		geom, err := parseGeometry(g)
		if err != nil {
			return nil, layerError(field+".geometry", "%s", err.Error())
		}
		f.Geometry = geom
	}
	if p := members["properties"]; p != nil && !isJSONNull(p) {
		if p[0] != '{' {
			return nil, layerError(field+".properties", "must be a JSON object or null")
		}
		if err := decodeNumbers(p, &f.Properties); err != nil {
			return nil, jsonError(field+".properties", err)
		}
	}
	return f, nil
}

// parseGeometry decodes a GeoJSON geometry with orb, after checking that
// every position holds only numbers and at least two of them (orb would
// read [10] as [10, 0] and null as 0).
func parseGeometry(raw json.RawMessage) (orb.Geometry, error) {
	if raw[0] != '{' {
		return nil, errors.New("must be a GeoJSON geometry object or null")
	}
	var head struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, errors.New("malformed geometry: " + strings.TrimPrefix(err.Error(), "json: "))
	}
	if head.Type == "GeometryCollection" {
		// Kept so that ValidateLayer can say it is not supported.
		return orb.Collection{}, nil
	}
	if _, ok := positionDepth[head.Type]; !ok {
		return nil, fmt.Errorf("unknown geometry type %s", quoteShort(head.Type))
	}
	if head.Coordinates == nil || isJSONNull(head.Coordinates) {
		return nil, fmt.Errorf("%s has no coordinates", head.Type)
	}
	if msg := checkPositions(head.Coordinates, positionDepth[head.Type]); msg != "" {
		return nil, errors.New(msg)
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, fmt.Errorf("malformed %s coordinates: %s", head.Type, strings.TrimPrefix(err.Error(), "json: "))
	}
	if g.Type != head.Type {
		return nil, fmt.Errorf("malformed %s", head.Type)
	}
	return g.Geometry(), nil
}

// positionDepth is the array depth of the positions of each geometry type.
var positionDepth = map[string]int{
	"Point": 1, "MultiPoint": 2, "LineString": 2, "MultiLineString": 3, "Polygon": 3, "MultiPolygon": 4,
}

// checkPositions scans the coordinates (valid JSON) of a geometry whose
// positions lie at array depth posDepth and returns why they are unusable,
// or "": only arrays and numbers may appear, arrays nest exactly posDepth
// deep, and each position holds at least two numbers.
func checkPositions(raw []byte, posDepth int) string {
	depth, numbers := 0, 0
	inNumber := false
	for _, c := range raw {
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			if !inNumber {
				if depth != posDepth {
					return "coordinates are not nested as the geometry type requires"
				}
				numbers++
			}
			inNumber = true
			continue
		}
		inNumber = false
		switch c {
		case '[':
			depth++
			if depth > posDepth {
				return "coordinates are nested deeper than the geometry type allows"
			}
			numbers = 0
		case ']':
			if depth == posDepth && numbers < 2 {
				return fmt.Sprintf("a position has %d number(s), need at least 2 (longitude, latitude)", numbers)
			}
			depth--
		case ',', ' ', '\t', '\n', '\r':
		default:
			return "coordinates must be arrays of numbers"
		}
	}
	if depth != 0 || raw[0] != '[' {
		return "coordinates must be an array"
	}
	return ""
}

func isJSONNull(raw json.RawMessage) bool { return string(raw) == "null" }

// decodeNumbers unmarshals raw keeping numbers as json.Number.
func decodeNumbers(raw json.RawMessage, v any) error {
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// describeJSON names a decoded JSON value for an error message.
func describeJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return quoteShort(v)
	case json.Number:
		return "number " + v.String()
	case float64:
		return "number " + formatQueryFloat(v)
	case bool:
		return fmt.Sprint(v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// ValidateLayer checks a layer before import: its metadata, that there is
// at least one feature with a geometry, and each feature's geometry (a
// supported type, line strings of two or more points, closed rings of four
// or more; with opts.SRID WGS 84, finite lon/lat in range: other CRSs are
// checked after reprojection by the store), properties (no NUL characters,
// which PostgreSQL cannot store, no non-finite numbers, and no
// LayerIDProperty that differs from the feature's id) and time property.
// A feature without a geometry is skipped, or refused with opts.Strict.
// Title must be given (callers default it to the id). It does not check
// topology (self intersections); the store does that. The error is a
// *ValidationError with every metadata error and the first invalid
// feature, as "features[i].geometry" or "features[i].properties..."
// (0-based).
func ValidateLayer(meta LayerMeta, fc *geojson.FeatureCollection, opts LayerOptions) error {
	v := &ValidationError{}
	switch {
	case !layerIDRe.MatchString(meta.ID):
		v.Add("id", "must be 1 to 63 lowercase letters, digits, _ or -, starting with a letter")
	case slices.Contains(reservedLayerIDs, meta.ID):
		v.Add("id", "%s is reserved", quoteShort(meta.ID))
	}
	if msg := checkLayerText(meta.Title, LayerTitleMaxLen, false); msg != "" {
		v.Add("title", "%s", msg)
	}
	if msg := checkLayerText(meta.Description, LayerDescriptionMaxLen, true); msg != "" {
		v.Add("description", "%s", msg)
	}
	if meta.TimeProperty != "" && !layerTimePropertyRe.MatchString(meta.TimeProperty) {
		v.Add("time_property", "must be 1 to 63 letters, digits or _, not starting with a digit")
	}
	if fc == nil || len(fc.Features) == 0 {
		v.Add("features", "the collection has no features")
		return v.Err()
	}
	lonLat := opts.SRID == 0 || opts.SRID == WGS84
	kept := 0
	for i, f := range fc.Features {
		if f != nil && f.Geometry == nil && !opts.Strict {
			continue
		}
		if field, msg := checkLayerFeature(f, meta.TimeProperty, lonLat); msg != "" {
			if f != nil && f.Geometry == nil {
				msg += " (--strict refuses features without one)"
			}
			v.Add(fmt.Sprintf("features[%d]%s", i, field), "%s", msg)
			break
		}
		kept++
	}
	if kept == 0 && len(v.Errors) == 0 {
		v.Add("features", "no feature has a geometry")
	}
	return v.Err()
}

// LayerFeatureProperties returns the properties to store for f: its own
// with the file's feature id added as LayerIDProperty when it has one.
// f's map is not changed.
func LayerFeatureProperties(f *geojson.Feature) geojson.Properties {
	if f.ID == nil {
		return f.Properties
	}
	props := make(geojson.Properties, len(f.Properties)+1)
	for k, v := range f.Properties {
		props[k] = v
	}
	props[LayerIDProperty] = f.ID
	return props
}

// checkLayerText checks a title or description and returns what is wrong.
func checkLayerText(s string, maxLen int, multiline bool) string {
	n := utf8.RuneCountInString(s)
	switch {
	case !multiline && strings.TrimSpace(s) == "":
		return "must not be empty"
	case n > maxLen:
		return fmt.Sprintf("too long: %d characters (max %d)", n, maxLen)
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	}
	for _, r := range s {
		if r == 0 || !multiline && isQueryControl(r) {
			return "control characters not allowed"
		}
	}
	return ""
}

// checkLayerFeature returns the sub-field (".geometry", ...) and message
// of f's first problem, or "" messages when f is valid. lonLat says the
// coordinates are WGS 84, so their range can be checked.
func checkLayerFeature(f *geojson.Feature, timeProperty string, lonLat bool) (field, msg string) {
	if f == nil {
		return "", "null feature"
	}
	if msg := checkGeometryIn(f.Geometry, lonLat); msg != "" {
		return ".geometry", msg
	}
	for k, val := range f.Properties {
		if msg := checkPropertyValue(k, val, 0); msg != "" {
			return ".properties", msg
		}
	}
	if old, ok := f.Properties[LayerIDProperty]; ok && f.ID != nil && !reflect.DeepEqual(old, f.ID) {
		return ".properties." + LayerIDProperty, fmt.Sprintf("is %s but the feature's id %s is kept under this name: rename the property",
			describeJSON(old), describeJSON(f.ID))
	}
	if timeProperty != "" {
		if _, err := LayerFeatureTime(f, timeProperty); err != nil {
			return ".properties." + timeProperty, err.Error()
		}
	}
	return "", ""
}

const maxPropertyDepth = 100

// checkPropertyValue checks one property value for what PostgreSQL's
// jsonb or encoding/json would reject.
func checkPropertyValue(key string, val any, depth int) string {
	if depth > maxPropertyDepth {
		return fmt.Sprintf("property %s is nested too deeply", quoteShort(key))
	}
	if strings.ContainsRune(key, 0) {
		return "a property name contains a NUL character (\\u0000)"
	}
	switch val := val.(type) {
	case string:
		if strings.ContainsRune(val, 0) {
			return fmt.Sprintf("property %s contains a NUL character (\\u0000)", quoteShort(key))
		}
	case float64:
		if math.IsNaN(val) || math.IsInf(val, 0) {
			return fmt.Sprintf("property %s is not a finite number", quoteShort(key))
		}
	case float32:
		if math.IsNaN(float64(val)) || math.IsInf(float64(val), 0) {
			return fmt.Sprintf("property %s is not a finite number", quoteShort(key))
		}
	case map[string]any:
		for k, x := range val {
			if msg := checkPropertyValue(k, x, depth+1); msg != "" {
				return msg
			}
		}
	case []any:
		for _, x := range val {
			if msg := checkPropertyValue(key, x, depth+1); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// LayerFeatureTime reads the time property prop of f: nil when absent or
// null, else the instant of an RFC 3339 date-time, or midnight UTC of a
// date "YYYY-MM-DD". The time is in UTC.
func LayerFeatureTime(f *geojson.Feature, prop string) (*time.Time, error) {
	val, ok := f.Properties[prop]
	if !ok || val == nil {
		return nil, nil
	}
	s, ok := val.(string)
	if !ok {
		return nil, fmt.Errorf("must be an RFC 3339 date-time or a date YYYY-MM-DD, got %s", describeJSON(val))
	}
	bad := fmt.Errorf("must be an RFC 3339 date-time or a date YYYY-MM-DD, got %s", quoteShort(s))
	var (
		t   time.Time
		err error
	)
	switch {
	case queryDateRe.MatchString(s):
		t, err = time.Parse(time.DateOnly, s)
	case queryDateTimeRe.MatchString(s):
		s = strings.NewReplacer("t", "T", "z", "Z").Replace(s)
		t, err = time.Parse(time.RFC3339Nano, s)
		if err == nil && !validNumOffset(s) {
			err = bad
		}
	default:
		return nil, bad
	}
	if err != nil {
		return nil, bad
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return nil, fmt.Errorf("year %d out of range [1, 9999]", t.Year())
	}
	return &t, nil
}

// checkLayerGeometry returns why g cannot be stored in a layer, or "".
// Messages locate the problem within multi-part geometries, 0-based.
func checkLayerGeometry(g orb.Geometry) string { return checkGeometryIn(g, true) }

// checkGeometryIn is checkLayerGeometry; lonLat says whether the
// coordinates are WGS 84 longitudes and latitudes whose range to check.
func checkGeometryIn(g orb.Geometry, lonLat bool) string {
	switch g := g.(type) {
	case nil:
		return "missing: every feature needs a geometry"
	case orb.Point:
		return checkPositionIn(g, lonLat)
	case orb.MultiPoint:
		if len(g) == 0 {
			return "MultiPoint has no points"
		}
		for i, p := range g {
			if msg := checkPositionIn(p, lonLat); msg != "" {
				return msg + at("point", i)
			}
		}
	case orb.LineString:
		return checkLineString(g, lonLat)
	case orb.MultiLineString:
		if len(g) == 0 {
			return "MultiLineString has no line strings"
		}
		for i, ls := range g {
			if msg := checkLineString(ls, lonLat); msg != "" {
				return msg + at("line string", i)
			}
		}
	case orb.Polygon:
		return checkPolygon(g, lonLat)
	case orb.MultiPolygon:
		if len(g) == 0 {
			return "MultiPolygon has no polygons"
		}
		for i, p := range g {
			if msg := checkPolygon(p, lonLat); msg != "" {
				if strings.HasSuffix(msg, ")") { // merge with the ring's location
					return strings.Replace(msg, " (ring ", fmt.Sprintf(" (polygon %d, ring ", i), 1)
				}
				return msg + at("polygon", i)
			}
		}
	case orb.Collection:
		return "GeometryCollection is not supported: split it into features"
	default:
		return fmt.Sprintf("unsupported geometry type %s", g.GeoJSONType())
	}
	return ""
}

// at locates a problem in part i of a geometry.
func at(part string, i int) string { return fmt.Sprintf(" (%s %d)", part, i) }

func checkPosition(p orb.Point) string { return checkPositionIn(p, true) }

// checkPositionIn checks that p is finite and, when lonLat, a longitude
// and latitude in range.
func checkPositionIn(p orb.Point, lonLat bool) string {
	lon, lat := p[0], p[1]
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0) || math.IsNaN(lat) || math.IsInf(lat, 0):
		return "coordinates must be finite numbers"
	case !lonLat:
	case lon < -180 || lon > 180:
		return fmt.Sprintf("longitude %s out of range [-180, 180]", formatQueryFloat(lon))
	case lat < -90 || lat > 90:
		return fmt.Sprintf("latitude %s out of range [-90, 90]", formatQueryFloat(lat))
	}
	return ""
}

func checkLineString(ls orb.LineString, lonLat bool) string {
	if len(ls) < 2 {
		return fmt.Sprintf("line string has %d point(s), need at least 2", len(ls))
	}
	for _, p := range ls {
		if msg := checkPositionIn(p, lonLat); msg != "" {
			return msg
		}
	}
	return ""
}

func checkPolygon(pg orb.Polygon, lonLat bool) string {
	if len(pg) == 0 {
		return "polygon has no rings"
	}
	for i, ring := range pg {
		if len(ring) < 4 {
			return fmt.Sprintf("polygon ring has %d point(s), need at least 4", len(ring)) + at("ring", i)
		}
		for _, p := range ring {
			if msg := checkPositionIn(p, lonLat); msg != "" {
				return msg + at("ring", i)
			}
		}
		if ring[0] != ring[len(ring)-1] {
			return "polygon ring is not closed: its first and last points differ" + at("ring", i)
		}
	}
	return ""
}

// ReservedLayerIDs returns a copy of reservedLayerIDs (see there).
func ReservedLayerIDs() []string { return slices.Clone(reservedLayerIDs) }

// BuiltInLayerIDs returns a copy of builtInLayerIDs (see there).
func BuiltInLayerIDs() []string { return slices.Clone(builtInLayerIDs) }
