package postgis

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
)

// TileCellLevels are the grid levels of incident_tile_cells (migrations
// 00019 and 00022; its triggers write the same list, one partition each):
// the world is 2^level cells per side. A cluster tile at zoom z groups by
// the grid of level z+6 and reads the coarsest stored level at least that
// fine, whose cells nest exactly in its own; a zoom with none would scan
// the points.
var TileCellLevels = []int{6, 7, 8, 9, 10, 12, 13}

// tileCellLevel is the level cluster tiles of zoom z read, if any.
func tileCellLevel(z int) (int, bool) {
	for _, l := range TileCellLevels {
		if l >= z+6 {
			return l, true
		}
	}
	return 0, false
}

// tileCellsAnswer reports whether incident_tile_cells can answer q: its
// only filters are datetime, event_type and status (the columns the sums
// are kept by). Everything else is cleared and the rest compared with the
// zero query, so a filter added to geo.IncidentQuery later falls back to
// the point scan instead of being ignored.
func tileCellsAnswer(q geo.IncidentQuery) bool {
	q.Time, q.EventTypes, q.Statuses = nil, nil, nil
	q.Sort, q.Limit, q.LimitClamped, q.Properties, q.Cursor = geo.SortKey{}, 0, false, nil, nil
	q.Format, q.Derived, q.CRS = "", false, 0
	return reflect.DeepEqual(q, geo.IncidentQuery{})
}

// dayRange is a half-open range of days [from, to), as dates (UTC).
type dayRange struct{ from, to time.Time }

// calendarUnit is a time bucket of incident_tile_cells: its span number
// and the start of the bucket holding a day. Each unit's buckets nest in
// the next one's.
type calendarUnit struct {
	span  int
	floor func(day time.Time) time.Time
	next  func(start time.Time) time.Time
}

// calendarUnits from the finest: day, dekad (days 1-10, 11-20, 21 to the
// end of the month), month, quarter, year, decade (spans of migration
// 00019). Years before 1 AD are outside the stored range.
var calendarUnits = []calendarUnit{
	{1, func(d time.Time) time.Time { return d }, func(s time.Time) time.Time { return s.AddDate(0, 0, 1) }},
	{4, func(d time.Time) time.Time {
		return time.Date(d.Year(), d.Month(), min((d.Day()-1)/10, 2)*10+1, 0, 0, 0, 0, time.UTC)
	}, func(s time.Time) time.Time {
		if s.Day() == 21 {
			return time.Date(s.Year(), s.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		}
		return s.AddDate(0, 0, 10)
	}},
	{2, func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC) },
		func(s time.Time) time.Time { return s.AddDate(0, 1, 0) }},
	{5, func(d time.Time) time.Time { return time.Date(d.Year(), (d.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC) },
		func(s time.Time) time.Time { return s.AddDate(0, 3, 0) }},
	{3, func(d time.Time) time.Time { return time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC) },
		func(s time.Time) time.Time { return s.AddDate(1, 0, 0) }},
	{6, func(d time.Time) time.Time { return time.Date(d.Year()-d.Year()%10, 1, 1, 0, 0, 0, 0, time.UTC) },
		func(s time.Time) time.Time { return s.AddDate(10, 0, 0) }},
}

// ceil is the first bucket start at or after day.
func (u calendarUnit) ceil(day time.Time) time.Time {
	if f := u.floor(day); f.Before(day) {
		return u.next(f)
	}
	return day
}

// tileBucketRange is a range of bucket starts of one calendar unit: the
// buckets cover exactly the days [r.from, r.to).
type tileBucketRange struct {
	unit calendarUnit
	r    dayRange
}

// tileWindow splits a datetime window for incident_tile_cells: the
// instants from its start to the first midnight (points), whole buckets
// from the sums, as few as the calendar units allow (the finest at the
// edges, the coarsest in the middle), and the instants from the last
// midnight to its end (points). Bounds are half-open; empty ranges have
// from = to.
type tileWindow struct {
	head, tail dayRange // instants read from the points
	buckets    []tileBucketRange
}

// The stored occurred_at lies in [tileTimeMin, tileTimeMax) (CHECK of
// migration 00001): open ends of a window stop there.
var (
	tileTimeMin = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	tileTimeMax = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// newTileWindow splits the closed interval w (nil: all time) the way
// addTime bounds it (microseconds, rounded inward).
func newTileWindow(w *geo.TimeInterval) tileWindow {
	s, e := tileTimeMin, tileTimeMax // e exclusive
	if w != nil && w.Start != nil {
		start := w.Start.UTC().Truncate(time.Microsecond)
		if start.Before(*w.Start) {
			start = start.Add(time.Microsecond)
		}
		s = later(s, start)
	}
	if w != nil && w.End != nil {
		e = earlier(e, w.End.UTC().Truncate(time.Microsecond).Add(time.Microsecond))
	}
	var tw tileWindow
	day := calendarUnits[0]
	midnight := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	a, b := midnight(s), midnight(e)
	if a.Before(s) {
		a = day.next(a)
	}
	if !a.Before(b) { // no whole day: all from the points
		tw.head = dayRange{s, later(s, e)}
		return tw
	}
	tw.head, tw.tail = dayRange{s, a}, dayRange{b, e}
	// [a, b) is whole days. Each coarser unit takes the middle, leaving
	// the edges to the finer one.
	add := func(u calendarUnit, from, to time.Time) {
		if from.Before(to) {
			tw.buckets = append(tw.buckets, tileBucketRange{u, dayRange{from, to}})
		}
	}
	for i := 1; i < len(calendarUnits); i++ {
		fine, coarse := calendarUnits[i-1], calendarUnits[i]
		ca, cb := coarse.ceil(a), coarse.floor(b)
		if !ca.Before(cb) {
			add(fine, a, b)
			return tw
		}
		add(fine, a, ca)
		add(fine, cb, b)
		a, b = ca, cb
	}
	add(calendarUnits[len(calendarUnits)-1], a, b)
	return tw
}

// spanRange is a range of days read from one stored span.
type spanRange struct {
	span int
	r    dayRange
}

// spanRanges are the window's buckets as level reads them: each from its
// stored span, touching ranges of one span joined (at levels 10-13 a
// dekad's days follow the edge's days), so the statement has one branch
// per range it reads.
func (tw tileWindow) spanRanges(level int) []spanRange {
	var out []spanRange
	for _, b := range tw.buckets {
		out = append(out, spanRange{storedSpan(level, b.unit), b.r})
	}
	slices.SortFunc(out, func(x, y spanRange) int {
		if x.span != y.span {
			return x.span - y.span
		}
		return x.r.from.Compare(y.r.from)
	})
	joined := out[:0]
	for _, r := range out {
		if n := len(joined); n > 0 && joined[n-1].span == r.span && joined[n-1].r.to.Equal(r.r.from) {
			joined[n-1].r.to = r.r.to
			continue
		}
		joined = append(joined, r)
	}
	return joined
}

// tileCellSpans reports whether a level stores span: every level stores
// days, months and years; the coarse levels up to allSpansLevel also
// dekads, quarters and decades.
func tileCellSpans(level, span int) bool {
	return span <= 3 || level <= allSpansLevel
}

// allSpansLevel is the finest level storing every span: 8 since migration
// 00019, 9 since 00024.
const allSpansLevel = 9

// storedSpan is the span a level reads a unit's buckets from: the unit
// itself, or the next finer unit it stores (its buckets nest, so the same
// days are read, in more rows).
func storedSpan(level int, u calendarUnit) int {
	for i := slices.IndexFunc(calendarUnits, func(c calendarUnit) bool { return c.span == u.span }); i > 0; i-- {
		if tileCellSpans(level, calendarUnits[i].span) {
			return calendarUnits[i].span
		}
	}
	return calendarUnits[0].span
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// bucketSQL binds r as a condition on the bucket start t.
func (r dayRange) bucketSQL(w *where) string {
	return fmt.Sprintf("t >= %s::date AND t < %s::date", w.arg(r.from.Format(time.DateOnly)), w.arg(r.to.Format(time.DateOnly)))
}

// instantSQL binds r as a condition on occurred_at.
func (r dayRange) instantSQL(w *where) string {
	return fmt.Sprintf("occurred_at >= %s AND occurred_at < %s", w.arg(r.from), w.arg(r.to))
}

// IncidentTileCellsSQL returns the statement of cluster tile t from the
// stored sums (incident_tile_cells) and its arguments, and false when they
// cannot answer it (zoom without a level, or a filter other than
// datetime, event_type and status, or only event types without columns):
// then IncidentTileSQL's point scan does. The tile is IncidentTileSQL's: the same cells, counts, types and
// fatalities, each cluster at the mean of its incidents' Mercator
// positions (equal up to floating-point rounding). The sums cover the
// window's whole days at every level, even where a day's row holds about
// one incident (levels 10, 12 and 13): rows are small (migration 00020) and,
// unlike the point scan, do not cost more as the table grows (10M: a month
// at a hotspot's z5 tile, 7 ms against 32). The partial first and last day
// come from the points, read from incidents_tile_days_idx (migration
// 00021). Exported for the benchmarks, which compare it with the point
// scan.
func IncidentTileCellsSQL(t geo.Tile, q geo.IncidentQuery) (string, []any, bool, error) {
	level, ok := tileCellLevel(t.Z)
	if !ok || !tileCellsAnswer(q) {
		return "", nil, false, nil
	}
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = geo.DefaultStatuses()
	}
	win := newTileWindow(q.Time)
	w := &where{}
	grid := 1 << (t.Z + 6)                         // cells per world side at this zoom
	shift := level - (t.Z + 6)                     // stored cells per zoom cell: 2^shift per side
	x0, y0 := t.X*clusterGrid-1, t.Y*clusterGrid-1 // the buffer is one cell
	types := q.EventTypes
	if len(types) == 0 {
		types = geo.EventTypes()
	}
	var cols []tileCellColumns
	for _, et := range types {
		if c, ok := tileCellTypeColumns(et); ok {
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 { // only types the table has no columns for
		return "", nil, false, nil
	}
	// Every branch yields, per zoom cell gx, gy, the count of each type
	// asked for and the sums of u, v and fatalities over those types (a
	// tile's centroid and fatalities need no more): narrow rows to add
	// up. Sums are float8: exact for these integers (below 2^53) and much
	// cheaper to add than numeric.
	var sel, present, counts, sums, su, sv, f []string
	// A type a row never held is NULL there (migration 00020): read as 0.
	stored := func(col string) string { return "coalesce(" + col + ", 0)" }
	for _, c := range cols {
		sel = append(sel, stored(c.n)+"::float8 AS "+c.n)
		present, counts = append(present, stored(c.n)), append(counts, c.n)
		su, sv, f = append(su, stored(c.su)), append(sv, stored(c.sv)), append(f, stored(c.f))
		sums = append(sums, fmt.Sprintf("sum(%s) AS %s", c.n, c.n))
	}
	sel = append(sel, strings.Join(su, " + ")+" AS su", strings.Join(sv, " + ")+" AS sv", "("+strings.Join(f, " + ")+")::float8 AS f")
	sums = append(sums, "sum(su) AS su", "sum(sv) AS sv", "sum(f) AS f")
	// One branch per span and range, so that each is one range of an
	// index (an OR of them would make the planner scan the level). Rows
	// none of whose types is present are skipped.
	var branches []string
	if len(win.buckets) > 0 {
		// The level's own partition (migration 00019; level is one of
		// TileCellLevels, not input): naming it spares the planner pruning
		// the partitions once per branch. Its indexes still lead with level.
		common := []string{
			fmt.Sprintf("level = %d", level),
			fmt.Sprintf("cx BETWEEN %s AND %s", w.arg(x0<<shift), w.arg((x0+clusterGrid+2)<<shift-1)),
			fmt.Sprintf("cy BETWEEN %s AND %s", w.arg(y0<<shift), w.arg((y0+clusterGrid+2)<<shift-1)),
			fmt.Sprintf("status = ANY(%s)", w.arg(pq.Array(statuses))),
			strings.Join(present, " + ") + " > 0",
		}
		shiftArg := w.arg(shift)
		for _, b := range win.spanRanges(level) {
			conds := append(slices.Clone(common), fmt.Sprintf("span = %d", b.span), b.r.bucketSQL(w))
			branches = append(branches, fmt.Sprintf(`SELECT cx >> %s::int AS gx, cy >> %s::int AS gy, %s
					FROM incident_tile_cells_%d WHERE %s`, shiftArg, shiftArg, strings.Join(sel, ", "), level, strings.Join(conds, " AND ")))
		}
	}

	// The partial days from the points, under the same filters, their
	// arguments numbered after the sums', each point in its type's columns.
	p := &where{args: w.args}
	p.add("status = ANY(%s)", pq.Array(statuses))
	if len(q.EventTypes) > 0 {
		p.add("event_type = ANY(%s)", pq.Array(q.EventTypes))
	}
	p.conds = append(p.conds, "geom && "+newTileFrame(t).envelopeSQL(p))
	// One range scan per partial day, each answered from
	// incidents_tile_days_idx alone (migration 00021): an OR of the two
	// would be a bitmap scan, which reads the table, one random page per
	// incident (on 10M incidents 4,900 pages, 455 of a world tile's 600
	// ms with a cold cache).
	filters := p.sql()
	head, tail := win.head.instantSQL(p), win.tail.instantSQL(p)
	partialDays := fmt.Sprintf(`SELECT geom, event_type, fatalities FROM incidents %s AND %s
						UNION ALL
						SELECT geom, event_type, fatalities FROM incidents %s AND %s`, filters, head, filters, tail)

	world := float64(int64(1)<<t.Z) * tileExtent
	worldArg, oxArg, oyArg := p.arg(world), p.arg(float64(t.X)*tileExtent), p.arg(float64(t.Y)*tileExtent)
	gridArg := p.arg(grid)
	lo, hi := -tileBuffer, tileExtent+tileBuffer
	var pointCols []string
	for _, c := range cols {
		pointCols = append(pointCols, fmt.Sprintf("(event_type = %s)::int::float8 AS %s", pq.QuoteLiteral(c.eventType), c.n))
	}
	pointCols = append(pointCols, "u AS su", "v AS sv", "fatalities::float8 AS f")
	branches = append(branches, fmt.Sprintf(`SELECT floor(u * %s::int)::int AS gx, floor(v * %s::int)::int AS gy, %s FROM (
						SELECT (ST_X(geom) + 180) / 360 AS u, 0.5 - ln(tan(radians(ST_Y(geom)) / 2 + pi() / 4)) / (2 * pi()) AS v,
						       event_type, fatalities
						FROM (%s) days OFFSET 0) pt`, gridArg, gridArg, strings.Join(pointCols, ", "), partialDays))
	// Added up per zoom cell, then the dominant type and the types object
	// from the summed counts (names are constants of the column list).
	dominantSQL, typesSQL := clusterTypesSQL(cols)
	query := fmt.Sprintf(`SELECT ST_AsMVT(c, 'incidents', %d, 'geom') FROM (
		SELECT ST_MakePoint(x, y) AS geom, count, event_type, types, fatalities FROM (
			SELECT round(su / count * %[2]s::float8 - %[3]s::float8) AS x, round(sv / count * %[2]s::float8 - %[4]s::float8) AS y,
			       count::bigint AS count, fatalities::bigint AS fatalities,
			       %[5]s AS event_type, %[12]s AS types
			FROM (
				SELECT *, %[6]s AS count, f AS fatalities FROM (
					SELECT gx, gy, %[7]s FROM (
						%[8]s
					) r GROUP BY gx, gy
				) s
			) s WHERE count > 0
		) k WHERE x BETWEEN %[9]d AND %[10]d AND y BETWEEN %[9]d AND %[10]d
	) c %[11]s`, tileExtent, worldArg, oxArg, oyArg, dominantSQL, strings.Join(counts, " + "), strings.Join(sums, ", "),
		strings.Join(branches, "\n\t\t\t\t\t\tUNION ALL\n\t\t\t\t\t\t"), lo, hi, noParallel, typesSQL)
	return query, p.args, true, nil
}

// clusterTypesSQL returns the expressions of a cluster's dominant event
// type (the most frequent; ties go to the first in alphabetical order, as
// IncidentTileSQL's) and of its types object (the count of each type
// present, keys in alphabetical order), over the summed count columns of
// cols. Plain expressions of the row: a subquery per cluster (unpivoting
// the counts) cost 14 of the 54 ms of a world tile with 2,048 clusters.
func clusterTypesSQL(cols []tileCellColumns) (dominant, types string) {
	cols = slices.Clone(cols)
	slices.SortFunc(cols, func(a, b tileCellColumns) int { return strings.Compare(a.eventType, b.eventType) })
	var names, counts, pairs []string
	for _, c := range cols {
		names = append(names, pq.QuoteLiteral(c.eventType))
		counts = append(counts, c.n)
		pairs = append(pairs, fmt.Sprintf("%s, nullif(%s, 0)::bigint", pq.QuoteLiteral(c.eventType), c.n))
	}
	// array_position finds the first maximum: the alphabetical tie-break.
	dominant = fmt.Sprintf("(ARRAY[%s])[array_position(ARRAY[%s], greatest(%s))]",
		strings.Join(names, ", "), strings.Join(counts, ", "), strings.Join(counts, ", "))
	types = fmt.Sprintf("json_strip_nulls(json_build_object(%s))::text", strings.Join(pairs, ", "))
	return dominant, types
}

// tileCellColumns names the columns of incident_tile_cells that hold one
// event type's sums.
type tileCellColumns struct {
	eventType, n, su, sv, f string
}

// tileCellTypeSuffixes are the column suffixes of each event type in
// incident_tile_cells (migration 00017): the table keeps one set of
// columns per type of geo.EventTypes() (TestIncidentTileCellsColumns).
var tileCellTypeSuffixes = map[string]string{
	"Battles":                    "battles",
	"Explosions/Remote violence": "explosions",
	"Violence against civilians": "civilians",
	"Protests":                   "protests",
	"Riots":                      "riots",
	"Strategic developments":     "strategic",
}

// tileCellTypeColumns returns the columns of event type et, and false for
// a type the table has none for.
func tileCellTypeColumns(et string) (tileCellColumns, bool) {
	s, ok := tileCellTypeSuffixes[et]
	if !ok {
		return tileCellColumns{}, false
	}
	return tileCellColumns{eventType: et, n: "n_" + s, su: "su_" + s, sv: "sv_" + s, f: "f_" + s}, true
}

// TileCellTypeColumns returns, per event type, the names of its count, u-sum, v-sum and fatalities columns in
// incident_tile_cells (for tests and the benchmarks).
func TileCellTypeColumns() map[string][4]string {
	m := map[string][4]string{}
	for et := range tileCellTypeSuffixes {
		c, _ := tileCellTypeColumns(et)
		m[et] = [4]string{c.n, c.su, c.sv, c.f}
	}
	return m
}

// ClusterTileSums rewrites each level's partition of incident_tile_cells
// in the order of its primary key (level, span, day, cell), then updates
// its statistics, calling done after each. After a bulk load of history
// the rows of one span and day lie on as many table pages as there are
// cells: a zoom-3 window's five quarters on 10M incidents read 13,645
// rows from as many pages, and the tile took 74-105 ms cold; clustered,
// every zoom stayed under 75 ms (docs/scaling.md). CLUSTER locks each
// partition for its rewrite (8-50 s per level on 10M), so tiles of that
// level wait meanwhile: run it in a quiet moment.
func (db *DB) ClusterTileSums(ctx context.Context, done func(level int, took time.Duration)) error {
	ctx = withLongStatements(ctx)
	for _, level := range TileCellLevels {
		start := time.Now()
		// The partition's name comes from TileCellLevels, never from input.
		part := pq.QuoteIdentifier(fmt.Sprintf("incident_tile_cells_%d", level))
		pkey := pq.QuoteIdentifier(fmt.Sprintf("incident_tile_cells_%d_pkey", level))
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			for _, stmt := range []string{`SET LOCAL statement_timeout = 0`, `CLUSTER ` + part + ` USING ` + pkey, `ANALYZE ` + part} {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("cluster the tile sums of level %d: %w", level, mapError(err))
		}
		if done != nil {
			done(level, time.Since(start))
		}
	}
	return nil
}
