package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

func runExport(ctx context.Context, env *environment, args []string) error {
	var (
		cfg                   dbConfig
		format, out, rawQuery string
		derived               bool
	)
	fs := newFlagSet(env, "export", "export --format geojson|csv [--out FILE] [--query 'bbox=...&event_type=...'] [flags]\n\n"+
		"Writes every incident that matches the query, streamed from the database: GeoJSON as the\n"+
		"items endpoint makes it, or CSV in ACLED's column layout: the columns that carry data or\n"+
		"that the layout requires, with the source's own values where it stated them (--derived\n"+
		"adds incidentmap's derived columns). The query takes the items endpoint's filters (bbox, datetime, event_type,\n"+
		"sub_event_type, status, country, actor, q, near_border_km, near_place, within_km),\n"+
		"sortby, limit (only the first that many, at most 10,000) and, for GeoJSON, properties. Like the endpoint it\n"+
		"leaves retracted incidents out unless status says otherwise. Both formats import back\n"+
		"with `incidentmap import`.")
	cfg.register(fs, env)
	quietByDefault(fs, env)
	fs.StringVar(&format, "format", "geojson", "geojson or csv")
	fs.StringVar(&out, "out", "", "file to write (default: standard output); written whole or not at all")
	fs.BoolVar(&derived, "derived", false, "CSV: add the derived columns (country by polygon, nearest place, border distance, geo_check)")
	fs.StringVar(&rawQuery, "query", "", "filters as a URL query string, e.g. 'bbox=45,38,48,41&event_type=Battles'")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	format = strings.ToLower(format)
	if format != "geojson" && format != "csv" {
		return fmt.Errorf("%w: --format %q: want geojson or csv", errUsage, format)
	}
	q, limit, err := exportQuery(rawQuery, format)
	if err != nil {
		return err
	}
	if derived && format != "csv" {
		return fmt.Errorf("%w: --derived only applies to --format csv (GeoJSON has every property)", errUsage)
	}
	q.Derived = q.Derived || derived
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	w, commit, abort, err := exportOutput(env, out)
	if err != nil {
		return err
	}
	defer abort()
	start := time.Now()
	var n int64
	switch {
	case limit > 0:
		// The first limit incidents: one page, as the items endpoint.
		q.Limit = limit
		n, err = exportPage(ctx, db, q, format, w)
	case format == "csv":
		// Two passes over one snapshot: the columns, then the rows.
		n, err = db.ExportIncidentCSV(ctx, q, q.Derived, w)
	default:
		n, err = db.ExportIncidentFeatures(ctx, q, w)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := commit(); err != nil {
		return err
	}
	dest := out
	if dest == "" {
		dest = "standard output"
	}
	fmt.Fprintf(env.stderr, "exported %d incidents to %s in %v\n", n, dest, time.Since(start).Round(time.Millisecond))
	return nil
}

// exportQuery parses --query as the items endpoint does, without its
// paging: it returns the query and the limit given (0: none).
func exportQuery(raw, format string) (geo.IncidentQuery, int, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return geo.IncidentQuery{}, 0, fmt.Errorf("%w: --query: %v", errUsage, err)
	}
	for _, p := range []string{"cursor", "f"} {
		if v.Has(p) {
			return geo.IncidentQuery{}, 0, fmt.Errorf("%w: --query: %s is not for exports (use --format for the format)", errUsage, p)
		}
	}
	if format == "csv" && v.Has("properties") {
		return geo.IncidentQuery{}, 0, fmt.Errorf("%w: --query: properties only applies to GeoJSON; CSV has all columns", errUsage)
	}
	q, err := geo.ParseIncidentQuery(v)
	if err != nil {
		return geo.IncidentQuery{}, 0, fmt.Errorf("%w: --query: %v", errUsage, err)
	}
	limit := 0
	if v.Get("limit") != "" {
		limit = q.Limit
	}
	return q, limit, nil
}

// exportOutput opens the destination. A file is written under a
// temporary name and renamed by commit, so a failed export leaves no
// partial file; abort (safe after commit) removes the temporary file.
func exportOutput(env *environment, out string) (w io.Writer, commit func() error, abort func(), err error) {
	if out == "" || out == "-" {
		bw := bufio.NewWriterSize(env.stdout, 64<<10)
		return bw, bw.Flush, func() {}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("export: %w", err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	done := false
	commit = func() error {
		err := errors.Join(bw.Flush(), f.Chmod(0o644), f.Close())
		if err == nil {
			err = os.Rename(f.Name(), out)
		}
		if err != nil {
			return fmt.Errorf("export: write %s: %w", out, err)
		}
		done = true
		return nil
	}
	abort = func() {
		if !done {
			f.Close()
			os.Remove(f.Name())
		}
	}
	return bw, commit, abort, nil
}

// exportPage writes the first page of q.
func exportPage(ctx context.Context, db *database, q geo.IncidentQuery, format string, w io.Writer) (int64, error) {
	if format == "csv" {
		page, err := db.StreamIncidentCSV(ctx, q, w)
		return int64(page.Returned), err
	}
	return db.ExportIncidentPage(ctx, q, w)
}
