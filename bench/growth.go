package main

import (
	"fmt"
	"log"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

const growthZoom = 11

// sizeLabel names a table size: 100k, 1m, 5m.
func sizeLabel(n int) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dm", n/1_000_000)
	case n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

type growthRow struct {
	rows        int
	dir         string
	genTime     time.Duration
	startup     time.Duration
	tableSize   string
	bbox        [4]float64
	features    int
	items       measurement
	medium      measurement // ~1,000-feature window
	mediumN     int
	firstPage   measurement // limit=100, no filter
	byID        measurement // one feature in the middle of the table
	tile        measurement
	tileXYZ     [3]int
	tileInc     int
	tileBytes   int
	explain     string
	explainTile string
}

// growthDir is the data dir of the growth set of n incidents: GDIR-100k,
// GDIR-1m, GDIR-10m (GDIR: -growth-dir, by default -dir).
func growthDir(cfg config, n int) string { return cfg.gdir + "-" + sizeLabel(n) }

// prepareGrowth only makes each growth data dir hold its incidents (for a
// long generation started ahead of the benchmark: `-prepare`).
func prepareGrowth(cfg config) error {
	for _, n := range cfg.growth {
		ds, err := openShaped(cfg, growthDir(cfg, n), n, leanRows)
		if err != nil {
			return fmt.Errorf("%d incidents: %w", n, err)
		}
		ds.close()
	}
	return nil
}

// growthSuite measures fixed-size items windows (~100 and ~1,000
// features), the first page, one feature by id and one z 11 tile round
// the main data set's densest hotspot at each table size, each size in its
// own data dir of lean rows.
func growthSuite(cfg config, main *dataset) (string, error) {
	var rows []growthRow
	var b strings.Builder
	fmt.Fprintf(&b, "The same place at each table size: the main data set's densest hotspot (%.4f, %.4f). "+
		"Items: a square window holding ~100 public incidents (found at each size, so the page stays the same size while the table grows). "+
		"Tile: the z %d tile holding the hotspot (its content grows with the table), *cold* as in the tiles suite: every request with a datetime filter "+
		"that all incidents pass but a start of its own, so that the server's tile cache never holds it and each request renders it in PostgreSQL. "+
		"HTTP only (`wrk`, %d clients, %v; longer for slow requests). Each size has its own data dir (DIR-100k, DIR-1m, DIR-10m…) of lean rows: every public column filled, "+
		"a ~100-character note and one source (the items suite's wide rows, ~350-character notes and one to three sources, would need ~3.5 GB per million; lean ones about half). "+
		"Also at each size: a ~1,000-feature window, the first page of the collection (`limit=100`, no filter) and one feature by id.\n\n",
		main.center[0], main.center[1], growthZoom, cfg.conns, cfg.duration)
	for _, n := range cfg.growth {
		dir := growthDir(cfg, n)
		log.Printf("growth: opening %s (%d incidents)", dir, n)
		ds, err := openShaped(cfg, dir, n, leanRows)
		if err != nil {
			writeGrowth(&b, rows)
			return b.String(), fmt.Errorf("%d incidents: %w", n, err)
		}
		r, err := measureGrowth(cfg, ds, main.center)
		ds.close()
		if err != nil {
			writeGrowth(&b, rows)
			return b.String(), fmt.Errorf("%d incidents: %w", n, err)
		}
		rows = append(rows, r)
	}
	writeGrowth(&b, rows)
	return b.String(), nil
}

func measureGrowth(cfg config, ds *dataset, center [2]float64) (growthRow, error) {
	r := growthRow{rows: ds.rows, dir: ds.dir, genTime: ds.genTime, startup: ds.startup}
	if err := ds.db.QueryRow(`SELECT pg_size_pretty(pg_total_relation_size('incidents'))`).Scan(&r.tableSize); err != nil {
		return r, err
	}
	var err error
	if r.bbox, r.features, err = windowFor(ds.db, center, 100); err != nil {
		return r, err
	}
	log.Printf("growth %d: window %s holds %d", ds.rows, bboxParam(r.bbox), r.features)
	u := itemsURL(ds.srv, r.bbox)
	if status, _, _, err := fetch(u); err != nil || status != http.StatusOK {
		return r, fmt.Errorf("GET %s: %d %v", u, status, err)
	}
	if r.items, _, err = measureHTTP(cfg, ds.srv, u); err != nil {
		return r, err
	}
	mbox, mn, err := windowFor(ds.db, center, 1000)
	if err != nil {
		return r, err
	}
	r.mediumN = mn
	var id int64
	if err := ds.db.QueryRow(`SELECT id FROM incidents WHERE status = 'verified' AND id >= (SELECT (min(id) + max(id)) / 2 FROM incidents) ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		return r, fmt.Errorf("pick a feature: %w", err)
	}
	for _, m := range []struct {
		url string
		out *measurement
	}{
		{itemsURL(ds.srv, mbox), &r.medium},
		{ds.srv.url + "/api/collections/incidents/items?limit=100", &r.firstPage},
		{fmt.Sprintf("%s/api/collections/incidents/items/%d", ds.srv.url, id), &r.byID},
	} {
		if status, _, _, err := fetch(m.url); err != nil || status != http.StatusOK {
			return r, fmt.Errorf("GET %s: %d %v", m.url, status, err)
		}
		if *m.out, _, err = measureHTTP(cfg, ds.srv, m.url); err != nil {
			return r, err
		}
	}
	x, y := tileAt(growthZoom, center[0], center[1])
	r.tileXYZ = [3]int{growthZoom, x, y}
	ti, err := describeTile(ds, growthZoom, x, y)
	if err != nil {
		return r, err
	}
	r.tileInc, r.tileBytes = ti.incidents, ti.bytes
	if r.tile, err = measureColdTile(cfg, ds, tileURL(ds.srv, growthZoom, x, y)); err != nil {
		return r, err
	}
	stmt, err := itemsSQL(r.bbox)
	if err != nil {
		return r, err
	}
	if r.explain, err = explain(ds, stmt); err != nil {
		return r, err
	}
	cold := tileSQLWith(growthZoom, x, y, url.Values{"datetime": {coldDatetime}}, "")
	if r.explainTile, err = explain(ds, cold); err != nil {
		return r, err
	}
	return r, nil
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) on a statement (warm: the load
// just ran it) and returns the plan text.
func explain(ds *dataset, stmt string) (string, error) {
	rows, err := ds.db.Query("EXPLAIN (ANALYZE, BUFFERS) " + stmt)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

func writeGrowth(b *strings.Builder, rows []growthRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(b, "| incidents | data dir | generated in | table + indexes | items window | features | items req/s | items p50 | items p99 | items plan (EXPLAIN ANALYZE) | "+
		"tile z/x/y | incidents under tile | tile bytes | cold tile req/s | tile p50 | tile p99 | tile plan (EXPLAIN ANALYZE) |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		gen := "reused"
		if r.genTime > 0 {
			gen = r.genTime.Round(time.Second).String()
		}
		fmt.Fprintf(b, "| %d | `%s` | %s | %s | %.3f° square | %d | %.0f | %s | %s | %s | %d/%d/%d | %d | %d | %.0f | %s | %s | %s |\n",
			r.rows, r.dir, gen, r.tableSize, r.bbox[2]-r.bbox[0], r.features, r.items.reqPerSec, dur(r.items.p50), dur(r.items.p99), planSummary(r.explain),
			r.tileXYZ[0], r.tileXYZ[1], r.tileXYZ[2], r.tileInc, r.tileBytes, r.tile.reqPerSec, dur(r.tile.p50), dur(r.tile.p99), planSummary(r.explainTile))
	}
	fmt.Fprintln(b, "\nThe items shapes at each size (req/s, p50 / p99):")
	fmt.Fprintln(b, "\n| incidents | small bbox (~100) | medium bbox (~1,000) | first page (`limit=100`) | one feature by id |")
	fmt.Fprintln(b, "|---|---|---|---|---|")
	shape := func(m measurement) string {
		return fmt.Sprintf("%.0f req/s, %s / %s", m.reqPerSec, dur(m.p50), dur(m.p99))
	}
	for _, r := range rows {
		fmt.Fprintf(b, "| %d | %s (%d) | %s (%d) | %s | %s |\n", r.rows, shape(r.items), r.features, shape(r.medium), r.mediumN, shape(r.firstPage), shape(r.byID))
	}
	first, last := rows[0], rows[len(rows)-1]
	if len(rows) > 1 && first.items.p50 > 0 {
		growth := float64(last.items.p50) / float64(first.items.p50)
		verdict := "does not grow: met"
		if growth > 1.5 {
			verdict = "grows: not met"
		}
		fmt.Fprintf(b, "\nFixed-size window, %d → %d incidents (×%.0f): items p50 ×%.2f (%s; ×1.5 allowed for noise), p99 ×%.2f "+
			"(tails on this shared 2-core machine move by more than that from run to run; the plan's buffers and time above are the steadier evidence). "+
			"The cold tile's p50 goes ×%.2f while the incidents under it go ×%.1f.\n",
			first.rows, last.rows, float64(last.rows)/float64(first.rows), growth, verdict, float64(last.items.p99)/float64(max(1, first.items.p99)),
			float64(last.tile.p50)/float64(max(1, first.tile.p50)), float64(last.tileInc)/float64(max(1, first.tileInc)))
		p50 := func(m func(growthRow) measurement) string {
			return fmt.Sprintf("×%.2f", float64(m(last).p50)/float64(max(1, m(first).p50)))
		}
		fmt.Fprintf(b, "p50 from %s to %s incidents: medium bbox %s, first page %s, by id %s.\n", sizeLabel(first.rows), sizeLabel(last.rows),
			p50(func(r growthRow) measurement { return r.medium }), p50(func(r growthRow) measurement { return r.firstPage }),
			p50(func(r growthRow) measurement { return r.byID }))
	}
	for _, r := range rows {
		fmt.Fprintf(b, "\n#### %d incidents: EXPLAIN (ANALYZE, BUFFERS) of the items query (`postgis.IncidentPageSQL`, ~100 window)\n\n```\n%s\n```\n", r.rows, r.explain)
		fmt.Fprintf(b, "\n<details><summary>%d incidents: EXPLAIN (ANALYZE, BUFFERS) of the z %d tile statement (`postgis.IncidentTileSQL` with `datetime=%s`, as the cold requests)</summary>\n\n```\n%s\n```\n\n</details>\n",
			r.rows, growthZoom, coldDatetime, r.explainTile)
	}
}

var (
	planTime    = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	planBuffers = regexp.MustCompile(`Buffers: shared ((?:hit|read)=[0-9]+(?: read=[0-9]+)?)`)
)

// planSummary condenses a plan: the index the scan used (or "seq scan"),
// the buffers of the top node and the execution time.
func planSummary(plan string) string {
	var parts []string
	switch {
	case strings.Contains(plan, "incidents_geom_idx"):
		parts = append(parts, "incidents_geom_idx")
	case strings.Contains(plan, "Seq Scan"):
		parts = append(parts, "**seq scan**")
	default:
		if m := regexp.MustCompile(`using (\S+) on incidents`).FindStringSubmatch(plan); m != nil {
			parts = append(parts, m[1])
		}
	}
	if m := planBuffers.FindStringSubmatch(plan); m != nil {
		parts = append(parts, m[1])
	}
	if m := planTime.FindStringSubmatch(plan); m != nil {
		parts = append(parts, m[1]+" ms")
	}
	return strings.Join(parts, ", ")
}
