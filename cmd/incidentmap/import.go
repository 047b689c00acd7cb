package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// maxListedRowErrors is how many invalid rows the import command lists.
const maxListedRowErrors = 50

// importConfig is what the import command's flags set.
type importConfig struct {
	db      dbConfig
	opts    postgis.ImportOptions
	format  string // acled, geojson, or "" to tell by the file
	timeout time.Duration
}

// register declares the import command's flags on fs.
func (c *importConfig) register(fs *flag.FlagSet, env *environment) {
	c.db.register(fs, env)
	quietByDefault(fs, env)
	fs.BoolVar(&c.opts.SkipInvalid, "skip-invalid", false, "import the valid rows and only report the invalid ones")
	fs.StringVar(&c.format, "format", "", "acled or geojson (default: by the file's extension, else by its first character)")
	fs.BoolVar(&c.opts.Demo, "demo", false, "mark the imported incidents as demonstration data")
	fs.DurationVar(&c.timeout, "timeout", 0, "stop the import (importing nothing) after this long, e.g. 30m; 0 for no deadline")
}

// check validates the flags' values, and lower-cases the format.
func (c *importConfig) check() error {
	if c.timeout < 0 {
		return fmt.Errorf("%w: --timeout %v: want a positive duration, or 0 for none", errUsage, c.timeout)
	}
	switch c.format = strings.ToLower(c.format); c.format {
	case "", "acled", "geojson":
	default:
		return fmt.Errorf("%w: --format %q: want acled or geojson", errUsage, c.format)
	}
	return nil
}

func runImport(ctx context.Context, env *environment, args []string) error {
	var c importConfig
	fs := newFlagSet(env, "import", "import FILE [flags]\n\n"+
		"Imports incidents from an ACLED CSV export or a GeoJSON FeatureCollection (such as\n"+
		"`incidentmap export --format geojson` writes), keyed by event_id_cnty / external_id:\n"+
		"new incidents are added, changed ones updated, equal ones left alone, so importing a\n"+
		"file twice changes nothing. All rows or none, unless --skip-invalid. FILE may be - for\n"+
		"standard input. The import runs in one transaction (stopped at any point, it leaves\n"+
		"nothing behind) and is not bound by any statement timeout: --timeout sets its deadline.")
	c.register(fs, env)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want FILE", errUsage)
	}
	path := pos[0]
	if err := c.check(); err != nil {
		return err
	}
	return importFile(ctx, env, c, path)
}

// importFile imports the file at path ("-": standard input) as c says and
// reports the result; rows invalid, or none imported, are an error.
func importFile(ctx context.Context, env *environment, c importConfig, path string) error {
	cfg, opts, format, timeout := c.db, c.opts, c.format, c.timeout
	in, size, closeIn, err := openImportFile(env, path)
	if err != nil {
		return err
	}
	defer closeIn()
	counted := &countingReader{r: in}
	br := bufio.NewReaderSize(counted, 1<<20)
	if format == "" {
		format = importFormat(path, br)
	}
	var rows geo.IncidentReader
	if format == "geojson" {
		rows, err = geo.NewGeoJSONIncidentReader(br)
	} else {
		rows, err = geo.NewACLEDReader(br)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}

	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if path != "-" {
		opts.SourceFile = filepath.Base(path)
	}
	bar := newProgress(env.stderr, size, counted)
	opts.Progress = bar.update
	importCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		importCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	start := time.Now()
	res, err := db.ImportIncidents(importCtx, rows, opts)
	bar.finish()
	var rowsErr *geo.InvalidRowsError
	if errors.As(err, &rowsErr) {
		listRowErrors(env.stderr, format, res)
		return fmt.Errorf("%s: %d invalid of %d rows; nothing imported (--skip-invalid imports the valid ones)",
			path, res.Invalid, res.Rows)
	}
	if err != nil {
		if timeout > 0 && errors.Is(importCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("%s: stopped after --timeout %v; nothing imported: %w", path, timeout, err)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if res.Invalid > 0 {
		listRowErrors(env.stderr, format, res)
	}
	printImportResult(env.stdout, path, res, time.Since(start))
	if res.Rows == res.Invalid {
		// --skip-invalid (otherwise an invalid row fails above): nothing
		// was imported, which is not a success.
		return fmt.Errorf("%s: no row imported: %d of %d rows invalid", path, res.Invalid, res.Rows)
	}
	return nil
}

// printImportResult writes what an import did, and the rows whose stated
// and derived geography disagree.
func printImportResult(w io.Writer, path string, res postgis.ImportResult, elapsed time.Duration) {
	fmt.Fprintf(w, "imported %s: %d rows: %d inserted, %d updated, %d unchanged, %d invalid (skipped) in %v (%.0f rows/s)\n",
		path, res.Rows, res.Inserted, res.Updated, res.Unchanged, res.Invalid,
		elapsed.Round(time.Millisecond), float64(res.Rows)/max(elapsed.Seconds(), 1e-3))
	if res.CountryMismatch > 0 {
		fmt.Fprintf(w, "%d rows: stated country differs from the polygon's (geo_check=country_mismatch)\n", res.CountryMismatch)
	}
	if res.NoCountry > 0 {
		fmt.Fprintf(w, "%d rows: a country is stated but no country polygon lies there (geo_check=no_country)\n", res.NoCountry)
	}
}

// quietByDefault makes warnings the default log level, so that what the
// command prints is its answer.
func quietByDefault(fs *flag.FlagSet, env *environment) {
	if env.getenv("INCIDENTMAP_LOG_LEVEL") == "" {
		f := fs.Lookup("log-level")
		f.DefValue = "warn"
		f.Value.Set("warn")
	}
}

// openImportFile opens path ("-": standard input) and returns its size
// when known (0 otherwise).
func openImportFile(env *environment, path string) (io.Reader, int64, func(), error) {
	if path == "-" {
		return os.Stdin, 0, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read import file: %w", err)
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, func() { f.Close() }, nil
}

// importFormat guesses the format of a file: by extension, else GeoJSON
// when it starts with "{".
func importFormat(path string, br *bufio.Reader) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".geojson", ".json":
		return "geojson"
	case ".csv", ".tsv", ".txt":
		return "acled"
	}
	for i := 1; i < 4096; i++ {
		b, err := br.Peek(i)
		if err != nil {
			break
		}
		switch c := b[i-1]; {
		case c == '{':
			return "geojson"
		case c != ' ' && c != '\t' && c != '\r' && c != '\n':
			return "acled"
		}
	}
	return "acled"
}

// maxListedReasons is how many reasons the summary of invalid rows lists.
const maxListedReasons = 20

// listRowErrors prints a summary of the invalid rows by reason (over all
// of them), then the first invalid rows, one per line.
func listRowErrors(w io.Writer, format string, res postgis.ImportResult) {
	var total int64
	for _, r := range res.Reasons {
		total += r.Count
	}
	fmt.Fprintf(w, "%d invalid rows, %d errors by reason:\n", res.Invalid, total)
	for i, r := range res.Reasons {
		if i == maxListedReasons {
			fmt.Fprintf(w, "  ... and %d more reasons\n", len(res.Reasons)-maxListedReasons)
			break
		}
		where := r.Column
		if where == "" {
			where = "(row)"
		}
		fmt.Fprintf(w, "  %8d  %s: %s\n", r.Count, where, oneLine(r.Kind))
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(w, "first invalid rows:\n")
	}
	for i, e := range res.Errors {
		if i == maxListedRowErrors {
			break
		}
		if format == "geojson" {
			where := fmt.Sprintf("feature %d", e.Line)
			if e.Column != "" {
				where += ", " + e.Column
			}
			fmt.Fprintf(w, "%s: %s\n", where, oneLine(e.Reason))
			continue
		}
		e.Reason = oneLine(e.Reason)
		fmt.Fprintln(w, e.Error())
	}
	if more := len(res.Errors) - maxListedRowErrors + res.ErrorsOmitted; more > 0 {
		fmt.Fprintf(w, "... and %d more\n", more)
	}
}

// countingReader counts the bytes read through it; the count is read by
// the progress display while the import reads on another goroutine.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress shows how an import is going on stderr: a bar redrawn in
// place on a terminal, otherwise a plain line per phase and every few
// seconds.
type progress struct {
	w        io.Writer
	terminal bool
	size     int64
	read     *countingReader
	start    time.Time
	last     time.Time
	phase    string
	step     string
	drawn    bool
}

func newProgress(w io.Writer, size int64, read *countingReader) *progress {
	return &progress{w: w, terminal: isTerminal(w), size: size, read: read, start: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(ip postgis.ImportProgress) {
	now := time.Now()
	changed := ip.Phase != p.phase || ip.Step != p.step
	interval := 5 * time.Second
	if p.terminal {
		interval = 200 * time.Millisecond
	}
	if !changed && now.Sub(p.last) < interval {
		return
	}
	p.phase, p.step, p.last = ip.Phase, ip.Step, now
	var line string
	switch ip.Phase {
	case postgis.ImportReading:
		rate := float64(ip.Rows) / max(now.Sub(p.start).Seconds(), 1e-3)
		line = fmt.Sprintf("reading: %d rows (%.0f rows/s)", ip.Rows, rate)
		if p.size > 0 {
			frac := min(float64(p.read.n.Load())/float64(p.size), 1)
			line = fmt.Sprintf("%s %3.0f%% %s", bar(frac), 100*frac, line)
		}
	case postgis.ImportChecking:
		line = fmt.Sprintf("checking %d rows for duplicates", ip.Staged)
	case postgis.ImportMerging:
		frac := 1.0
		if ip.Staged > 0 {
			frac = float64(ip.Merged) / float64(ip.Staged)
		}
		line = fmt.Sprintf("%s %3.0f%% writing incidents", bar(frac), 100*frac)
	case postgis.ImportEnriching:
		line = fmt.Sprintf("enriching %d locations: %s", ip.Points, ip.Step)
	default:
		return
	}
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "%s [%v]\n", line, now.Sub(p.start).Round(100*time.Millisecond))
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func bar(frac float64) string {
	const width = 30
	n := int(frac * width)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}
