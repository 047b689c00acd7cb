package postgis

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/incidentmap/incidentmap/geo"
)

// pageQuery is a keyset-paged feature query. inner selects the feature
// text first, then the columns scanned by position, ordered in the
// direction of travel with LIMIT limit+1; for a backward page the rows are
// put back in display order by reversing them.
type pageQuery struct {
	inner  string
	args   []any
	limit  int
	cursor *geo.Cursor
	// position reads a row's paging position from the scanned key columns
	// (after mark, from what mark kept).
	position func() geo.Cursor
	// mark, when set, keeps the current row's keys cheaply, so that
	// position runs only for a page's first and last rows instead of for
	// every row (parsing a timestamp per row cost 4% of a page's server CPU).
	mark func()
	keys []any // scan destinations after the feature text
	// build, when set, makes each row's emitted text from keys (which
	// are then every column; featurerow.go) instead of the first column.
	build func() []byte
	// on runs the query: a transaction (an export's snapshot), or nil
	// for the pool.
	on querier
}

// stream runs pq and emits features in display order, returning the page.
//
// One row per feature, on purpose: PostgreSQL 15 joining features into
// chunks (string_agg over groups of rows, ordered by row number) cost its
// backend 15-35% more CPU for a 101-feature page (pgbench, 4 clients: 1.8-2.1
// ms per row-per-feature page, 2.2-2.5 ms chunked by 16 or 100), more than
// the server's own per-row work, and the GROUP BY sorts the whole numbered
// page first (10,000 rows: a 20 MB sort on disk, 508 ms instead of 283).
func (db *DB) stream(ctx context.Context, pq pageQuery, emit func([]byte) error) (geo.FeaturePage, error) {
	back := pq.cursor != nil && pq.cursor.Back
	query := pq.inner
	var total int
	first := new(sql.RawBytes)
	dest := append([]any{first}, pq.keys...)
	text := func() []byte { return *first }
	if pq.build != nil {
		dest, text = slices.Clone(pq.keys), pq.build
	}
	if back {
		// Numbered in the inner query's order and read back in reverse: the
		// display order, whatever the inner columns are named.
		query = fmt.Sprintf(`SELECT *, count(*) OVER () FROM (SELECT *, row_number() OVER () AS page_row FROM (%s) page) numbered ORDER BY page_row DESC`, pq.inner)
		var pageRow int64
		dest = append(dest, &pageRow, &total)
	}
	var on querier = db.db
	if pq.on != nil {
		on = pq.on
	}
	rows, err := on.QueryContext(ctx, query, pq.args...)
	if err != nil {
		return geo.FeaturePage{}, mapError(err)
	}
	defer rows.Close()
	page := geo.FeaturePage{HasPrev: pq.cursor != nil && !back, HasNext: back}
	for n := 0; rows.Next(); n++ {
		if err := rows.Scan(dest...); err != nil {
			return page, mapError(err)
		}
		if back && n == 0 && total > pq.limit {
			page.HasPrev = true // the extra row only says an earlier page exists
			continue
		}
		if !back && page.Returned == pq.limit {
			page.HasNext = true
			break
		}
		if pq.mark != nil {
			pq.mark()
			if page.Returned == 0 {
				page.First = pq.position()
			}
		} else {
			pos := pq.position()
			if page.Returned == 0 {
				page.First = pos
			}
			page.Last = pos
		}
		page.Returned++
		if err := emit(text()); err != nil {
			return page, err
		}
	}
	if err := rows.Err(); err != nil {
		return page, mapError(err)
	}
	if pq.mark != nil && page.Returned > 0 {
		page.Last = pq.position()
	}
	return page, nil
}

// streamByID streams one page of features paged by id ascending: from is
// the table (with alias), idCol its id column, feature the feature text
// expression, w the filters.
func (db *DB) streamByID(ctx context.Context, from, idCol, feature string, w *where, q geo.LayerQuery, emit func([]byte) error) (geo.FeaturePage, error) {
	back := q.Cursor != nil && q.Cursor.Back
	op, order := ">", "ASC"
	if back {
		op, order = "<", "DESC"
	}
	if q.Cursor != nil {
		w.add(idCol+" "+op+" %s", q.Cursor.ID)
	}
	limit := w.arg(q.Limit + 1)
	var id int64
	return db.stream(ctx, pageQuery{
		inner: fmt.Sprintf(`SELECT %s AS feature, %s AS id FROM %s %s ORDER BY %s %s LIMIT %s`,
			feature, idCol, from, w.sql(), idCol, order, limit),
		args:     w.args,
		limit:    q.Limit,
		cursor:   q.Cursor,
		keys:     []any{&id},
		position: func() geo.Cursor { return geo.Cursor{ID: id} },
	}, emit)
}
