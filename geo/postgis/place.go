package postgis

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// placeLoadBatch bounds the rows one statement of LoadPlaces writes, so no
// statement of a 140k-place load runs into the statement timeout.
const placeLoadBatch = 20000

// PlaceLoadResult counts what LoadPlaces did.
type PlaceLoadResult struct {
	Inserted  int64
	Updated   int64
	Unchanged int64
}

// LoadPlaces inserts or updates places by id, in one transaction: all or
// none. Loading the same places again changes nothing (idempotent); places
// missing from the input are kept, with their aliases. An empty ASCIIName
// is derived from Name (unaccented). Each place is checked with
// geo.ValidatePlace first; a bad or repeated one is a *geo.ValidationError
// naming "places[i]..." and nothing is written.
func (db *DB) LoadPlaces(ctx context.Context, places []geo.Place) (PlaceLoadResult, error) {
	var res PlaceLoadResult
	seen := make(map[int64]int, len(places))
	for i, p := range places {
		if err := geo.ValidatePlace(p); err != nil {
			return res, prefixFields(fmt.Sprintf("places[%d].", i), err)
		}
		if j, dup := seen[p.ID]; dup {
			v := &geo.ValidationError{}
			v.Add(fmt.Sprintf("places[%d].id", i), "id %d repeats places[%d]", p.ID, j)
			return res, v
		}
		seen[p.ID] = i
	}
	ctx, tx, err := db.beginBulk(ctx)
	if err != nil {
		return res, fmt.Errorf("load places: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `
		CREATE TEMP TABLE load_places (
			n bigint, id bigint, name text, ascii_name text, alternate_names text[],
			feature_class text, feature_code text,
			country_code text, admin1 text, population bigint, lon float8, lat float8
		) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("load places: %w", mapError(err))
	}
	for start := 0; start < len(places); start += placeLoadBatch {
		end := min(start+placeLoadBatch, len(places))
		if err := copyPlaces(ctx, tx, places[start:end], start); err != nil {
			return res, err
		}
	}
	for start := 0; start < len(places); start += placeLoadBatch {
		var ins, upd int64
		err := tx.QueryRowContext(ctx, `
			WITH up AS (
				INSERT INTO places AS p (id, name, ascii_name, alternate_names, feature_class, feature_code,
				                         country_code, admin1, population, geom)
				SELECT id, name,
				       CASE WHEN ascii_name <> '' THEN ascii_name ELSE translate(unaccent(name), 'əƏ', 'eE') END,
				       alternate_names, feature_class, feature_code, NULLIF(country_code, ''), admin1, population,
				       ST_SetSRID(ST_MakePoint(lon, lat), 4326)
				FROM load_places WHERE n >= $1 AND n < $2
				ON CONFLICT (id) DO UPDATE SET
					name = excluded.name, ascii_name = excluded.ascii_name,
					alternate_names = excluded.alternate_names, feature_class = excluded.feature_class,
					feature_code = excluded.feature_code, country_code = excluded.country_code,
					admin1 = excluded.admin1, population = excluded.population, geom = excluded.geom
				WHERE (p.name, p.ascii_name, p.alternate_names, p.feature_class, p.feature_code,
				       p.country_code, p.admin1, p.population, p.geom)
				      IS DISTINCT FROM
				      (excluded.name, excluded.ascii_name, excluded.alternate_names, excluded.feature_class,
				       excluded.feature_code, excluded.country_code, excluded.admin1, excluded.population, excluded.geom)
				RETURNING xmax = 0 AS inserted)
			SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`,
			start, start+placeLoadBatch).Scan(&ins, &upd)
		if err != nil {
			return res, fmt.Errorf("load places: %w", mapError(err))
		}
		res.Inserted += ins
		res.Updated += upd
	}
	if err := commit(ctx, tx); err != nil {
		return res, fmt.Errorf("load places: commit: %w", mapError(err))
	}
	if res.Inserted+res.Updated > 0 {
		// Fresh statistics for the planner (and the collection's extent).
		if err := db.analyzeBulk(ctx, "places", "place_names"); err != nil {
			return res, fmt.Errorf("load places: %w", err)
		}
	}
	res.Unchanged = int64(len(places)) - res.Inserted - res.Updated
	return res, nil
}

// copyPlaces writes one batch to the load_places temp table; n is the
// position of the batch's first place in the whole input.
func copyPlaces(ctx context.Context, tx *sql.Tx, places []geo.Place, n int) error {
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("load_places",
		"n", "id", "name", "ascii_name", "alternate_names", "feature_class", "feature_code",
		"country_code", "admin1", "population", "lon", "lat"))
	if err != nil {
		return fmt.Errorf("load places: start copy: %w", mapError(err))
	}
	defer stmt.Close()
	for i, p := range places {
		alt := p.AlternateNames
		if alt == nil {
			alt = []string{}
		}
		if _, err := stmt.ExecContext(ctx, n+i, p.ID, p.Name, p.ASCIIName, pq.Array(alt),
			p.FeatureClass, p.FeatureCode, p.CountryCode, p.Admin1, p.Population, p.Point.Lon(), p.Point.Lat()); err != nil {
			return fmt.Errorf("load places: copy: %w", mapError(err))
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("load places: copy: %w", mapError(err))
	}
	return nil
}

// prefixFields puts prefix before the field names of a ValidationError.
func prefixFields(prefix string, err error) error {
	var v *geo.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &geo.ValidationError{}
	for _, e := range v.Errors {
		out.Add(prefix+e.Field, "%s", e.Message)
	}
	return out
}

// PlaceAlias is another name of a place.
type PlaceAlias struct {
	ID      int64
	PlaceID int64
	Alias   string
	Note    string
}

// AddAlias records alias as another name of place placeID, with a note
// saying why. Returns the stored alias; the error wraps geo.ErrNotFound
// when there is no such place and geo.ErrConflict when the place already
// has this alias (compared in normal form: case and accents ignored).
func (db *DB) AddAlias(ctx context.Context, placeID int64, alias, note string) (PlaceAlias, error) {
	alias, note = strings.TrimSpace(alias), strings.TrimSpace(note)
	if err := geo.ValidateAlias(placeID, alias, note); err != nil {
		return PlaceAlias{}, err
	}
	a := PlaceAlias{PlaceID: placeID, Alias: alias, Note: note}
	err := db.db.QueryRowContext(ctx, `
		INSERT INTO place_aliases (place_id, alias, note)
		SELECT id, $2, $3 FROM places WHERE id = $1
		RETURNING id`, placeID, alias, note).Scan(&a.ID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return PlaceAlias{}, fmt.Errorf("add alias: no place %d: %w", placeID, geo.ErrNotFound)
		}
		err = mapError(err)
		if errors.Is(err, geo.ErrConflict) {
			return PlaceAlias{}, fmt.Errorf("add alias: place %d already has the alias %q: %w", placeID, alias, geo.ErrConflict)
		}
		return PlaceAlias{}, fmt.Errorf("add alias: %w", err)
	}
	return a, nil
}

// AddBuiltinAliases records the built-in aliases (geo.BuiltinAliases)
// whose place is in the gazetteer and that it lacks, all or none, and
// returns how many it added. Running it again adds nothing.
func (db *DB) AddBuiltinAliases(ctx context.Context, aliases []geo.BuiltinAlias) (int64, error) {
	ids, names, notes := make([]int64, len(aliases)), make([]string, len(aliases)), make([]string, len(aliases))
	for i, a := range aliases {
		if err := geo.ValidateAlias(a.PlaceID, a.Alias, a.Note); err != nil {
			return 0, prefixFields(fmt.Sprintf("aliases[%d].", i), err)
		}
		ids[i], names[i], notes[i] = a.PlaceID, strings.TrimSpace(a.Alias), strings.TrimSpace(a.Note)
	}
	var n int64
	err := db.db.QueryRowContext(ctx, `
		WITH ins AS (
			INSERT INTO place_aliases (place_id, alias, note)
			SELECT a.id, a.alias, a.note
			FROM unnest($1::bigint[], $2::text[], $3::text[]) a(id, alias, note)
			WHERE EXISTS (SELECT 1 FROM places p WHERE p.id = a.id)
			ON CONFLICT (place_id, im_normalize(alias)) DO NOTHING
			RETURNING 1)
		SELECT count(*) FROM ins`, pq.Array(ids), pq.Array(names), pq.Array(notes)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("add built-in aliases: %w", mapError(err))
	}
	return n, nil
}

// PlaceAliases returns the aliases of place placeID, oldest first.
func (db *DB) PlaceAliases(ctx context.Context, placeID int64) ([]PlaceAlias, error) {
	rows, err := db.db.QueryContext(ctx,
		`SELECT id, place_id, alias, note FROM place_aliases WHERE place_id = $1 ORDER BY id`, placeID)
	if err != nil {
		return nil, fmt.Errorf("place aliases: %w", mapError(err))
	}
	defer rows.Close()
	out := []PlaceAlias{}
	for rows.Next() {
		var a PlaceAlias
		if err := rows.Scan(&a.ID, &a.PlaceID, &a.Alias, &a.Note); err != nil {
			return nil, fmt.Errorf("place aliases: %w", mapError(err))
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("place aliases: %w", mapError(err))
	}
	return out, nil
}

// Place returns place id; the error wraps geo.ErrNotFound when there is none.
func (db *DB) Place(ctx context.Context, id int64) (geo.Place, error) {
	var (
		p        geo.Place
		lon, lat float64
	)
	err := db.db.QueryRowContext(ctx, `
		SELECT id, name, ascii_name, alternate_names, feature_class, feature_code, coalesce(country_code, ''),
		       admin1, population, ST_X(geom), ST_Y(geom)
		FROM places WHERE id = $1`, id).
		Scan(&p.ID, &p.Name, &p.ASCIIName, pq.Array(&p.AlternateNames), &p.FeatureClass, &p.FeatureCode,
			&p.CountryCode, &p.Admin1, &p.Population, &lon, &lat)
	if err != nil {
		return geo.Place{}, fmt.Errorf("place %d: %w", id, mapError(err))
	}
	p.Point = orb.Point{lon, lat}
	return p, nil
}

// Match scores of SearchPlaces. Trigram matches score below
// placeScoreWordPrefix: 0.7 × their similarity.
const (
	placeScoreExact      = 1.0
	placeScorePrefix     = 0.9
	placeScoreWordPrefix = 0.8
	placeScoreFuzzy      = 0.7
	// placeCandidates bounds the candidates each kind of match contributes
	// before ranking (the most populous ones).
	placeCandidates = 300
	// placeNearDegrees is how far around near (in degrees, about 150 km)
	// matching places are looked for whatever their size.
	placeNearDegrees = 1.5
)

// Weights of the rank of equally good matches, in units of ln(population)
// (see SearchPlaces): adding w counts as a place e^w times as big.
const (
	// placeWeightOwnName: the place's own name (or its ASCII form, or a
	// local alias) rather than one of its GeoNames alternate names, which
	// include foreign exonyms: "Goris" is the Armenian town (pop. 20,000)
	// before Georgian Gori (45,000, whose Greek name is Goris). Only as
	// written, not transliterated (im_name_forms): "Lachin" is Laçın in
	// Azerbaijan, whose alternate names have it, before Laçin in Turkey.
	placeWeightOwnName = 2.5
	// placeWeightAsTyped: the name matched as typed, accents and
	// special letters included, when the query has any: "Şuşa" is Şuşa
	// before Susa in Italy.
	placeWeightAsTyped = 3.0
	// placeWeightDistance and placeDistanceStepM: with near, minus
	// 3·ln(1 + d/5 km), i.e. the weight falls with the cube of the distance
	// in 5 km steps. A place 1 km away (−0.55) beats a match of the same
	// quality (score, own or alternate name, spelling) 3,000 km away
	// (−19.2) whatever their sizes and kinds: 18.6 exceeds the largest
	// population term difference, ln((2.2·10^7 + 10) / 10) ≈ 14.6, plus
	// the largest feature code difference, 1.5 − (−2) = 3.5.
	placeWeightDistance = 3.0
	placeDistanceStepM  = 5000.0
)

// SearchPlaces finds up to limit places whose name, ASCII name, alternate
// name or alias matches q, compared in normal form (im_normalize: case,
// accents and punctuation ignored; names in Azerbaijani/Turkish Latin are
// also indexed under their transliterations, im_name_forms). Matches rank
// first by quality — exact name (score 1), prefix (0.9), prefix of a
// later word (0.8), then trigram similarity for typos (0.7 × similarity,
// from 3 characters on, only looked for when no name matches exactly and
// fewer than limit places match better) — and for equal quality by the
// weight
//
//	ln(population + 10) + im_place_weight(feature code)
//	  + 2.5 when the place's own name (or ASCII name or an alias) matched
//	  + 3 when the name matched as typed, accents included (queries with any)
//	  − 3·ln(1 + km/5) with near: the distance from near
//
// (see the placeWeight constants for why). With near, the 50 nearest
// matches within about 150 km are candidates too, however small. Matched
// says which name matched. Invalid input is a *geo.ParamError.
func (db *DB) SearchPlaces(ctx context.Context, q string, near *orb.Point, limit int) ([]geo.PlaceMatch, error) {
	q, err := checkPlaceSearch(q, near, limit)
	if err != nil {
		return nil, err
	}
	// One read-only transaction: the trigram threshold is set for it alone.
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("search places: %w", mapError(err))
	}
	defer tx.Rollback()
	var norm string
	if err := tx.QueryRowContext(ctx, `SELECT im_normalize($1)`, q).Scan(&norm); err != nil {
		return nil, fmt.Errorf("search places: %w", mapError(err))
	}
	if norm == "" {
		return []geo.PlaceMatch{}, nil
	}
	// The patterns are bound, not built in SQL, so that the planner sees
	// constant prefixes and uses the indexes.
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(norm)
	runes := []rune(norm)
	fuzzy := len(runes) >= 3
	head := min(len(runes), 3)
	if fuzzy {
		if _, err := tx.ExecContext(ctx, `SELECT set_config('pg_trgm.similarity_threshold', $1, true)`, trigramThreshold(len(runes))); err != nil {
			return nil, fmt.Errorf("search places: %w", mapError(err))
		}
	}
	var nearLon, nearLat any
	if near != nil {
		nearLon, nearLat = near.Lon(), near.Lat()
	}
	rows, err := tx.QueryContext(ctx, searchPlacesSQL(len(runes)),
		norm, esc+"%", "% "+esc+"%", fuzzy, placeCandidates, nearLon, nearLat, limit, string(runes[:head]), q)
	if err != nil {
		return nil, fmt.Errorf("search places: %w", mapError(err))
	}
	defer rows.Close()
	return scanPlaceMatches(rows)
}

// checkPlaceSearch checks the arguments of SearchPlaces and returns the
// cleaned query text.
func checkPlaceSearch(q string, near *orb.Point, limit int) (string, error) {
	q, err := geo.CheckPlaceSearch(q)
	if err != nil {
		return "", err
	}
	if limit < 1 || limit > geo.PlaceSearchMax {
		return "", geo.Invalidf("limit", "must be from 1 to %d, got %d", geo.PlaceSearchMax, limit)
	}
	if near != nil {
		if _, err := geo.ParseLonLat("near", fmt.Sprintf("%v,%v", near.Lon(), near.Lat())); err != nil {
			return "", err
		}
	}
	return q, nil
}

// trigramThreshold is the similarity threshold for a query of n
// characters: 0.3 up to 4 characters, 0.4 up to 12, then 0.5. A typo costs
// a longer name a smaller share of its trigrams, and a low threshold there
// only adds (costly) candidates sharing a common part: "saint ..." for
// "saint petersburg".
func trigramThreshold(n int) string {
	switch {
	case n > 12:
		return "0.5"
	case n > 4:
		return "0.4"
	}
	return "0.3"
}

// placePrefixCondition matches the names starting with a query of n
// characters: $9 holds its first (up to) three, $2 the LIKE pattern.
// Prefixes of one to three characters match thousands of names: each
// length has an index in population order (migration 00005), which reads
// the most populous first without sorting them all.
func placePrefixCondition(n int) string {
	cond := fmt.Sprintf("left(n.norm, %d) = $9", min(n, 3))
	if n > 3 {
		return cond + " AND n.norm LIKE $2"
	}
	return cond + " AND $2::text <> ''" // $2 unused but typed
}

// searchPlacesSQL is the statement of SearchPlaces for a query of n
// characters. Its parameters: $1 the normalised query, $2 its prefix
// pattern, $3 its word-prefix pattern, $4 whether to match fuzzily, $5 the
// candidates per kind of match, $6 and $7 near (or NULL), $8 the limit, $9
// its first characters, $10 the query as typed.
func searchPlacesSQL(n int) string {
	return fmt.Sprintf(`
		WITH exact AS (
			SELECT n.place_id, n.name, n.kind, n.norm, %[1]v::float8 AS score
			FROM place_names n WHERE n.norm = $1
		), prefix AS (
			SELECT * FROM exact
			UNION ALL
			(SELECT n.place_id, n.name, n.kind, n.norm, %[2]v::float8
			 FROM place_names n WHERE %[5]s AND n.norm <> $1
			 ORDER BY n.population DESC LIMIT $5)
			UNION ALL
			-- With near, the places around it that match, however small:
			-- the most populous matches of a short prefix may all be far.
			-- Place by place, reading each one's few names by its key: the
			-- OFFSET 0 fences keep the planner from scanning every name
			-- with the prefix instead (thousands for two letters).
			(SELECT n.place_id, n.name, n.kind, n.norm,
			        CASE WHEN n.norm = $1 THEN %[1]v WHEN n.norm LIKE $2 THEN %[2]v ELSE %[3]v END::float8
			 FROM (SELECT p.id, p.geom FROM places p
			       WHERE $6::float8 IS NOT NULL
			         AND p.geom && ST_Expand(ST_SetSRID(ST_MakePoint($6, $7), 4326), %[6]v) OFFSET 0) p
			 CROSS JOIN LATERAL (SELECT * FROM place_names n WHERE n.place_id = p.id OFFSET 0) n
			 WHERE n.norm LIKE $2 OR $4 AND n.norm LIKE $3
			 ORDER BY p.geom <-> ST_SetSRID(ST_MakePoint($6, $7), 4326) LIMIT 50)
		-- Each weaker kind of match scores below every stronger one, so it
		-- is only looked for when fewer than limit places matched so far.
		), word AS (
			SELECT * FROM prefix
			UNION ALL
			(SELECT n.place_id, n.name, n.kind, n.norm, %[3]v::float8
			 FROM place_names n
			 WHERE $4 AND (SELECT count(DISTINCT place_id) FROM prefix) < $8 AND n.norm LIKE $3
			 ORDER BY n.population DESC LIMIT $5)
		), cand AS (
			SELECT * FROM word
			UNION ALL
			(SELECT n.place_id, n.name, n.kind, n.norm, %[4]v::float8 * similarity(n.norm, $1)
			 FROM place_names n
			 WHERE $4 AND (SELECT count(DISTINCT place_id) FROM word) < $8
			   AND NOT EXISTS (SELECT 1 FROM exact) AND n.norm %% $1
			 ORDER BY 5 DESC, n.population DESC LIMIT $5)
		), best AS (
			-- Per place its best match: the strongest, then one spelled
			-- as typed, one not transliterated, its own name before an
			-- alias and an alternate, the shortest.
			SELECT DISTINCT ON (place_id) place_id, name, kind, score, norm <> im_normalize(name) AS folded
			FROM cand
			ORDER BY place_id, score DESC, lower(name) = lower($10) DESC, norm <> im_normalize(name),
			         array_position(ARRAY['name', 'ascii', 'alias', 'alternate'], kind), length(name), name
		), ranked AS (
			SELECT p.id, p.name, p.ascii_name, coalesce(p.country_code, '') AS country_code, p.admin1,
			       p.feature_class, p.feature_code,
			       p.population, p.geom, b.name AS matched, round(b.score::numeric, 3)::float8 AS score,
			       -- On the sphere for ranking (within 0.5%% of the spheroid,
			       -- and much cheaper); the results' distance_m is exact.
			       CASE WHEN $6::float8 IS NOT NULL
			            THEN ST_Distance(p.geom::geography, ST_SetSRID(ST_MakePoint($6, $7), 4326)::geography, false)
			       END AS sphere_m,
			       ln(p.population + 10) + im_place_weight(p.feature_code)
			       + CASE WHEN b.kind IN ('name', 'ascii', 'alias') AND NOT b.folded THEN %[7]v ELSE 0 END
			       + CASE WHEN lower(b.name) = lower($10) AND lower($10) <> $1 THEN %[8]v ELSE 0 END AS weight
			FROM best b JOIN places p ON p.id = b.place_id
		)
		SELECT id, name, ascii_name, country_code, admin1, feature_class, feature_code, population,
		       ST_X(geom), ST_Y(geom), matched, score,
		       CASE WHEN $6::float8 IS NOT NULL
		            THEN ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($6, $7), 4326)::geography)
		       END AS distance_m
		FROM ranked
		ORDER BY score DESC,
		         weight - CASE WHEN sphere_m IS NULL THEN 0 ELSE %[9]v * ln(1 + sphere_m / %[10]v) END DESC,
		         id
		LIMIT $8`, placeScoreExact, placeScorePrefix, placeScoreWordPrefix, placeScoreFuzzy, placePrefixCondition(n), placeNearDegrees,
		placeWeightOwnName, placeWeightAsTyped, placeWeightDistance, placeDistanceStepM)
}

// scanPlaceMatches reads the rows of searchPlacesSQL.
func scanPlaceMatches(rows *sql.Rows) ([]geo.PlaceMatch, error) {
	out := []geo.PlaceMatch{}
	for rows.Next() {
		var (
			m        geo.PlaceMatch
			lon, lat float64
			dist     sql.NullFloat64
		)
		if err := rows.Scan(&m.ID, &m.Name, &m.ASCIIName, &m.CountryCode, &m.Admin1, &m.FeatureClass, &m.FeatureCode, &m.Population,
			&lon, &lat, &m.Matched, &m.Score, &dist); err != nil {
			return nil, fmt.Errorf("search places: %w", mapError(err))
		}
		m.Point = orb.Point{lon, lat}
		if dist.Valid {
			d := dist.Float64
			m.DistanceM = &d
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search places: %w", mapError(err))
	}
	return out, nil
}

// PlacesCollection is the id of the gazetteer's OGC collection.
const PlacesCollection = "places"

// placeFeatureSQL builds one place as GeoJSON Feature text.
func placeFeatureSQL(crs geo.CRS) string {
	return `json_build_object('type', 'Feature', 'id', p.id,
	'geometry', ` + geometryJSON("p.geom", crs, 6) + `,
	'properties', json_build_object('name', p.name, 'ascii_name', p.ascii_name,
		'country_code', p.country_code, 'admin1', p.admin1, 'population', p.population,
		'aliases', coalesce((SELECT json_agg(a.alias ORDER BY a.id) FROM place_aliases a WHERE a.place_id = p.id), '[]')))::text`
}

// placeFilter renders the filters of q on places (everything but paging).
func placeFilter(q geo.LayerQuery) (*where, error) {
	if q.Time != nil {
		return nil, geo.Invalidf("datetime", "this collection has no time property")
	}
	w := &where{}
	w.addBBox("p.geom", q.BBox) // points: box overlap is intersection
	return w, nil
}

// PlacesExtent returns an estimate of the gazetteer's extent (from planner
// statistics; nil until they exist). Places have no time.
func (db *DB) PlacesExtent(ctx context.Context) (geo.Extent, error) {
	var (
		ext                    geo.Extent
		minx, miny, maxx, maxy sql.NullFloat64
	)
	err := db.db.QueryRowContext(ctx, `
		SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_EstimatedExtent('public', 'places', 'geom') AS e) est`).Scan(&minx, &miny, &maxx, &maxy)
	if err != nil {
		return ext, mapError(err)
	}
	if minx.Valid {
		ext.BBox = &geo.BBox{MinLon: max(minx.Float64, -180), MinLat: max(miny.Float64, -90),
			MaxLon: min(maxx.Float64, 180), MaxLat: min(maxy.Float64, 90)}
	}
	return ext, nil
}

// StreamPlaces runs q on the gazetteer and calls emit with each place's
// GeoJSON Feature text (properties name, ascii_name, country_code, admin1,
// population, aliases), in id order, as rows arrive. Pages are keyed by
// place id like a layer's (q.Cursor.ID; Back walks backwards); datetime is
// rejected. The bytes passed to emit are only valid during the call.
func (db *DB) StreamPlaces(ctx context.Context, q geo.LayerQuery, emit func([]byte) error) (geo.FeaturePage, error) {
	w, err := placeFilter(q)
	if err != nil {
		return geo.FeaturePage{}, err
	}
	return db.streamByID(ctx, "places p", "p.id", placeFeatureSQL(q.CRS), w, q, emit)
}

// CountPlaces counts the places q matches, up to limit. exact is false
// when there are more than limit.
func (db *DB) CountPlaces(ctx context.Context, q geo.LayerQuery, limit int) (n int64, exact bool, err error) {
	w, err := placeFilter(q)
	if err != nil {
		return 0, false, err
	}
	query := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM places p %s LIMIT %s) matched`, w.sql(), w.arg(limit+1))
	if err := db.db.QueryRowContext(ctx, query, w.args...).Scan(&n); err != nil {
		return 0, false, mapError(err)
	}
	if n > int64(limit) {
		return 0, false, nil
	}
	return n, true, nil
}

// PlaceFeature returns place id as a GeoJSON Feature. The error wraps
// geo.ErrNotFound when there is no such place.
func (db *DB) PlaceFeature(ctx context.Context, id int64) ([]byte, error) {
	var txt []byte
	err := db.db.QueryRowContext(ctx, `SELECT `+placeFeatureSQL(geo.CRS84)+` FROM places p WHERE p.id = $1`, id).Scan(&txt)
	if err != nil {
		return nil, mapError(err)
	}
	return txt, nil
}
