package postgis

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/geo"
)

// Collection ids under which countries and borders are served (as layers).
const (
	CountriesLayer = "countries"
	BordersLayer   = "borders"
)

// Maximum vertices of the pieces country_parts and border_parts hold.
const (
	countryPartVertices = 256
	borderPartVertices  = 32
	// densifyDegrees is the longest edge of a piece's geography: a
	// geography edge is a great-circle arc, the source's edge is straight
	// in lon/lat; short edges make the two agree (a long edge along a
	// parallel, such as 49°N, would otherwise bow towards the pole).
	densifyDegrees = 0.1
)

const bordersSource = "Natural Earth 1:10m admin-0 (public domain), via the world-atlas package (ISC)."

// builtInLayerOptions import the countries and borders tables as they
// are: they are valid already (a CHECK), so a repair would be a bug.
func builtInLayerOptions() geo.LayerOptions { return geo.LayerOptions{NoRepair: true, Strict: true} }

// LoadCountries replaces the countries table with countries, in one
// transaction. Geometries PostGIS finds invalid (self-touching rings of the
// quantized source) are repaired with ST_MakeValid's structure method
// (the union of the outer rings less the holes: the "linework" default
// turns self-overlapping rings of 1:10m Russia into holes, dropping a
// band of the Siberian coast, and is 3.5 times slower); each country is then
// cut into small pieces (country_parts) for fast point-in-polygon tests.
// Afterwards the countries are imported as layer "countries", so they are
// served as an OGC collection. Existing incidents keep their derived
// fields until ReEnrich. Each country is checked with geo.ValidateCountry
// first; a bad one is a *geo.ValidationError naming "countries[i]...".
func (db *DB) LoadCountries(ctx context.Context, countries []geo.Country) (int, error) {
	if len(countries) == 0 {
		return 0, geo.Invalidf("countries", "no countries to load")
	}
	for i, c := range countries {
		if err := geo.ValidateCountry(c); err != nil {
			return 0, prefixFields(fmt.Sprintf("countries[%d].", i), err)
		}
	}
	ctx, tx, err := db.beginBulk(ctx)
	if err != nil {
		return 0, fmt.Errorf("load countries: %w", err)
	}
	defer tx.Rollback()
	// Parts first: the cascade would look each country's parts up by a
	// scan (country_id has no index), seconds at 1:10m.
	if _, err := tx.ExecContext(ctx, `DELETE FROM country_parts`); err != nil {
		return 0, fmt.Errorf("load countries: %w", mapError(err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM countries`); err != nil {
		return 0, fmt.Errorf("load countries: %w", mapError(err))
	}
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO countries (id, code, iso_numeric, name, geom)
		VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4,
			ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB(decode($5, 'hex')), 'method=structure'), 3)))`)
	if err != nil {
		return 0, fmt.Errorf("load countries: %w", mapError(err))
	}
	defer stmt.Close()
	for i, c := range countries {
		geom, err := ewkb.MarshalToHex(c.Geometry, 4326)
		if err != nil {
			return 0, fmt.Errorf("load countries: encode %s: %w", c.Name, err)
		}
		if _, err := stmt.ExecContext(ctx, i+1, c.Code, c.Numeric, c.Name, geom); err != nil {
			return 0, fmt.Errorf("load countries: %s: %w", c.Name, mapError(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO country_parts (country_id, code, geom, boundary)
		SELECT c.id, c.code, d.geom, ST_Multi(ST_Boundary(ST_Segmentize(d.geom, $2)))::geography
		FROM countries c
		CROSS JOIN LATERAL ST_Subdivide(c.geom, $1) s(geom)
		CROSS JOIN LATERAL ST_Dump(s.geom) d
		WHERE GeometryType(d.geom) = 'POLYGON'`, countryPartVertices, densifyDegrees); err != nil {
		return 0, fmt.Errorf("load countries: cut into parts: %w", mapError(err))
	}
	if err := commit(ctx, tx); err != nil {
		return 0, fmt.Errorf("load countries: commit: %w", mapError(err))
	}
	fc, err := db.tableFeatures(ctx, `
		SELECT id, ST_AsBinary(geom), json_build_object('code', code, 'iso_numeric', iso_numeric, 'name', name)::text
		FROM countries ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("load countries: %w", err)
	}
	_, err = db.importLayer(ctx, geo.LayerMeta{
		ID:    CountriesLayer,
		Title: "Countries",
		Description: "Admin-0 countries and areas with their ISO 3166-1 alpha-2 code (null for areas without one). " +
			bordersSource,
	}, fc, builtInLayerOptions())
	if err != nil {
		return 0, fmt.Errorf("load countries: import layer: %w", err)
	}
	return len(countries), nil
}

// LoadBorders replaces the borders table with borders (one per pair of
// countries), in one transaction. Each border's lines are merged
// (ST_LineMerge) and cut into short pieces (border_parts) for fast
// nearest-border searches. Afterwards the borders are imported as layer
// "borders". Existing incidents keep their derived fields until ReEnrich.
// Each border is checked with geo.ValidateBorder first; a bad one is a
// *geo.ValidationError naming "borders[i]...".
func (db *DB) LoadBorders(ctx context.Context, borders []geo.Border) (int, error) {
	if len(borders) == 0 {
		return 0, geo.Invalidf("borders", "no borders to load")
	}
	for i, b := range borders {
		if err := geo.ValidateBorder(b); err != nil {
			return 0, prefixFields(fmt.Sprintf("borders[%d].", i), err)
		}
	}
	ctx, tx, err := db.beginBulk(ctx)
	if err != nil {
		return 0, fmt.Errorf("load borders: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM border_parts`); err != nil {
		return 0, fmt.Errorf("load borders: %w", mapError(err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM borders`); err != nil {
		return 0, fmt.Errorf("load borders: %w", mapError(err))
	}
	stmt, err := tx.PrepareContext(ctx, `
		INSERT INTO borders (id, country_a, country_b, name_a, name_b, geom, length_m)
		SELECT $1, NULLIF($2, ''), NULLIF($3, ''), $4, $5, g, ST_Length(g::geography)
		FROM (SELECT ST_Multi(ST_LineMerge(ST_GeomFromEWKB(decode($6, 'hex')))) AS g) m`)
	if err != nil {
		return 0, fmt.Errorf("load borders: %w", mapError(err))
	}
	defer stmt.Close()
	for i, b := range borders {
		geom, err := ewkb.MarshalToHex(b.Geometry, 4326)
		if err != nil {
			return 0, fmt.Errorf("load borders: encode %s–%s: %w", b.NameA, b.NameB, err)
		}
		if _, err := stmt.ExecContext(ctx, i+1, b.CountryA, b.CountryB, b.NameA, b.NameB, geom); err != nil {
			return 0, fmt.Errorf("load borders: %s–%s: %w", b.NameA, b.NameB, mapError(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO border_parts (border_id, geom, geog)
		SELECT b.id, d.geom, ST_Segmentize(d.geom, $2)::geography
		FROM borders b
		CROSS JOIN LATERAL ST_Subdivide(b.geom, $1) s(geom)
		CROSS JOIN LATERAL ST_Dump(s.geom) d
		WHERE GeometryType(d.geom) = 'LINESTRING'`, borderPartVertices, densifyDegrees); err != nil {
		return 0, fmt.Errorf("load borders: cut into parts: %w", mapError(err))
	}
	if err := commit(ctx, tx); err != nil {
		return 0, fmt.Errorf("load borders: commit: %w", mapError(err))
	}
	fc, err := db.tableFeatures(ctx, `
		SELECT id, ST_AsBinary(geom), json_build_object('country_a', country_a, 'country_b', country_b,
			'name_a', name_a, 'name_b', name_b, 'length_km', round((length_m / 1000)::numeric, 1))::text
		FROM borders ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("load borders: %w", err)
	}
	_, err = db.importLayer(ctx, geo.LayerMeta{
		ID:    BordersLayer,
		Title: "Land borders",
		Description: "International land borders, one feature per pair of neighbouring countries (coastlines excluded). " +
			bordersSource,
	}, fc, builtInLayerOptions())
	if err != nil {
		return 0, fmt.Errorf("load borders: import layer: %w", err)
	}
	return len(borders), nil
}

// tableFeatures reads rows of (id, WKB geometry, properties JSON) into a
// FeatureCollection. WKB keeps every coordinate bit for bit, so valid
// geometries stay valid on their way into the layer.
func (db *DB) tableFeatures(ctx context.Context, query string) (*geojson.FeatureCollection, error) {
	rows, err := db.db.QueryContext(ctx, query)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	fc := geojson.NewFeatureCollection()
	for rows.Next() {
		var (
			id    int64
			geom  []byte
			props []byte
		)
		if err := rows.Scan(&id, &geom, &props); err != nil {
			return nil, mapError(err)
		}
		g, err := wkb.Unmarshal(geom)
		if err != nil {
			return nil, fmt.Errorf("decode geometry %d: %w", id, err)
		}
		f := geojson.NewFeature(g)
		f.ID = id
		if err := json.Unmarshal(props, &f.Properties); err != nil {
			return nil, fmt.Errorf("decode properties %d: %w", id, err)
		}
		fc.Append(f)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	return fc, nil
}

// CountryAt returns the alpha-2 code and name of the country containing
// pt, or of the nearest within 10 km — the rule incidents are enriched
// with. The error wraps geo.ErrNotFound when there is none.
func (db *DB) CountryAt(ctx context.Context, pt orb.Point) (code, name string, err error) {
	var c sql.NullString
	err = db.db.QueryRowContext(ctx, `
		WITH pt AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g)
		SELECT c.code, c.name FROM (
			(SELECT cp.country_id, 0 AS d FROM country_parts cp, pt WHERE ST_Intersects(cp.geom, pt.g)
			 ORDER BY cp.code NULLS LAST LIMIT 1)
			UNION ALL
			(SELECT cp.country_id, ST_Distance(cp.boundary, pt.g::geography) FROM country_parts cp, pt
			 WHERE cp.geom && im_search_box(pt.g, 10000) AND ST_DWithin(cp.boundary, pt.g::geography, 10000)
			 ORDER BY 2 LIMIT 1)
		) f JOIN countries c ON c.id = f.country_id
		ORDER BY f.d LIMIT 1`, pt.Lon(), pt.Lat()).Scan(&c, &name)
	if err != nil {
		return "", "", fmt.Errorf("country at %v: %w", pt, mapError(err))
	}
	return c.String, name, nil
}

// BorderDistance returns the distance in metres on the spheroid from pt
// to the nearest land border, and that border's two country codes, by the
// search incident_geography uses (migration 00005). The error wraps
// geo.ErrNotFound when no borders are loaded.
func (db *DB) BorderDistance(ctx context.Context, pt orb.Point) (metres float64, countryA, countryB string, err error) {
	var a, b sql.NullString
	var d sql.NullFloat64
	err = db.db.QueryRowContext(ctx, `
		WITH pt AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS p),
		first AS (
			SELECT ST_Distance(bp.geog, pt.p::geography, false) AS d
			FROM border_parts bp, pt ORDER BY bp.geom <-> pt.p LIMIT 1)
		SELECT ST_Distance(n.geog, pt.p::geography) AS dist, b.country_a, b.country_b
		FROM (
			(SELECT bp.border_id, bp.geog FROM border_parts bp, pt, first
			 WHERE first.d <= 100000 AND bp.geom && im_search_box(pt.p, first.d)
			 ORDER BY ST_Distance(bp.geog, pt.p::geography, false) LIMIT 3)
			UNION ALL
			(SELECT bp.border_id, bp.geog FROM border_parts bp, pt, first
			 WHERE first.d > 100000 ORDER BY bp.geog <-> pt.p::geography LIMIT 3)) n
		JOIN borders b ON b.id = n.border_id, pt
		ORDER BY dist LIMIT 1`, pt.Lon(), pt.Lat()).Scan(&d, &a, &b)
	if err != nil {
		return 0, "", "", fmt.Errorf("border distance at %v: %w", pt, mapError(err))
	}
	if !d.Valid || math.IsNaN(d.Float64) {
		return 0, "", "", fmt.Errorf("border distance at %v: %w", pt, geo.ErrNotFound)
	}
	return d.Float64, a.String, b.String, nil
}
