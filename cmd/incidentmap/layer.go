package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/geo"
)

// maxLayerFileBytes caps the size of an imported GeoJSON file.
const maxLayerFileBytes = 512 << 20

const layerUsage = "layer import NAME FILE.geojson [--title T] [--description D] [--time-property P] [--no-repair] [--strict]\n" +
	"       incidentmap layer list\n" +
	"       incidentmap layer delete NAME"

// runLayer imports, lists or deletes GeoJSON map layers.
func runLayer(ctx context.Context, env *environment, args []string) error {
	return runActions(ctx, env, args, "layer", layerUsage, []action{
		{"import", runLayerImport}, {"list", runLayerList}, {"delete", runLayerDelete},
	})
}

func runLayerImport(ctx context.Context, env *environment, args []string) error {
	var (
		cfg  dbConfig
		meta geo.LayerMeta
		opts geo.LayerOptions
	)
	fs := newActionFlagSet(env, "layer import", "layer import NAME FILE.geojson [flags]\n\n"+
		"Imports a GeoJSON FeatureCollection as layer NAME (replacing a layer of that name),\n"+
		"all features or none. FILE may be - for standard input. A \"crs\" member (GDAL/QGIS\n"+
		"files: \"urn:ogc:def:crs:EPSG::3857\", \"EPSG:3857\", OGC CRS84) is honoured: coordinates\n"+
		"are reprojected to WGS 84. Each feature's own \"id\" is kept as property \""+geo.LayerIDProperty+"\".\n"+
		"The built-in collections "+strings.Join(geo.BuiltInLayerIDs(), ", ")+" cannot be replaced.", &cfg)
	fs.StringVar(&meta.Title, "title", "", "human-readable title (default: NAME)")
	fs.StringVar(&meta.Description, "description", "", "what the layer shows and where it comes from")
	fs.StringVar(&meta.TimeProperty, "time-property", "",
		"feature property holding an RFC 3339 date-time or a date (YYYY-MM-DD); enables datetime filtering")
	fs.BoolVar(&opts.NoRepair, "no-repair", false,
		"refuse invalid polygons (self-intersections...) instead of repairing them with ST_MakeValid")
	fs.BoolVar(&opts.Strict, "strict", false, "refuse features without a geometry instead of skipping them")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return fmt.Errorf("%w: want NAME and FILE", errUsage)
	}
	meta.ID = pos[0]
	path := pos[1]
	if meta.Title == "" {
		meta.Title = meta.ID
	}
	// Check everything that needs no database before starting one.
	if err := geo.CheckLayerID(meta.ID); err != nil {
		return fmt.Errorf("layer import: %w", err)
	}
	fc, err := readLayerFile(env, path)
	if err != nil {
		return err
	}
	if opts.SRID, err = geo.LayerSRID(fc); err != nil {
		return fmt.Errorf("invalid layer %s: %w", path, err)
	}
	if err := geo.ValidateLayer(meta, fc, opts); err != nil {
		return fmt.Errorf("invalid layer %s: %w", path, err)
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	res, err := db.ImportLayerFile(ctx, meta, fc, opts)
	if err != nil {
		if errors.Is(err, geo.ErrInvalid) {
			return fmt.Errorf("invalid layer %s: %w", path, err)
		}
		return err
	}
	fmt.Fprintf(env.stdout, "imported layer %s: %d features in %v%s\n",
		res.Layer.ID, res.Layer.Features, time.Since(start).Round(time.Millisecond), importNotes(res))
	return nil
}

// importNotes says what an import changed on the way in, for its summary
// line: "" when the file was stored as given.
func importNotes(res geo.LayerImport) string {
	var notes []string
	if res.SRID != geo.WGS84 {
		notes = append(notes, "reprojected from "+geo.CRSName(res.SRID)+" to WGS 84")
	}
	if res.Repaired > 0 {
		notes = append(notes, fmt.Sprintf("%d invalid polygon(s) repaired with ST_MakeValid (--no-repair refuses them)", res.Repaired))
	}
	if res.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d feature(s) without a geometry skipped (--strict refuses them)", res.Skipped))
	}
	if len(notes) == 0 {
		return ""
	}
	return "; " + strings.Join(notes, "; ")
}

// readLayerFile reads and parses path ("-": standard input).
func readLayerFile(env *environment, path string) (*geojson.FeatureCollection, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read layer file: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > maxLayerFileBytes {
			return nil, fmt.Errorf("layer file %s is %d bytes, more than the limit of %d", path, st.Size(), maxLayerFileBytes)
		}
		r = f
	}
	fc, err := geo.ParseLayerFile(r, maxLayerFileBytes)
	if err != nil {
		return nil, fmt.Errorf("invalid layer %s: %w", path, err)
	}
	return fc, nil
}

func runLayerList(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newActionFlagSet(env, "layer list", "layer list [flags]", &cfg)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("%w: layer list takes no arguments", errUsage)
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	layers, err := db.Layers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tFEATURES\tUPDATED")
	for _, l := range layers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", l.ID, oneLine(l.Title), l.Features, l.UpdatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func runLayerDelete(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newActionFlagSet(env, "layer delete", "layer delete NAME [flags]", &cfg)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want NAME", errUsage)
	}
	if err := geo.CheckLayerID(pos[0]); err != nil {
		return fmt.Errorf("layer delete: %w", err)
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.DeleteLayer(ctx, pos[0]); err != nil {
		if errors.Is(err, geo.ErrNotFound) {
			return fmt.Errorf("no layer %q", pos[0])
		}
		return err
	}
	fmt.Fprintf(env.stdout, "deleted layer %s\n", pos[0])
	return nil
}
