package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// runIncidentsCmd runs incidentmap in process with no environment.
func runIncidentsCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code = Run(ctx, args, func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// karabakhRow is the i-th generated ACLED record of the autumn 2020 war,
// every column filled; odd rows date as "18 October 2020".
func karabakhRow(i int) map[string]string {
	places := []struct {
		name, admin1 string
		lat, lon     float64
	}{{"Stepanakert", "Xankandi", 39.8153, 46.7519}, {"Shusha", "Shusha", 39.7583, 46.7485},
		{"Jabrayil", "Jabrayil", 39.3999, 47.0245}, {"Ganja", "Ganja", 40.6828, 46.3606}, {"Martuni", "Khojavend", 39.7950, 47.1120}}
	kinds := [][2]string{{"Explosions/Remote violence", "Shelling/artillery/missile attack"}, {"Battles", "Armed clash"},
		{"Explosions/Remote violence", "Air/drone strike"}}
	p, k := places[i%len(places)], kinds[i%len(kinds)]
	day := time.Date(2020, 9, 27, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%44)
	date := day.Format(time.DateOnly)
	if i%2 == 1 {
		date = day.Format("2 January 2006")
	}
	return map[string]string{
		"event_id_cnty": fmt.Sprintf("AZE%d", 7000+i), "event_date": date, "year": "2020", "time_precision": "1",
		"disorder_type": "Political violence", "event_type": k[0], "sub_event_type": k[1],
		"actor1": "Military Forces of Azerbaijan (2003-)", "assoc_actor_1": "", "inter1": "1",
		"actor2": "Military Forces of Armenia (2018-)", "assoc_actor_2": "", "inter2": "1", "interaction": "11",
		"civilian_targeting": "", "iso": "31", "region": "Caucasus and Central Asia", "country": "Azerbaijan",
		"admin1": p.admin1, "admin2": "", "admin3": "", "location": p.name,
		"latitude": strconv.FormatFloat(p.lat, 'f', 4, 64), "longitude": strconv.FormatFloat(p.lon, 'f', 4, 64),
		"geo_precision": "1", "source": "Armenian Ministry of Defence; Azerbaijani Ministry of Defence",
		"source_scale": "National", "notes": fmt.Sprintf("On %s, shelling was reported near %s.", date, p.name),
		"fatalities": strconv.Itoa(i % 3), "tags": "", "timestamp": "1603065600",
	}
}

func writeACLEDFile(t *testing.T, dir, name string, rows ...map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(geo.ACLEDColumns())
	for _, r := range rows {
		rec := make([]string, len(geo.ACLEDColumns()))
		for i, c := range geo.ACLEDColumns() {
			rec[i] = r[c]
		}
		w.Write(rec)
	}
	w.Flush()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// badKarabakhRows are six records of which three are invalid: latitude
// 95 on line 3, an unknown event type on line 5, a bad date on line 6.
func badKarabakhRows() []map[string]string {
	var rows []map[string]string
	for i := range 6 {
		rows = append(rows, karabakhRow(100+i))
	}
	rows[1]["latitude"] = "95"
	rows[3]["event_type"] = "Skirmish"
	rows[4]["event_date"] = "2020-13-45"
	return rows
}

// readExport parses an exported CSV file into records by event_id_cnty,
// leaving out the columns that differ between databases.
func readExport(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s is not CSV: %v", path, err)
	}
	header := recs[0]
	key := slices.IndexFunc(header, func(c string) bool { return strings.EqualFold(c, "event_id_cnty") })
	if key < 0 {
		t.Fatalf("header without event_id_cnty: %v", header)
	}
	// Columns in name order, so that the layout's column order does not matter.
	order := make([]int, len(header))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(strings.ToLower(header[a]), strings.ToLower(header[b])) })
	out := map[string]string{}
	for _, r := range recs[1:] {
		var keep []string
		for _, i := range order {
			if c := strings.ToLower(header[i]); c != "id" && c != "timestamp" {
				keep = append(keep, c+"="+r[i])
			}
		}
		out[r[key]] = strings.Join(keep, "|")
	}
	return out
}

// The import and export commands against the embedded database: import,
// re-import as a no-op, a rejected file that writes nothing, the same with
// --skip-invalid, and both export formats imported back elsewhere.
func TestImportExportCommands(t *testing.T) {
	dir := t.TempDir()
	base := traversableTempDir(t)
	dataDir, otherDir := filepath.Join(base, "data"), filepath.Join(base, "other")
	var rows []map[string]string
	for i := range 15 {
		rows = append(rows, karabakhRow(i))
	}
	good := writeACLEDFile(t, dir, "karabakh.csv", rows...)
	bad := writeACLEDFile(t, dir, "bad.csv", badKarabakhRows()...)

	code, stdout, stderr := runIncidentsCmd(t, "import", good, "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "15 rows: 15 inserted, 0 updated, 0 unchanged, 0 invalid") {
		t.Fatalf("import = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "\r") || !strings.Contains(stderr, "writing incidents") {
		t.Errorf("progress on a non-terminal should be plain lines:\n%q", stderr)
	}
	code, stdout, stderr = runIncidentsCmd(t, "import", "--data-dir", dataDir, good)
	if code != 0 || !strings.Contains(stdout, "15 rows: 0 inserted, 0 updated, 15 unchanged") {
		t.Errorf("re-import = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	code, stdout, stderr = runIncidentsCmd(t, "import", bad, "--data-dir", dataDir)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	for _, want := range []string{"line 3, column latitude: latitude 95 is out of range", "line 5, column event_type: unknown event type",
		"line 6, column event_date: not a date"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("stderr does not list %q:\n%s", want, stderr)
		}
	}
	if code != 1 || !strings.Contains(lines[len(lines)-1], "3 invalid of 6 rows; nothing imported") {
		t.Errorf("bad import = %d, last line %q", code, lines[len(lines)-1])
	}
	all := "status=verified,disputed,retracted"
	exported := filepath.Join(dir, "all.csv")
	if code, _, stderr := runIncidentsCmd(t, "export", "--format", "csv", "--out", exported, "--query", all, "--data-dir", dataDir); code != 0 ||
		!strings.Contains(stderr, "exported 15 incidents") {
		t.Fatalf("export after the rejected import = %d: %s", code, stderr)
	}

	code, stdout, stderr = runIncidentsCmd(t, "import", bad, "--skip-invalid", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "6 rows: 3 inserted, 0 updated, 0 unchanged, 3 invalid (skipped)") ||
		!strings.Contains(stderr, "line 3, column latitude") {
		t.Errorf("--skip-invalid = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	// CSV: export everything, import it into another database, export
	// that: the same incidents.
	if code, _, stderr := runIncidentsCmd(t, "export", "--format", "csv", "--out", exported, "--query", all, "--data-dir", dataDir); code != 0 {
		t.Fatalf("export = %d: %s", code, stderr)
	}
	code, stdout, stderr = runIncidentsCmd(t, "import", exported, "--data-dir", otherDir)
	if code != 0 || !strings.Contains(stdout, "18 rows: 18 inserted") {
		t.Fatalf("import of the export = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	again := filepath.Join(dir, "again.csv")
	if code, _, stderr := runIncidentsCmd(t, "export", "--format", "csv", "--out", again, "--query", all, "--data-dir", otherDir); code != 0 {
		t.Fatalf("second export = %d: %s", code, stderr)
	}
	first, second := readExport(t, exported), readExport(t, again)
	if len(first) != 18 || !mapsEqual(first, second) {
		t.Errorf("CSV round trip differs:\n%v\n%v", first, second)
	}

	// GeoJSON with filters, to standard output; it imports back unchanged.
	code, stdout, stderr = runIncidentsCmd(t, "export", "--query", "event_type=battles&bbox=46,39,47.5,41", "--data-dir", otherDir)
	if code != 0 {
		t.Fatalf("GeoJSON export = %d: %s", code, stderr)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(stdout), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
		t.Fatalf("GeoJSON export is not a FeatureCollection (%v):\n%s", err, stdout)
	}
	for _, f := range fc.Features {
		if f.Properties["event_type"] != "Battles" {
			t.Errorf("filtered export has %v", f.Properties["event_type"])
		}
	}
	// A limit exports the first incidents only.
	limited := filepath.Join(dir, "limited.csv")
	code, _, stderr = runIncidentsCmd(t, "export", "--format", "csv", "--out", limited, "--query", "limit=5&sortby=-fatalities", "--data-dir", otherDir)
	if got := readExport(t, limited); code != 0 || len(got) != 5 || !strings.Contains(stderr, "exported 5 incidents") {
		t.Errorf("limited export = %d, %d rows: %s", code, len(got), stderr)
	}
	gj := filepath.Join(dir, "battles.geojson")
	if err := os.WriteFile(gj, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runIncidentsCmd(t, "import", gj, "--data-dir", otherDir)
	if want := fmt.Sprintf("%d rows: 0 inserted, 0 updated, %d unchanged", len(fc.Features), len(fc.Features)); code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("GeoJSON re-import = %d, want %q\nstdout: %s\nstderr: %s", code, want, stdout, stderr)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The built binary exits 1 on invalid rows, listing at most 50 and
// counting the rest.
func TestImportBinaryListsInvalidRows(t *testing.T) {
	dir := t.TempDir()
	var rows []map[string]string
	for i := range 60 {
		r := karabakhRow(i)
		r["latitude"] = "95"
		rows = append(rows, r)
	}
	path := writeACLEDFile(t, dir, "all-bad.csv", rows...)
	cmd := exec.Command(binary, "import", path, "--data-dir", filepath.Join(traversableTempDir(t), "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v, want 1\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	var listed int
	for _, l := range lines {
		if strings.HasPrefix(l, "line ") && strings.Contains(l, ", column latitude: ") {
			listed++
		}
	}
	if listed != maxListedRowErrors || !slices.Contains(lines, "... and 10 more") || stdout.Len() != 0 {
		t.Errorf("listed %d rows (want %d) and stdout %q:\n%s", listed, maxListedRowErrors, stdout.String(), stderr.String())
	}
}

// --skip-invalid with nothing valid is a failure: the summary by reason
// comes first, then the first rows.
func TestImportSkipInvalidNothingImported(t *testing.T) {
	dir := t.TempDir()
	var rows []map[string]string
	for i := range 60 {
		r := karabakhRow(i)
		if i%3 == 0 {
			r["event_type"] = "Skirmish"
		} else {
			r["latitude"] = "95"
		}
		rows = append(rows, r)
	}
	path := writeACLEDFile(t, dir, "all-bad.csv", rows...)
	code, stdout, stderr := runIncidentsCmd(t, "import", path, "--skip-invalid", "--data-dir", filepath.Join(traversableTempDir(t), "data"))
	if code != 1 || !strings.Contains(stdout, "60 rows: 0 inserted, 0 updated, 0 unchanged, 60 invalid (skipped)") ||
		!strings.Contains(stderr, "no row imported: 60 of 60 rows invalid") {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	summary := strings.Index(stderr, "60 invalid rows, 60 errors by reason:")
	first := strings.Index(stderr, "first invalid rows:\nline 2, column")
	if summary < 0 || first < summary {
		t.Errorf("want the summary by reason before the rows:\n%s", stderr)
	}
	// Two reasons: 40 latitudes, 20 event types (counted by kind, or by
	// reason text where the reader gives no kind).
	var counts []string
	for _, l := range strings.Split(stderr[summary:first], "\n")[1:] {
		if f := strings.Fields(l); len(f) > 1 {
			counts = append(counts, f[0]+" "+f[1])
		}
	}
	if want := []string{"40 latitude:", "20 event_type:"}; !slices.Equal(counts, want) {
		t.Errorf("reasons %q, want %q:\n%s", counts, want, stderr)
	}
}

// --timeout stops an import, which then imports nothing.
func TestImportTimeout(t *testing.T) {
	dir := t.TempDir()
	var rows []map[string]string
	for i := range 30 {
		rows = append(rows, karabakhRow(i))
	}
	path := writeACLEDFile(t, dir, "k.csv", rows...)
	dataDir := filepath.Join(traversableTempDir(t), "data")
	code, stdout, stderr := runIncidentsCmd(t, "import", path, "--timeout", "1ns", "--data-dir", dataDir)
	if code != 1 || !strings.Contains(stderr, "stopped after --timeout 1ns; nothing imported") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, stdout, stderr = runIncidentsCmd(t, "import", path, "--timeout", "5m", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(stdout, "30 rows: 30 inserted") {
		t.Errorf("with time to spare: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// Wrong flags and arguments are usage errors.
func TestImportExportUsage(t *testing.T) {
	tests := [][]string{
		{"import"},
		{"import", "a.csv", "b.csv"},
		{"import", "a.csv", "--format", "xml"},
		{"import", "a.csv", "--timeout", "-1s"},
		{"export", "--derived"},
		{"export", "--format", "xml"},
		{"export", "--query", "cursor=abc"},
		{"export", "--query", "bbox=1,2"},
		{"export", "--format", "csv", "--query", "properties=title"},
		{"export", "extra"},
	}
	for _, args := range tests {
		if code, _, stderr := runIncidentsCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
	if code, _, stderr := runIncidentsCmd(t, "import", filepath.Join(t.TempDir(), "missing.csv")); code != 1 ||
		!strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d: %s", code, stderr)
	}
	header := filepath.Join(t.TempDir(), "header.csv")
	os.WriteFile(header, []byte("event_id_cnty,notes\n"), 0o644)
	if code, _, stderr := runIncidentsCmd(t, "import", header); code != 1 ||
		!strings.Contains(stderr, "missing required columns: event_date, event_type, latitude, longitude") {
		t.Errorf("bad header: exit %d: %s", code, stderr)
	}
}
