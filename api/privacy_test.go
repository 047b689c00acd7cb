package api_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/photo"
	"github.com/incidentmap/incidentmap/geo/photo/phototest"
)

// syncBuffer collects the server's log output, written from many
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// privateNeedles lists the forms in which a reporter's contact and their
// photo's EXIF data could show up in text: the values as given, decimal
// degrees printed, truncated and rounded in the usual ways, the
// degrees-minutes-seconds the file stores, the capture time in EXIF,
// RFC 3339 and Unix forms, and the camera make.
//
// Bare times of day and three-decimal degrees are left out on purpose:
// they would match the server's own timestamps now and then.
func privateNeedles(contact string, e phototest.EXIF) []string {
	user, _, _ := strings.Cut(contact, "@")
	needles := []string{contact, user, e.Make}
	for _, v := range []float64{e.Lat, e.Lon} {
		d := phototest.DMS(v)
		seconds := float64(d[2][0]) / float64(d[2][1])
		needles = append(needles,
			strconv.FormatFloat(v, 'f', -1, 64),                    // 39.412345
			strconv.FormatFloat(math.Trunc(v*1e5)/1e5, 'f', 5, 64), // 39.41234 (also matches 39.412344999…)
			fmt.Sprintf("%.5f", v),
			fmt.Sprintf("%.4f", v), // 39.4123
			fmt.Sprintf(`%d°%d'%s"`, d[0][0], d[1][0], strconv.FormatFloat(seconds, 'f', -1, 64)),
			strconv.FormatUint(uint64(d[2][0]), 10), // the seconds' RATIONAL numerator
		)
	}
	taken, err := time.Parse("2006:01:02 15:04:05-07:00", e.TakenAt+e.Offset)
	if err != nil {
		panic(err)
	}
	needles = append(needles, e.TakenAt,
		taken.Format("2006:01:02"), taken.Format("2006-01-02"), taken.UTC().Format("2006-01-02"),
		taken.Format("2006-01-02T15:04:05"), taken.UTC().Format("2006-01-02T15:04:05"),
		strconv.FormatInt(taken.Unix(), 10))
	if e.Altitude != nil {
		needles = append(needles, strconv.FormatFloat(*e.Altitude, 'f', -1, 64),
			strconv.FormatFloat(*e.Altitude*100, 'f', 0, 64)) // the RATIONAL numerator
	}
	slices.Sort(needles)
	return slices.Compact(needles)
}

// assertNoLeak fails for every needle in text (case-insensitively).
func assertNoLeak(t *testing.T, where, text string, needles []string) {
	t.Helper()
	if len(where) > 100 {
		where = where[:100] + "…"
	}
	lower := strings.ToLower(text)
	for _, n := range needles {
		if i := strings.Index(lower, strings.ToLower(n)); i >= 0 {
			from, to := max(0, i-60), min(len(text), i+len(n)+60)
			t.Errorf("%s leaks %q: %q", where, n, text[from:to])
		}
	}
}

// responseText is everything a client receives: status, headers, body.
func responseText(res response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", res.status)
	for k, vs := range res.header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.Write(res.body)
	return b.String()
}

// routeURL fills in a route's parameters: the report, its incident, photo
// 1, and "1" for anything this test does not know yet.
func routeURL(path string, reportID, incidentID int64) string {
	if strings.HasSuffix(path, "/*") {
		return strings.TrimSuffix(path, "*")
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, ":") {
			continue
		}
		switch {
		case p == ":collectionId":
			parts[i] = "incidents"
		case p == ":featureId", p == ":id" && parts[i-1] == "incidents":
			parts[i] = strconv.FormatInt(incidentID, 10)
		case p == ":id" && parts[i-1] == "reports":
			parts[i] = strconv.FormatInt(reportID, 10)
		default:
			parts[i] = "1"
		}
	}
	return strings.Join(parts, "/")
}

// The privacy promise: a reporter's contact and their photos' EXIF data
// (position, time, camera) reach moderators only. This submits a report
// with both, verifies it, then reads every public endpoint, the live
// stream and the server's logs, and looks for them in every form they
// might take.
func TestPrivacyNothingLeaks(t *testing.T) {
	const contact = "whistleblower-7f3a@example.net"
	// The photo was taken 3 km from the reported point, so its position
	// is told apart from the report's own (47.03, 39.40), which is public.
	exif := phototest.EXIF{Lat: 39.412345, Lon: 47.098765, HasGPS: true, Altitude: new(1234.56),
		TakenAt: "2019:07:23 17:42:51", Offset: "+05:30", Orientation: 1, Make: "SecretCam"}
	needles := privateNeedles(contact, exif)

	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			// The server's own clock readings: dropped so that they
			// cannot match a needle by chance.
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == "duration") {
				return slog.Attr{}
			}
			return a
		},
	}))
	// Registered before the server, so it runs after the server's cleanup,
	// which waits for every handler: every log line has been written.
	t.Cleanup(func() {
		text := logs.String()
		if !strings.Contains(text, "path=/api/reports") || !strings.Contains(text, "status=201") {
			t.Errorf("the captured logs miss the submission; is the logger wired? %s", text)
		}
		assertNoLeak(t, "server logs", text, needles)
	})
	ts := newTestServerOn(t, pgtestNewDB(t), api.Config{Logger: logger})
	events, stop := openEvents(t, ts.URL)
	defer stop()

	jpg := phototest.JPEGWithEXIF(64, 48, exif)
	form := browserForm(jpegFile("IMG_4711.jpg", jpg), formFile{"photo", "map.png", "image/png", phototest.PNG(16, 16)}).
		with("contact", contact)
	res := submitForm(t, ts, form)
	created := mustCreate(t, res)
	// The submitter is told what their own photo says; nobody else is.
	mustShow(t, "the submitter's 201 answer", string(res.body), "39.41234", "47.09876", "2019-07-23")

	token := addUser(t, ts, "mod", geo.RoleModerator)
	reportURL := fmt.Sprintf("%s/api/reports/%d", ts.URL, created.ID)
	mod := do(t, http.MethodGet, reportURL, "", "", bearer(token))
	if mod.status != http.StatusOK {
		t.Fatalf("moderator GET report = %d %s", mod.status, mod.body)
	}
	// Moderators do see it all, in forms the needles match: a leak would
	// be caught.
	mustShow(t, "the moderator's view", string(mod.body), contact, "39.41234", "47.09876", "2019-07-23")
	for _, s := range []string{contact, "39.41234", "47.09876", "2019-07-23"} {
		if !slices.Contains(needles, s) {
			t.Fatalf("%q is not among the needles %q", s, needles)
		}
	}

	const title = "Shelling near Jabrayil"
	verify := do(t, http.MethodPost, reportURL+"/verify", "application/json", `{"title": "`+title+`"}`, bearer(token))
	if verify.status != http.StatusOK {
		t.Fatalf("verify = %d %s", verify.status, verify.body)
	}
	incidentID := int64(verify.json(t)["incident_id"].(float64))

	// The live stream, as it was open while the report was verified, and
	// as a client resuming from the start gets it from the database.
	e := nextEvent(t, events, 10*time.Second)
	if e.event != "incident.created" || !strings.Contains(e.data, title) {
		t.Fatalf("event = %+v, want incident.created with the incident", e)
	}
	assertNoLeak(t, "SSE event", fmt.Sprintf("id: %s\nevent: %s\ndata: %s", e.id, e.event, e.data), needles)
	resumed, stopResumed := openEvents(t, ts.URL, "Last-Event-ID: 0")
	defer stopResumed()
	if e := nextEvent(t, resumed, 10*time.Second); !strings.Contains(e.data, title) {
		t.Errorf("resumed stream's event = %+v, want the incident", e)
	} else {
		assertNoLeak(t, "resumed SSE event", e.data, needles)
	}

	// Anonymous requests for the report get the same 401 whether or not
	// it exists, and nothing of it.
	anon := do(t, http.MethodGet, reportURL, "", "")
	missing := do(t, http.MethodGet, fmt.Sprintf("%s/api/reports/%d", ts.URL, created.ID+1000), "", "")
	withoutID := func(r response) string {
		return strings.ReplaceAll(string(r.body), r.header.Get("X-Request-Id"), "")
	}
	if anon.status != http.StatusUnauthorized || withoutID(anon) != withoutID(missing) {
		t.Errorf("anonymous GET report = %d %s; for a missing report %d %s; want the same 401",
			anon.status, anon.body, missing.status, missing.body)
	}
	assertNoLeak(t, "anonymous GET /api/reports/{id}", responseText(anon), needles)
	if strings.Contains(string(anon.body), "Mortar") {
		t.Errorf("anonymous GET report shows the description: %s", anon.body)
	}

	// Every public endpoint, with the verified incident in it.
	items := "/api/collections/incidents/items"
	public := []string{
		"/api", "/api/", "/api/conformance", "/api/collections", "/api/collections/incidents",
		items, items + "?properties=" + url.QueryEscape(strings.Join(geo.IncidentProperties(), ",")),
		items + "?properties=notes,location_name,sources,report_id",
		items + "?limit=1", items + "?status=verified,disputed,retracted",
		fmt.Sprintf("%s/%d", items, incidentID),
		"/api/openapi", "/api/docs", "/healthz", "/readyz", "/metrics", "/config.json",
	}
	seen := map[string]bool{}
	for _, path := range public {
		seen[path] = true
		res := do(t, http.MethodGet, ts.URL+path, "", "")
		if res.status != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, res.status, res.body)
		}
		assertNoLeak(t, "GET "+path, responseText(res), needles)
	}
	if res := do(t, http.MethodGet, fmt.Sprintf("%s%s/%d", ts.URL, items, incidentID), "", ""); !strings.Contains(string(res.body), title) {
		t.Errorf("the public incident is not the verified report: %s", res.body)
	}
	// Full-text search does not find the incident by what is private.
	for _, q := range []string{"whistleblower", "SecretCam", contact} {
		target := items + "?q=" + url.QueryEscape(q)
		p := getItems(t, ts, target)
		if len(p.fc.Features) != 0 {
			t.Errorf("GET %s finds %d incidents", target, len(p.fc.Features))
		}
	}
	// And whatever else is routed, now or later, asked anonymously: public
	// routes answer, the others refuse (401, or 429 once this client has
	// failed to sign in too often) without leaking either.
	srv := api.New(api.Config{Logger: quietLogger()}, api.Deps{})
	for _, r := range srv.Routes() {
		path := routeURL(r.Path, created.ID, incidentID)
		if r.Method != http.MethodGet || seen[path] || path == "/api/events" || strings.HasSuffix(r.Path, "/*") && path != "/" {
			continue // SSE is read above; other catch-alls serve 404s
		}
		seen[path] = true
		res := do(t, http.MethodGet, ts.URL+path, "", "")
		if res.status == http.StatusInternalServerError {
			t.Errorf("GET %s = %d %s", path, res.status, res.body)
		}
		assertNoLeak(t, "GET "+path+" (route "+r.Path+")", responseText(res), needles)
	}
	for _, path := range []string{"/api/reports/%d/photos/1?original=true", "/api/reports?status=verified"} {
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, created.ID)
		}
		res := do(t, http.MethodGet, ts.URL+path, "", "")
		if res.status != http.StatusUnauthorized && res.status != http.StatusTooManyRequests {
			t.Errorf("anonymous GET %s = %d, want 401", path, res.status)
		}
		assertNoLeak(t, "anonymous GET "+path, responseText(res), needles)
	}

	// No public route serves photos today: /api/reports/{id}/photos/{n}
	// needs a moderator and incidents carry no photo links. The stripped
	// copy is the one meant for publication, so it is held to the same
	// standard here, fetched as a moderator.
	stripped := do(t, http.MethodGet, reportURL+"/photos/1", "", "", bearer(token))
	if stripped.status != http.StatusOK {
		t.Fatalf("GET stripped photo = %d %s", stripped.status, stripped.body)
	}
	assertNoLeak(t, "the stripped photo", string(stripped.body), needles)
	if bytes.Contains(stripped.body, []byte("Exif")) {
		t.Error("the stripped photo has an Exif segment")
	}
	if info, err := photo.Inspect(stripped.body, photo.DefaultLimits()); err != nil || info.GPS != nil || info.TakenAt != nil {
		t.Errorf("stripped photo: %+v, %v; want no GPS and no time", info, err)
	}
}

// mustShow fails unless text contains each of subs.
func mustShow(t *testing.T, where, text string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(text, sub) {
			t.Errorf("%s does not show %q: %s", where, sub, text)
		}
	}
}
