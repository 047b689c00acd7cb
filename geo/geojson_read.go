package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// GeoJSONIncidentReader reads a GeoJSON FeatureCollection of incidents
// (Point features with the properties of incidentmap's own GeoJSON) one
// feature at a time. Rows are numbered by feature, from 1. A feature
// without external_id but with a numeric id gets "IM<id>", as in a CSV
// export.
type GeoJSONIncidentReader struct {
	dec         *json.Decoder
	n           int
	inFeatures  bool
	sawFeatures bool
}

// NewGeoJSONIncidentReader starts reading a FeatureCollection from r.
func NewGeoJSONIncidentReader(r io.Reader) (*GeoJSONIncidentReader, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("read GeoJSON: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("read GeoJSON: not a JSON object")
	}
	return &GeoJSONIncidentReader{dec: dec}, nil
}

// ExternalIDColumn implements IncidentReader.
func (g *GeoJSONIncidentReader) ExternalIDColumn() string { return "properties.external_id" }

type geojsonFeature struct {
	Type       string                     `json:"type"`
	ID         json.RawMessage            `json:"id"`
	Geometry   json.RawMessage            `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// Next implements IncidentReader.
func (g *GeoJSONIncidentReader) Next() (IncidentRow, error) {
	for {
		if g.inFeatures {
			if !g.dec.More() {
				if _, err := g.dec.Token(); err != nil { // ']'
					return IncidentRow{}, fmt.Errorf("read GeoJSON: %w", err)
				}
				g.inFeatures = false
				continue
			}
			g.n++
			var f geojsonFeature
			if err := g.dec.Decode(&f); err != nil {
				var terr *json.UnmarshalTypeError
				if errors.As(err, &terr) {
					// The value was read whole: report it and go on.
					return IncidentRow{Line: g.n, Errors: []RowError{{Line: g.n, Column: terr.Field, Kind: KindNotFeature,
						Reason: "not a GeoJSON feature: " + terr.Error()}}}, nil
				}
				return IncidentRow{}, fmt.Errorf("read GeoJSON feature %d: %w", g.n, err)
			}
			return parseGeoJSONFeature(f, g.n), nil
		}
		tok, err := g.dec.Token()
		if err != nil {
			return IncidentRow{}, fmt.Errorf("read GeoJSON: %w", err)
		}
		if tok == json.Delim('}') {
			if _, err := g.dec.Token(); !errors.Is(err, io.EOF) {
				return IncidentRow{}, errors.New("read GeoJSON: data after the FeatureCollection")
			}
			if !g.sawFeatures {
				return IncidentRow{}, errors.New(`read GeoJSON: no "features" member`)
			}
			return IncidentRow{}, io.EOF
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			if tok, err := g.dec.Token(); err != nil || tok != json.Delim('[') {
				return IncidentRow{}, errors.New(`read GeoJSON: "features" is not an array`)
			}
			g.inFeatures, g.sawFeatures = true, true
		case "type":
			var t string
			if err := g.dec.Decode(&t); err != nil || t != "FeatureCollection" {
				return IncidentRow{}, errors.New("read GeoJSON: not a FeatureCollection")
			}
		default:
			var skip json.RawMessage
			if err := g.dec.Decode(&skip); err != nil {
				return IncidentRow{}, fmt.Errorf("read GeoJSON: %w", err)
			}
		}
	}
}

// geojsonProperty reads property name of a feature as text, "" when it is
// absent or null. kind is the JSON type it must have: '"' a string, '0' a
// number, 'b' a boolean, '[' an array (kept as JSON), 's' a string or a
// number; another type is a row error on b.
func geojsonProperty(b *rowBuilder, props map[string]json.RawMessage, name string, kind byte) string {
	raw := bytes.TrimSpace(props[name])
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	switch {
	case kind == '"' && raw[0] == '"':
		if json.Unmarshal(raw, &s) != nil {
			b.fail("properties."+name, KindWrongType, "not a string")
		}
		return s
	case kind == '0' && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		return string(raw)
	case kind == 'b' && (string(raw) == "true" || string(raw) == "false"):
		return string(raw)
	case kind == '[' && raw[0] == '[':
		return string(raw)
	case kind == 's' && raw[0] == '"':
		if json.Unmarshal(raw, &s) != nil {
			b.fail("properties."+name, KindWrongType, "not a string")
		}
		return s
	case kind == 's' && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		return string(raw)
	}
	want := map[byte]string{'"': "a string", '0': "a number", 'b': "true or false", '[': "a list",
		's': "a string or a number"}[kind]
	b.fail("properties."+name, KindWrongType, "want %s", want)
	return ""
}

// parseGeoJSONFeature builds the incident of one feature.
func parseGeoJSONFeature(feat geojsonFeature, line int) IncidentRow {
	b := rowBuilder{line: line}
	if feat.Type != "Feature" {
		b.fail("type", KindNotFeature, `want "Feature", got %s`, quoteShort(feat.Type))
	}
	prop := func(name string, kind byte) string { return geojsonProperty(&b, feat.Properties, name, kind) }
	f := incidentFields{
		externalID: prop("external_id", '"'), occurredAt: prop("occurred_at", '"'),
		timePrecision: prop("time_precision", '0'), eventType: prop("event_type", '"'),
		subEventType: prop("sub_event_type", '"'), actor1: prop("actor1", '"'), actor2: prop("actor2", '"'),
		fatalities: prop("fatalities", '0'), title: prop("title", '"'), notes: prop("notes", '"'),
		location: prop("location_name", '"'), admin1: prop("admin1", '"'), admin2: prop("admin2", '"'),
		admin3: prop("admin3", '"'), country: prop("country", '"'), iso: prop("iso", 's'),
		geoPrecision: prop("geo_precision", '0'), sourcesJSON: prop("sources", '['),
		status: prop("status", '"'), demo: prop("demo", 'b'),
	}
	if f.externalID == "" {
		var id json.Number
		if json.Unmarshal(feat.ID, &id) == nil && isASCIIDigits(id.String()) {
			f.externalID = "IM" + id.String()
		}
	}
	var geom struct {
		Type        string        `json:"type"`
		Coordinates []json.Number `json:"coordinates"`
	}
	if err := json.Unmarshal(feat.Geometry, &geom); err != nil || geom.Type != "Point" ||
		len(geom.Coordinates) < 2 || len(geom.Coordinates) > 3 {
		b.fail("geometry", KindBadGeometry, "want a Point with [longitude, latitude]")
	} else {
		f.lon, f.lat = geom.Coordinates[0].String(), geom.Coordinates[1].String()
	}
	inc := b.build(f, geojsonNames)
	inc.SourceDataset = DatasetGeoJSON
	if ds := prop("source_dataset", '"'); ds != "" {
		inc.SourceDataset = ds // an export of imported rows keeps their origin
	}
	inc.SourceFile = prop("source_file", '"')
	if o := prop("original_event_type", '"'); o != "" {
		inc.OriginalEventType = o
		inc.OriginalSubEventType = prop("original_sub_event_type", '"')
	}
	if raw := bytes.TrimSpace(feat.Properties["source_record"]); len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &inc.SourceRecord); err != nil {
			b.fail("properties.source_record", KindWrongType, "want an object of strings")
			inc.SourceRecord = nil
		}
	}
	inc.Claims = readFeatureClaims(&b, feat.Properties["claims"])
	// A bad geometry was reported once; build's own coordinate errors repeat it.
	if len(geom.Coordinates) < 2 {
		b.errs = slices.DeleteFunc(b.errs, func(e RowError) bool {
			return e.Column == "geometry" && strings.HasPrefix(e.Reason, "missing ")
		})
	}
	return IncidentRow{Line: line, Incident: inc, Errors: b.errs}
}
