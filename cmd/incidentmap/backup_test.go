package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
	"github.com/lib/pq"
	"github.com/paulmach/orb/encoding/mvt"
)

// sourceDatabase is a migrated embedded database kept running for a
// test, so that commands run beside it as they do beside a serve.
type sourceDatabase struct {
	dataDir string
	cluster *localpg.Cluster
	db      *sql.DB
}

func startSourceDatabase(t *testing.T) *sourceDatabase {
	t.Helper()
	dataDir := traversableTempDir(t)
	if code, out, errOut := runOpsCmd(t, "migrate", "up", "--data-dir", dataDir); code != 0 {
		t.Fatalf("migrate up: exit %d\n%s%s", code, out, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dataDir, "postgres")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cluster.Stop(context.Background()) })
	db, err := sql.Open("postgres", cluster.DSN(embeddedDatabase))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &sourceDatabase{dataDir: dataDir, cluster: cluster, db: db}
}

// noisePNG encodes a w×h image of random pixels: a real PNG that does not
// compress, like a photo.
func noisePNG(t *testing.T, rng *rand.Rand, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fillEveryTable puts rows into every table the application has. The
// countries and border are two made-up boxes and the line between them,
// not real geography: only their round trip matters here.
func fillEveryTable(t *testing.T, db *sql.DB, photoSide int) {
	t.Helper()
	stmts := []string{
		`INSERT INTO users (name, role, token_hash) VALUES ('alice', 'admin', sha256('a')), ('bob', 'moderator', sha256('b'))`,
		`INSERT INTO countries (id, code, iso_numeric, name, geom) VALUES
			(1, 'AA', '901', 'West box', ST_Multi(ST_MakeEnvelope(44, 38, 46, 41, 4326))),
			(2, 'BB', '902', 'East box', ST_Multi(ST_MakeEnvelope(46, 38, 48, 41, 4326)))`,
		`INSERT INTO country_parts (country_id, code, geom, boundary)
			SELECT id, code, (ST_Dump(geom)).geom, ST_Multi(ST_Boundary(geom))::geography FROM countries`,
		`INSERT INTO borders (id, country_a, country_b, name_a, name_b, geom, length_m)
			VALUES (1, 'AA', 'BB', 'West box', 'East box', ST_Multi(ST_SetSRID(ST_MakeLine(ST_MakePoint(46, 38), ST_MakePoint(46, 41)), 4326)), 333000)`,
		`INSERT INTO border_parts (border_id, geom, geog) SELECT id, (ST_Dump(geom)).geom, (ST_Dump(geom)).geom::geography FROM borders`,
		`INSERT INTO places (id, name, ascii_name, alternate_names, country_code, admin1, population, geom) VALUES
			(1, 'Ağdam', 'Agdam', '{Агдам}', 'AA', '01', 28000, ST_SetSRID(ST_MakePoint(45.8, 39.9), 4326)),
			(2, 'Şuşa', 'Shusha', '{Шуша}', 'BB', '02', 4000, ST_SetSRID(ST_MakePoint(46.7, 39.7), 4326))`,
		`INSERT INTO place_aliases (place_id, alias, note) VALUES (2, 'Shushi', 'other spelling')`,
		`INSERT INTO data_loads (name, fingerprint) VALUES ('places', repeat('ab', 32))`,
		`INSERT INTO layers (id, title, description, feature_count) VALUES ('contact-line', 'Line of contact', 'made up', 1)`,
		`INSERT INTO layer_features (layer_id, id, geom, properties)
			VALUES ('contact-line', 1, ST_SetSRID(ST_MakeLine(ST_MakePoint(46.5, 39), ST_MakePoint(46.9, 40.2)), 4326), '{"name": "line"}')`,
		// Notes of varied lengths, every status, sources, some retracted.
		`INSERT INTO incidents (external_id, occurred_at, event_type, sub_event_type, actor1, fatalities, title, notes, location_name, geom, status, sources)
			SELECT 'seed-' || i, timestamptz '2020-09-27' + i * interval '1 hour', 'Explosions/Remote violence', 'Shelling/artillery/missile attack',
				'Military forces', i % 7, 'Shelling ' || i, repeat('Notes about shelling, line ' || i || '. ', 1 + i % 40),
				'Near town ' || i, ST_SetSRID(ST_MakePoint(45 + (i % 300) / 100.0, 39 + (i % 97) / 100.0), 4326),
				(ARRAY['verified', 'disputed', 'retracted', 'reported'])[1 + i % 4],
				jsonb_build_array(jsonb_build_object('publisher', 'Source ' || i, 'url', 'https://example.org/' || i, 'kind', 'media'))
			FROM generate_series(1, 300) i`,
		// Claims per party: one side blames, the other does not answer (contested).
		`INSERT INTO incident_claims (incident_id, party, actor_code, stance, attributed_to, text, source_name)
			SELECT id, 'Ministry of Defence of Armenia', 'ARM-MOD', 'attributes_to', 'Azerbaijan', 'Shelling near town ' || id, 'Wire'
			FROM incidents WHERE id % 10 = 0`,
		`INSERT INTO incident_claims (incident_id, party, stance, text, source_url)
			SELECT id, 'Baku', 'no_comment', 'No immediate response.', 'https://example.org/baku'
			FROM incidents WHERE id % 10 = 0`,
		`INSERT INTO reports (geom, occurred_at, event_type, description, contact, status, idempotency_key, client_hash, photo_hint)
			SELECT ST_SetSRID(ST_MakePoint(46 + i / 100.0, 39.5), 4326), timestamptz '2020-10-01' + i * interval '1 day', 'Battles',
				'Seen from the road, report ' || i, 'reporter' || i || '@example.org', (ARRAY['pending', 'verified', 'rejected'])[1 + i % 3],
				'key-' || i, sha256(i::text::bytea), '{"agrees": true}'
			FROM generate_series(1, 20) i`,
		`INSERT INTO audit_log (user_id, user_name, action, target_type, target_id, before, after, note)
			SELECT 1, 'alice', 'report.verify', 'report', id, jsonb_build_object('status', 'pending'), jsonb_build_object('status', status), 'checked'
			FROM reports WHERE status <> 'pending'`,
		`SELECT take_token('report:0123', 10, 1)`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("fill: %v\n%s", err, s)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for report := 1; report <= 4; report++ {
		for pos := 1; pos <= 2; pos++ {
			photo := noisePNG(t, rng, photoSide, photoSide)
			if _, err := db.Exec(`INSERT INTO report_photos (report_id, position, media_type, stripped, original, original_type, width, height, exif)
				VALUES ($1, $2, 'image/png', $3, $3, 'image/png', $4, $4, '{"gps": null}')`, report, pos, photo, photoSide); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every table has rows (rate_limits too: the backup leaves it out).
	for _, table := range appTables(t, db) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM public.` + table).Scan(&n); err != nil || n == 0 {
			t.Fatalf("table %s has %d rows after filling (%v): fill it too", table, n, err)
		}
	}
}

// appTables lists the application's tables (not PostGIS's), sorted.
func appTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

// tableDigest is the md5 of a table's rows as text in a fixed order, and
// their count, for the rows matching where.
func tableDigest(t *testing.T, db *sql.DB, table, where string) string {
	t.Helper()
	var n int
	var sum sql.NullString
	err := db.QueryRow(`SELECT count(*), md5(string_agg(r::text, E'\n' ORDER BY r::text)) FROM public.`+table+` r WHERE `+where).Scan(&n, &sum)
	if err != nil {
		t.Fatalf("digest of %s: %v", table, err)
	}
	return fmt.Sprintf("%d rows, md5 %s", n, sum.String)
}

// checkRestoredTileCells: the world's cluster tile drawn from the restored
// sums counts exactly the restored public incidents, in as many clusters
// as the point scan of the same tile finds (a restore that replayed the
// sums onto rows the triggers had already summed would count them twice).
func checkRestoredTileCells(t *testing.T, db *sql.DB) {
	t.Helper()
	q, err := geo.ParseIncidentTileQuery(nil)
	if err != nil {
		t.Fatal(err)
	}
	world := geo.Tile{}
	stmt, args, ok, err := postgis.IncidentTileCellsSQL(world, q)
	if err != nil || !ok {
		t.Fatalf("the world tile is not drawn from the sums (%v)", err)
	}
	fromSums := tileClusters(t, db, stmt, args)
	stmt, args, err = postgis.IncidentTileSQL(world, q, 8)
	if err != nil {
		t.Fatal(err)
	}
	fromPoints := tileClusters(t, db, stmt, args)
	var public int64
	if err := db.QueryRow(`SELECT count(*) FROM incidents WHERE status = ANY ($1)`, pq.Array(geo.DefaultStatuses())).Scan(&public); err != nil {
		t.Fatal(err)
	}
	if fromSums[0] != public || fromSums != fromPoints {
		t.Errorf("restored world tile from the sums: %d incidents in %d clusters; from the points: %d in %d; %d public incidents restored",
			fromSums[0], fromSums[1], fromPoints[0], fromPoints[1], public)
	}
}

// tileClusters runs a cluster tile statement: [incidents, clusters].
func tileClusters(t *testing.T, db *sql.DB, stmt string, args []any) [2]int64 {
	t.Helper()
	var tile []byte
	if err := db.QueryRow(stmt, args...).Scan(&tile); err != nil {
		t.Fatalf("cluster tile: %v", err)
	}
	layers, err := mvt.Unmarshal(tile)
	if err != nil {
		t.Fatalf("cluster tile: %v", err)
	}
	var n [2]int64
	for _, l := range layers {
		for _, f := range l.Features {
			c, _ := f.Properties["count"].(float64)
			if i, ok := f.Properties["count"].(int64); ok {
				c = float64(i)
			}
			n[0] += int64(c)
			n[1]++
		}
	}
	return n
}

// writer inserts incidents, each with its audit entry in the same
// transaction, until stopped, and remembers the order of its commits.
type writer struct {
	mu        sync.Mutex
	committed []int64 // incident ids, in commit order
	err       error
}

func (w *writer) run(ctx context.Context, db *sql.DB) {
	for i := 0; ctx.Err() == nil; i++ {
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO incidents (occurred_at, event_type, title, notes, geom)
				VALUES (now(), 'Battles', 'written during the backup ' || $1::int, repeat('x', 200), ST_SetSRID(ST_MakePoint(46.5, 39.5), 4326))
				RETURNING id`, i).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (user_name, action, target_type, target_id, after)
				VALUES ('writer', 'incident.create', 'incident', $1, jsonb_build_object('id', $1::bigint))`, id); err != nil {
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			w.mu.Lock()
			w.committed = append(w.committed, id)
			w.mu.Unlock()
			return nil
		}()
		if err != nil && ctx.Err() == nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
	}
}

func (w *writer) snapshot() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.committed)
}

// A backup taken while incidents keep being written restores into a
// fresh data dir as a consistent snapshot: every table row for row as it
// was, every incident committed before the backup began, the writes as a
// prefix of their commit order each with its audit entry, and a server on
// the restored data answering through its least-privilege logins.
func TestBackupRestoreWhileWriting(t *testing.T) {
	src := startSourceDatabase(t)
	fillEveryTable(t, src.db, 96)

	ctx, stopWriting := context.WithCancel(context.Background())
	w := &writer{}
	var writing sync.WaitGroup
	writing.Go(func() { w.run(ctx, src.db) })
	defer func() { stopWriting(); writing.Wait() }()
	for len(w.snapshot()) < 20 { // writes are flowing before the backup starts
		time.Sleep(5 * time.Millisecond)
	}
	before := w.snapshot()
	file := filepath.Join(traversableTempDir(t), "incidentmap.dump")
	code, out, errOut := runOpsCmd(t, "backup", file, "--data-dir", src.dataDir)
	during := w.snapshot()
	stopWriting()
	writing.Wait()
	if code != 0 || !strings.HasPrefix(out, "backup written: "+file) {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if w.err != nil {
		t.Fatalf("writer: %v", w.err)
	}
	if len(during) == len(before) {
		t.Fatalf("no incident was committed while the backup ran (%d before, %d after): the test proves nothing", len(before), len(during))
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600 (it holds reporters' contacts)", err, fi.Mode())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*tmp*")); len(leftovers) != 0 {
		t.Errorf("temporary files left beside the backup: %v", leftovers)
	}

	dst := traversableTempDir(t)
	code, out, errOut = runOpsCmd(t, "restore", file, "--data-dir", dst)
	if code != 0 || !strings.Contains(out, "restored "+file) {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	restoredCluster, err := localpg.Start(context.Background(), localpg.Options{Dir: filepath.Join(dst, "postgres")})
	if err != nil {
		t.Fatal(err)
	}
	restored, err := sql.Open("postgres", restoredCluster.DSN(embeddedDatabase))
	if err != nil {
		t.Fatal(err)
	}

	// The writes in the snapshot are a prefix of the commit order, and
	// include everything committed before the backup started.
	var got []int64
	rows, err := restored.Query(`SELECT id FROM incidents WHERE title LIKE 'written during the backup %' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		got = append(got, id)
	}
	rows.Close()
	all := w.snapshot()
	if len(got) < len(before) || len(got) > len(all) || !slices.Equal(got, all[:len(got)]) {
		t.Fatalf("restored %d written incidents, want a prefix of the %d committed that holds the %d committed before the backup began", len(got), len(all), len(before))
	}
	if len(got) == len(all) {
		t.Errorf("every write (%d) is in the backup, though writing went on after it: was the snapshot taken at the end?", len(all))
	}
	cutoff := got[len(got)-1]
	var orphans int
	if err := restored.QueryRow(`SELECT count(*) FROM incidents i FULL JOIN (SELECT * FROM audit_log WHERE user_name = 'writer') a ON a.target_id = i.id
		WHERE (i.title LIKE 'written during the backup %' OR a.id IS NOT NULL) AND (i.id IS NULL OR a.id IS NULL)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d incidents without their audit entry or entries without their incident (err %v): not one snapshot", orphans, err)
	}

	// Every table row for row: the source as of the snapshot (the
	// writer only appends, so that is everything up to the last id it
	// restored), rate_limits left out on purpose.
	var maxAudit, maxEvent int64
	restored.QueryRow(`SELECT coalesce(max(id), 0) FROM audit_log`).Scan(&maxAudit)
	restored.QueryRow(`SELECT coalesce(max(id), 0) FROM incident_events`).Scan(&maxEvent)
	srcTables, dstTables := appTables(t, src.db), appTables(t, restored)
	if !slices.Equal(srcTables, dstTables) {
		t.Fatalf("restored tables %v, want %v", dstTables, srcTables)
	}
	for _, table := range srcTables {
		if strings.HasPrefix(table, "incident_tile_cells_") {
			continue // the partitions of incident_tile_cells, checked through it
		}
		where := "true"
		switch table {
		case "incidents":
			where = fmt.Sprintf("id <= %d", cutoff)
		case "audit_log":
			where = fmt.Sprintf("id <= %d", maxAudit)
		case "incident_events":
			where = fmt.Sprintf("id <= %d", maxEvent)
		case "collection_versions":
			// Bumped by every write: its value at the snapshot is gone.
			where = "id <> 'incidents'"
		case "incident_tile_cells":
			// Sums of the incidents kept by their triggers: the source's
			// moved on with later writes, so the restored sums are checked
			// against the restored incidents instead.
			checkRestoredTileCells(t, restored)
			continue
		case "rate_limits":
			if got := tableDigest(t, restored, table, "true"); got != "0 rows, md5 " {
				t.Errorf("rate_limits restored as %s, want empty (left out of backups)", got)
			}
			continue
		}
		restoredWhere := "true"
		if table == "collection_versions" {
			restoredWhere = where
		}
		if got, want := tableDigest(t, restored, table, restoredWhere), tableDigest(t, src.db, table, where); got != want {
			t.Errorf("table %s restored as %s, want %s", table, got, want)
		}
	}
	var seqOK bool
	if err := restored.QueryRow(`SELECT last_value >= $1 FROM incidents_id_seq`, cutoff).Scan(&seqOK); err != nil || !seqOK {
		t.Errorf("incidents_id_seq behind the restored ids (err %v): new incidents would collide", err)
	}
	restored.Close()
	if err := restoredCluster.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A server on the restored data dir answers the map through its
	// public login, which exists only as a member of the restored roles'
	// grants in this fresh cluster.
	srv := startServer(t, nil, "--data-dir", dst)
	defer srv.stop(t)
	status, body := get(t, srv.URL+"/api/collections/incidents/items?limit=1")
	var page struct {
		NumberMatched int `json:"numberMatched"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("items after restore: %d %.300s", status, body)
	}
	var wantMatched int
	src.db.QueryRow(`SELECT count(*) FROM incidents WHERE id <= $1 AND status <> 'retracted'`, cutoff).Scan(&wantMatched) // the map leaves retracted ones out
	if page.NumberMatched != wantMatched {
		t.Errorf("numberMatched after restore = %d, want %d", page.NumberMatched, wantMatched)
	}
	if strings.Contains(srv.logs.String(), "database privileges") {
		t.Errorf("serve on the restored data warns about privileges:\n%s", srv.logs)
	}
}

// Backups that are truncated, altered, not archives at all, or from a
// newer schema are refused with a message that says so, before anything
// in the target changes: neither a restored database nor a fresh data dir.
func TestRestoreRefusesBadBackups(t *testing.T) {
	src := startSourceDatabase(t)
	fillEveryTable(t, src.db, 160) // photos make most of the file compressed data
	dir := traversableTempDir(t)
	good := filepath.Join(dir, "good.dump")
	if code, out, errOut := runOpsCmd(t, "backup", good, "--data-dir", src.dataDir); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := src.db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.dump")
	if code, out, errOut := runOpsCmd(t, "backup", newer, "--data-dir", src.dataDir); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(data)
	for i := len(data) / 2; i < len(data)/2+16; i++ {
		flipped[i] ^= 0xff
	}
	write := func(name string, b []byte, checksumOf string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if checksumOf != "" {
			sum, err := os.ReadFile(checksumOf + ".sha256")
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p+".sha256", sum, 0o600)
		}
		return p
	}
	// The restored target: a data dir holding the good backup.
	target := traversableTempDir(t)
	if code, out, errOut := runOpsCmd(t, "restore", good, "--data-dir", target); code != 0 {
		t.Fatalf("restore of the good backup: exit %d\n%s%s", code, out, errOut)
	}
	fingerprint := func() string {
		t.Helper()
		c, err := localpg.Start(context.Background(), localpg.Options{Dir: filepath.Join(target, "postgres")})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop(context.Background())
		db, err := sql.Open("postgres", c.DSN(embeddedDatabase))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var b strings.Builder
		for _, table := range appTables(t, db) {
			b.WriteString(table + ": " + tableDigest(t, db, table, "true") + "\n")
		}
		return b.String()
	}
	want := fingerprint()

	tests := []struct {
		name string
		file string
		want string // in the one-line error
	}{
		{"truncated, with its checksum", write("trunc.dump", data[:len(data)*2/3], good), "is damaged: its SHA-256"},
		{"truncated, no checksum", write("trunc-bare.dump", data[:len(data)*2/3], ""), "is damaged or incomplete"},
		{"bytes flipped, with its checksum", write("flip.dump", flipped, good), "is damaged: its SHA-256"},
		{"bytes flipped in the data, no checksum", write("flip-bare.dump", flipped, ""), "is damaged or incomplete"},
		{"only the header", write("head.dump", data[:200], ""), "not a readable pg_dump archive"},
		{"empty file", write("empty.dump", nil, ""), "not a readable pg_dump archive"},
		{"not an archive", write("notes.txt", []byte("SELECT 1;\n"), ""), "not a readable pg_dump archive"},
		{"missing", filepath.Join(dir, "nothing.dump"), "no such file"},
		{"newer schema", newer, fmt.Sprintf("is from schema version 99999, newer than this incidentmap knows (%d)", postgis.LatestMigration())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, force := range []bool{false, true} {
				args := []string{"restore", tt.file, "--data-dir", target}
				if force {
					args = append(args, "--force")
				}
				code, _, errOut := runOpsCmd(t, args...)
				lines := strings.Split(strings.TrimSpace(errOut), "\n")
				msg := lines[len(lines)-1]
				if code == 0 || !strings.Contains(msg, tt.want) {
					t.Errorf("restore (force %v): exit %d, last line %q; want an error containing %q\n%s", force, code, msg, tt.want, errOut)
				}
			}
			fresh := filepath.Join(dir, "fresh-"+strings.ReplaceAll(tt.name, " ", "-"))
			if code, _, _ := runOpsCmd(t, "restore", tt.file, "--data-dir", fresh); code == 0 {
				t.Errorf("restore into a fresh data dir succeeded")
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("a refused restore created the data dir %s (%v)", fresh, err)
			}
		})
	}
	if got := fingerprint(); got != want {
		t.Errorf("target changed by refused restores:\n got %s\nwant %s", got, want)
	}
	// The target is not empty: without --force the good backup is refused
	// too, saying what is there; with it, it is replaced.
	code, _, errOut := runOpsCmd(t, "restore", good, "--data-dir", target)
	if code == 0 || !strings.Contains(errOut, "is not empty") || !strings.Contains(errOut, "300 incidents") || !strings.Contains(errOut, "--force") {
		t.Errorf("restore onto a filled database: exit %d %q; want a refusal naming 300 incidents and --force", code, errOut)
	}
	if code, out, errOut := runOpsCmd(t, "restore", good, "--data-dir", target, "--force"); code != 0 {
		t.Errorf("restore --force: exit %d\n%s%s", code, out, errOut)
	}
	if got := fingerprint(); got != want {
		t.Errorf("after restore --force of the same backup:\n got %s\nwant %s", got, want)
	}
}

// With --database-url, backup and restore need no superuser: the
// application's owner login (LOGIN CREATEROLE, owner of the database; a
// DBA installed PostGIS once) backs up, restores into an empty database
// and replaces a filled one, and the public login reads the restored map
// but still not what the public role may not read.
func TestBackupRestoreAsOwner(t *testing.T) {
	src := startSourceDatabase(t) // also makes the cluster-wide roles of migration 00007
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE ROLE im_owner LOGIN CREATEROLE`,
		`CREATE ROLE im_web LOGIN IN ROLE incidentmap_public`,
		`CREATE DATABASE app_src OWNER im_owner`,
		`CREATE DATABASE app_dst OWNER im_owner`,
	} {
		if err := src.cluster.Exec(ctx, "postgres", stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	urls := map[string]string{}
	for _, name := range []string{"app_src", "app_dst"} {
		for _, ext := range []string{"postgis", "pg_trgm", "unaccent"} {
			if err := src.cluster.Exec(ctx, name, "CREATE EXTENSION "+ext); err != nil {
				t.Fatal(err)
			}
		}
		u, err := postgis.WithUser(src.cluster.DSN(name), "im_owner")
		if err != nil {
			t.Fatal(err)
		}
		urls[name] = u
	}
	if code, out, errOut := runOpsCmd(t, "migrate", "up", "--database-url", urls["app_src"]); code != 0 {
		t.Fatalf("migrate up as the owner: exit %d\n%s%s", code, out, errOut)
	}
	owner, err := sql.Open("postgres", urls["app_src"])
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	fillEveryTable(t, owner, 32)

	file := filepath.Join(traversableTempDir(t), "owner.dump")
	if code, out, errOut := runOpsCmd(t, "backup", file, "--database-url", urls["app_src"]); code != 0 {
		t.Fatalf("backup as the owner: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"restore", file, "--database-url", urls["app_dst"]},
		{"restore", file, "--database-url", urls["app_dst"], "--force"},
	} {
		if code, out, errOut := runOpsCmd(t, args...); code != 0 {
			t.Fatalf("%v as the owner: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	webURL, err := postgis.WithUser(src.cluster.DSN("app_dst"), "im_web")
	if err != nil {
		t.Fatal(err)
	}
	web, err := sql.Open("postgres", webURL)
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	var got, want int
	if err := web.QueryRow(`SELECT count(*) FROM incidents`).Scan(&got); err != nil {
		t.Fatalf("public login reads incidents after the restore: %v", err)
	}
	owner.QueryRow(`SELECT count(*) FROM incidents`).Scan(&want)
	if got != want {
		t.Errorf("public login sees %d incidents, want %d", got, want)
	}
	for _, q := range []string{`SELECT contact FROM reports`, `SELECT count(*) FROM users`, `SELECT count(*) FROM report_photos`} {
		if _, err := web.Exec(q); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("public login: %s: err = %v, want permission denied (grants restored as they were)", q, err)
		}
	}
}

// runOpsCmd runs an incidentmap command in process with an empty
// environment and returns its exit code and output.
func runOpsCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code = Run(ctx, args, func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// A URL's password reaches the client programs through PGPASSWORD, never
// their command line (visible to every user in the process list).
func TestToolConnection(t *testing.T) {
	tests := []struct {
		dsn, wantConn string
		wantEnv       []string
	}{
		{"postgres://owner:s3cr%40t@db.internal:5432/incidentmap?sslmode=verify-full", "postgres://owner@db.internal:5432/incidentmap?sslmode=verify-full", []string{"PGPASSWORD=s3cr@t"}},
		{"postgresql://owner@db.internal/incidentmap", "postgresql://owner@db.internal/incidentmap", nil},
		{"host=/run/pg user=postgres dbname=incidentmap", "host=/run/pg user=postgres dbname=incidentmap", nil},
	}
	for _, tt := range tests {
		conn, env, err := toolConnection(tt.dsn)
		if err != nil || conn != tt.wantConn || !slices.Equal(env, tt.wantEnv) {
			t.Errorf("toolConnection(%q) = %q, %q, %v; want %q, %q", tt.dsn, conn, env, err, tt.wantConn, tt.wantEnv)
		}
	}
}

// The script scan counts rows per table and reads the highest applied
// migration, and notices rows that end early.
func TestScanScript(t *testing.T) {
	tests := []struct {
		name        string
		script      string
		wantVersion int64
		wantRows    map[string]int64
		wantErr     string
	}{
		{"tables and versions", "SET x = 1;\nCOPY public.goose_db_version (id, version_id, is_applied, tstamp) FROM stdin;\n1\t0\tt\t2026-01-01\n2\t7\tt\t2026-01-01\n3\t9\tf\t2026-01-01\n\\.\n\nCOPY public.incidents (id, title) FROM stdin;\n1\tA\\ttab\n2\tB\n\\.\nCOPY public.users (id) FROM stdin;\n\\.\n",
			7, map[string]int64{"goose_db_version": 3, "incidents": 2, "users": 0}, ""},
		{"cut in the middle", "COPY public.incidents (id) FROM stdin;\n1\n2\n", 0, nil, "the rows of table incidents end early"},
		{"bad version", "COPY public.goose_db_version (id, version_id, is_applied) FROM stdin;\n1\tseven\tt\n\\.\n", 0, nil, "version_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := archiveInfo{rows: map[string]int64{}}
			err := scanScript(strings.NewReader(tt.script), &info)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || info.schemaVersion != tt.wantVersion || fmt.Sprint(info.rows) != fmt.Sprint(tt.wantRows) {
				t.Errorf("got version %d rows %v err %v; want %d %v", info.schemaVersion, info.rows, err, tt.wantVersion, tt.wantRows)
			}
		})
	}
}

// Restoring into an embedded database that a server is running on is
// refused, even with --force: the server would go on with caches of data
// that is gone.
func TestRestoreRefusesRunningEmbedded(t *testing.T) {
	src := startSourceDatabase(t) // running, as under a serve
	file := filepath.Join(traversableTempDir(t), "running.dump")
	if code, out, errOut := runOpsCmd(t, "backup", file, "--data-dir", src.dataDir); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := src.db.Exec(`INSERT INTO users (name, role, token_hash) VALUES ('carol', 'moderator', sha256('c'))`); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runOpsCmd(t, "restore", file, "--data-dir", src.dataDir, "--force")
	if code == 0 || !strings.Contains(errOut, "a server is running on the embedded database") {
		t.Errorf("restore beside a running server: exit %d %q; want a refusal", code, errOut)
	}
	var n int
	if err := src.db.QueryRow(`SELECT count(*) FROM users WHERE name = 'carol'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("carol after the refused restore: %d rows (%v), want 1", n, err)
	}
}
