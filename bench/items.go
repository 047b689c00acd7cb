package main

import (
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// itemsURL is the items request of the map for a bbox.
func itemsURL(srv *server, bbox [4]float64) string {
	return srv.url + "/api/collections/incidents/items?limit=10000&bbox=" + bboxParam(bbox)
}

// itemsSQL is the statement the server runs for the page of itemsURL
// (postgis.IncidentPageSQL), with its arguments written in.
func itemsSQL(bbox [4]float64) (string, error) {
	own, _, err := itemsStatements(url.Values{"bbox": {bboxParam(bbox)}, "limit": {"10000"}}, false)
	return own, err
}

// itemsStatements returns, for an items query, the statement the server
// runs for its first page (postgis.IncidentPageSQL: the columns, from
// which the server writes the features) and the physical limit (postgis.IncidentLimitSQL: same columns and rows,
// ST_AsGeoJSON of the records, no count), arguments written in. cut: the
// page is cut by its limit, so the limit must sort to return the same rows.
func itemsStatements(query url.Values, cut bool) (own, limit string, err error) {
	q, err := geo.ParseIncidentQuery(query)
	if err != nil {
		return "", "", err
	}
	stmt, args, err := postgis.IncidentPageSQL(q)
	if err != nil {
		return "", "", err
	}
	lim, largs, err := postgis.IncidentLimitSQL(q, cut)
	if err != nil {
		return "", "", err
	}
	return inline(stmt, args), inline(lim, largs), nil
}

// itemShape is one request shape of the items suite with its two SQL
// yardsticks.
type itemShape struct {
	name     string
	query    string // what is asked, for the table
	url      string // the HTTP request
	limit    string // the physical limit (pgbench)
	own      string // the server's own statement for the same body (pgbench)
	features int
}

// side is the best of the rounds of one side of a comparison.
type side struct {
	best   measurement
	rounds []float64 // req/s of every round, in order
}

func (s *side) add(m measurement) {
	s.rounds = append(s.rounds, m.reqPerSec)
	if m.reqPerSec > s.best.reqPerSec || len(s.rounds) == 1 {
		s.best = m
	}
}

func (s *side) roundsText() string {
	parts := make([]string, len(s.rounds))
	for i, r := range s.rounds {
		parts[i] = strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strings.Join(parts, "/")
}

// itemShapes builds the six shapes of the items suite round the dataset's
// densest hotspot.
func itemShapes(ds *dataset) ([]itemShape, error) {
	var shapes []itemShape
	base := ds.srv.url + "/api/collections/incidents/items"
	for _, w := range []struct {
		name   string
		target int
	}{{"small bbox", 100}, {"medium bbox", 1000}, {"large bbox", 10000}} {
		bbox, n, err := windowFor(ds.db, ds.center, w.target)
		if err != nil {
			return nil, err
		}
		log.Printf("items %s: bbox %s holds %d incidents", w.name, bboxParam(bbox), n)
		q := url.Values{"bbox": {bboxParam(bbox)}, "limit": {"10000"}}
		own, lim, err := itemsStatements(q, n > 10000)
		if err != nil {
			return nil, err
		}
		shapes = append(shapes, itemShape{name: w.name, query: "bbox=" + bboxParam(bbox) + "&limit=10000",
			url: base + "?" + q.Encode(), own: own, limit: lim, features: min(n, 10000)})
	}
	// A ~1,000-feature window of one year.
	year := [2]time.Time{time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 12, 31, 23, 59, 59, 0, time.UTC)}
	bbox, n, err := windowWithin(ds.db, ds.center, 1000, &year)
	if err != nil {
		return nil, err
	}
	dt := year[0].Format(time.RFC3339) + "/" + year[1].Format(time.RFC3339)
	q := url.Values{"bbox": {bboxParam(bbox)}, "datetime": {dt}, "limit": {"10000"}}
	own, lim, err := itemsStatements(q, false)
	if err != nil {
		return nil, err
	}
	shapes = append(shapes, itemShape{name: "bbox + one year", query: "bbox=" + bboxParam(bbox) + "&datetime=" + dt + "&limit=10000",
		url: base + "?" + q.Encode(), own: own, limit: lim, features: n})
	// One feature by id: a public one in the middle of the table.
	var id int64
	if err := ds.db.QueryRow(`SELECT id FROM incidents WHERE status = 'verified' AND id >= (SELECT (min(id) + max(id)) / 2 FROM incidents) ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		return nil, fmt.Errorf("pick a feature: %w", err)
	}
	ids := strconv.FormatInt(id, 10)
	shapes = append(shapes, itemShape{name: "one feature by id", query: "items/" + ids, url: base + "/" + ids,
		own: inline(postgis.IncidentFeatureSQL(), []any{int(id)}), limit: inline(postgis.IncidentFeatureLimitSQL(), []any{int(id)}), features: 1})
	// The first page of the whole collection, as a client opening the API sees it.
	q = url.Values{"limit": {"100"}}
	if own, lim, err = itemsStatements(q, true); err != nil {
		return nil, err
	}
	shapes = append(shapes, itemShape{name: "first page, no filter", query: "limit=100", url: base + "?limit=100", own: own, limit: lim, features: 100})
	return shapes, nil
}

// itemsSuite compares the GeoJSON items endpoint with the physical limit
// (the simplest statement returning the same body) and with the server's
// own statement, measured interleaved: every round runs the three sides of
// one shape back to back, and the best round of each side counts.
func itemsSuite(cfg config, ds *dataset) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Shapes round the densest hotspot (%.4f, %.4f); every public column of every feature (wide rows).\n\n", ds.center[0], ds.center[1])
	fmt.Fprintln(&b, "- **ours**: `wrk` on the HTTP request (GeoJSON with links, numberMatched, ETag).")
	fmt.Fprintln(&b, "- **limit**: `pgbench` running the simplest single statement that returns the same body: "+
		"`string_agg(ST_AsGeoJSON(t.*))` over the same public columns and rows (`postgis.IncidentLimitSQL`), "+
		"no count, sorted only when the page is cut by its limit (large bbox, first page).")
	fmt.Fprintln(&b, "- **own**: `pgbench` running the statement the server runs for the same page "+
		"(`postgis.IncidentPageSQL`: the columns of the features, which the server writes as GeoJSON; by id: the statement `IncidentFeature` runs). "+
		"÷ own is what the server's work on top of PostgreSQL's (JSON, HTTP) leaves of the statement's rate.")
	fmt.Fprintf(&b, "- Interleaved: %d rounds, each ours → limit → own for one shape; best round per side (all rounds' req/s in the last column). "+
		"pgbench uses the simple protocol (planning included; the server prepares only the by-id statement).\n\n", cfg.rounds)
	fmt.Fprintln(&b, "| shape | features | bytes | ours req/s | limit req/s | own req/s | ÷ limit | ÷ own | p99 ours / limit / own | PG CPU µs/req ours / limit | server µs/req | rounds ours; limit; own | notes |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	shapes, err := itemShapes(ds)
	if err != nil {
		return b.String(), err
	}
	var base *server
	if cfg.baseBinary != "" {
		if base, err = startAttached(cfg.baseBinary, ds.srv, ds.dir); err != nil {
			return b.String(), fmt.Errorf("base binary: %w", err)
		}
		defer base.stop()
	}
	var vs strings.Builder // the base binary beside ours, when given
	for _, sh := range shapes {
		status, size, _, err := fetch(sh.url)
		if err != nil {
			return b.String(), err
		}
		if status != http.StatusOK {
			return b.String(), fmt.Errorf("GET %s: %d", sh.url, status)
		}
		var ours, limit, own, old side
		var rss int64
		for r := range cfg.rounds {
			measureBase := func() error {
				o, _, err := measureHTTP(cfg, base, base.url+strings.TrimPrefix(sh.url, ds.srv.url))
				if err != nil {
					return fmt.Errorf("%s base: %w", sh.name, err)
				}
				old.add(o)
				return nil
			}
			// The base binary goes first in even rounds and after ours in
			// odd ones: with the same binary on both sides, the one measured
			// first got 5-10% more req/s (run 2200).
			if base != nil && r%2 == 0 {
				if err := measureBase(); err != nil {
					return b.String(), err
				}
			}
			h, peak, err := measureHTTP(cfg, ds.srv, sh.url)
			if err != nil {
				return b.String(), err
			}
			ours.add(h)
			rss = max(rss, peak)
			if base != nil && r%2 == 1 {
				if err := measureBase(); err != nil {
					return b.String(), err
				}
			}
			l, err := runPgbench(cfg, ds.srv, ds.dsn, sh.limit, h.duration)
			if err != nil {
				return b.String(), fmt.Errorf("%s limit: %w", sh.name, err)
			}
			limit.add(l)
			o, err := runPgbench(cfg, ds.srv, ds.dsn, sh.own, h.duration)
			if err != nil {
				return b.String(), fmt.Errorf("%s own: %w", sh.name, err)
			}
			own.add(o)
		}
		h, l, o := ours.best, limit.best, own.best
		log.Printf("items %s: ours %.0f, limit %.0f, own %.0f req/s", sh.name, h.reqPerSec, l.reqPerSec, o.reqPerSec)
		fmt.Fprintf(&b, "| %s (`%s`) | %d | %d | %.0f | %.0f | %.0f | **%s** | %s | %s / %s / %s | %s / %s | %s | %s; %s; %s | %s |\n",
			sh.name, sh.query, sh.features, size, h.reqPerSec, l.reqPerSec, o.reqPerSec,
			ratio(h.reqPerSec, l.reqPerSec), ratio(h.reqPerSec, o.reqPerSec), dur(h.p99), dur(l.p99), dur(o.p99),
			perRequest(h.cpu.db, h.count), perRequest(l.cpu.db, l.count), perRequest(h.cpu.app, h.count),
			ours.roundsText(), limit.roundsText(), own.roundsText(), joinNotes(notes(cfg, h, l), fmt.Sprintf("server peak RSS %d MiB", rss/1024)))
		if base != nil {
			ob := old.best
			fmt.Fprintf(&vs, "| %s | %.0f / %.0f | %s / %s | %s / %s | %s / %s | %s; %s |\n", sh.name, ob.reqPerSec, h.reqPerSec,
				ratio(ob.reqPerSec, l.reqPerSec), ratio(h.reqPerSec, l.reqPerSec),
				perRequest(ob.cpu.app, ob.count), perRequest(h.cpu.app, h.count), perRequest(ob.cpu.db, ob.count), perRequest(h.cpu.db, h.count),
				old.roundsText(), ours.roundsText())
		}
	}
	if base != nil {
		fmt.Fprintf(&b, "\nBase binary `%s` (before) beside `%s` (after), in the same rounds (base → ours → limit → own, ours → base → limit → own in alternate rounds), on the same database:\n\n", cfg.baseBinary, cfg.binary)
		fmt.Fprintln(&b, "| shape | req/s before / after | ÷ limit before / after | server µs/req before / after | PG µs/req before / after | rounds before; after |")
		fmt.Fprintln(&b, "|---|---|---|---|---|---|")
		b.WriteString(vs.String())
		fmt.Fprintf(&b, "\nLoad average at the end: %s.\n", loadAvg())
	}
	fmt.Fprintln(&b, "\nThe large window's bbox holds a little more than its first page (limit=10000). "+
		"CPU per request is from /proc over each side's best round (PG: the server's PostgreSQL, postmaster and backends).")
	return b.String(), nil
}
