package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/photo"
	"github.com/incidentmap/incidentmap/geo/photo/phototest"
)

// reportForm is the browser's report form: text fields in order, then
// files.
type reportForm struct {
	fields [][2]string
	files  []formFile
}

type formFile struct {
	name, filename, contentType string
	data                        []byte
}

// browserForm is a valid form for a report at Jabrayil (47.03, 39.40)
// with the given photos, as the map's form sends it.
func browserForm(photos ...formFile) reportForm {
	return reportForm{fields: [][2]string{
		{"lon", "47.03"},
		{"lat", "39.40"},
		{"occurred_at", "2020-10-18T04:30:00+04:00"},
		{"event_type", "Explosions/Remote violence"},
		{"sub_event_type", "Shelling/artillery/missile attack"},
		{"description", "Mortar fire heard near the villages on the Aras river before dawn."},
		{"location_name", "Jabrayil"},
		{"geo_precision", "2"},
		{"fatalities", "0"},
		{"source_url", "https://example.org/news/1"},
		{"source_url", "https://example.org/news/2"},
		{"contact", "reporter-secret@example.net"},
	}, files: photos}
}

// with returns a copy of f with field name set to value (added when
// absent).
func (f reportForm) with(name, value string) reportForm {
	out := reportForm{files: f.files}
	found := false
	for _, kv := range f.fields {
		if kv[0] == name {
			kv[1], found = value, true
		}
		out.fields = append(out.fields, kv)
	}
	if !found {
		out.fields = append(out.fields, [2]string{name, value})
	}
	return out
}

func jpegFile(filename string, data []byte) formFile {
	return formFile{"photo", filename, "image/jpeg", data}
}

// encode writes f as multipart/form-data with boundary, or a random one
// when boundary is "", and returns the body and its Content-Type.
func (f reportForm) encode(t *testing.T, boundary string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if boundary != "" {
		if err := w.SetBoundary(boundary); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range f.fields {
		if err := w.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range f.files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, file.name, file.filename))
		h.Set("Content-Type", file.contentType)
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(file.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), w.FormDataContentType()
}

// submitForm posts f to /api/reports with a random boundary.
func submitForm(t *testing.T, ts *testServer, f reportForm, headers ...string) response {
	t.Helper()
	body, contentType := f.encode(t, "")
	return do(t, http.MethodPost, ts.URL+"/api/reports", contentType, body, headers...)
}

// createdReport is the 201 answer to a submission.
type createdReport struct {
	ID        int64
	Status    string
	PhotoHint *struct {
		Lon, Lat    *float64
		TakenAt     *time.Time `json:"taken_at"`
		DistanceM   *float64   `json:"distance_m"`
		PointAgrees *bool      `json:"point_agrees"`
		Photo       int
	} `json:"photo_hint"`
}

func mustCreate(t *testing.T, res response) createdReport {
	t.Helper()
	if res.status != http.StatusCreated {
		t.Fatalf("submit = %d %s, want 201", res.status, res.body)
	}
	var c createdReport
	if err := json.Unmarshal(res.body, &c); err != nil || c.ID <= 0 {
		t.Fatalf("201 answer %s: %v", res.body, err)
	}
	return c
}

// errorFields lists the fields named by a 422 answer.
func errorFields(t *testing.T, res response) []string {
	t.Helper()
	var body struct{ Errors []geo.FieldError }
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatalf("error answer %d is not JSON: %s", res.status, res.body)
	}
	var fields []string
	for _, e := range body.Errors {
		fields = append(fields, e.Field)
	}
	return fields
}

// moderatorReport is a report as GET /api/reports/{id} shows it.
type moderatorReport struct {
	ID         int64
	Properties struct {
		Contact   string
		PhotoHint map[string]any `json:"photo_hint"`
		Photos    []struct {
			Position     int
			MediaType    string `json:"media_type"`
			Width        int
			Height       int
			GPS          []float64
			TakenAt      *time.Time `json:"taken_at"`
			Href         string
			OriginalHref string `json:"original_href"`
		}
	}
}

// The map's form with two photos: the JPEG's EXIF position and time
// become a hint for the moderator, both photos are stored, and the copy
// made for publication has no metadata while the original stays intact
// for moderators.
func TestMultipartReportWithPhotos(t *testing.T) {
	ts := newTestServer(t)
	exif := phototest.EXIF{Lat: 39.3985, Lon: 47.0260, HasGPS: true, // about 400 m from the report's point
		TakenAt: "2020:10:18 04:12:00", Offset: "+04:00", Make: "PhoneCam", Orientation: 1}
	jpg := phototest.JPEGWithEXIF(64, 48, exif)
	png := phototest.PNG(32, 24)
	form := browserForm(jpegFile("IMG_0001.jpg", jpg), formFile{"photo", "screenshot.png", "image/png", png})

	created := mustCreate(t, submitForm(t, ts, form))
	h := created.PhotoHint
	if created.Status != geo.ReportPending || h == nil {
		t.Fatalf("answer = %+v, want pending with a photo hint", created)
	}
	if h.Lon == nil || h.Lat == nil || math.Abs(*h.Lon-exif.Lon) > 1e-6 || math.Abs(*h.Lat-exif.Lat) > 1e-6 {
		t.Errorf("hint position = %v, %v; want %v, %v", deref(h.Lon), deref(h.Lat), exif.Lon, exif.Lat)
	}
	if h.DistanceM == nil || *h.DistanceM < 100 || *h.DistanceM > 1000 || h.PointAgrees == nil || !*h.PointAgrees {
		t.Errorf("hint distance %v, agrees %v; want about 400 m, agreeing", deref(h.DistanceM), deref(h.PointAgrees))
	}
	if want := time.Date(2020, 10, 18, 0, 12, 0, 0, time.UTC); h.TakenAt == nil || !h.TakenAt.Equal(want) {
		t.Errorf("hint taken_at = %v, want %v", h.TakenAt, want)
	}
	if h.Photo != 1 {
		t.Errorf("hint photo = %d, want 1", h.Photo)
	}
	if n := countRows(t, ts, "report_photos"); n != 2 {
		t.Errorf("photos stored = %d, want 2", n)
	}

	token := addUser(t, ts, "mod", geo.RoleModerator)
	res := do(t, http.MethodGet, fmt.Sprintf("%s/api/reports/%d", ts.URL, created.ID), "", "", bearer(token))
	if res.status != http.StatusOK {
		t.Fatalf("GET report = %d %s", res.status, res.body)
	}
	var rep moderatorReport
	if err := json.Unmarshal(res.body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Properties.Contact != "reporter-secret@example.net" || rep.Properties.PhotoHint == nil {
		t.Errorf("moderator view lacks the contact or hint: %s", res.body)
	}
	photos := rep.Properties.Photos
	if len(photos) != 2 {
		t.Fatalf("moderator view has %d photos, want 2: %s", len(photos), res.body)
	}
	for i, want := range []struct {
		mediaType string
		w, h      int
		gps       bool
	}{{"image/jpeg", 64, 48, true}, {"image/png", 32, 24, false}} {
		p := photos[i]
		base := fmt.Sprintf("%s/api/reports/%d/photos/%d", ts.URL, created.ID, i+1)
		if p.Position != i+1 || p.MediaType != want.mediaType || p.Width != want.w || p.Height != want.h ||
			p.Href != base || p.OriginalHref != base+"?original=true" || (p.GPS != nil) != want.gps {
			t.Errorf("photo %d = %+v", i+1, p)
		}
	}
	if g := photos[0].GPS; len(g) != 2 || math.Abs(g[0]-exif.Lon) > 1e-6 || math.Abs(g[1]-exif.Lat) > 1e-6 {
		t.Errorf("photo 1 gps = %v, want [%v %v]", g, exif.Lon, exif.Lat)
	}

	// The stripped copy: no EXIF at all, upright, re-encoded.
	stripped := do(t, http.MethodGet, photos[0].Href, "", "", bearer(token))
	if stripped.status != http.StatusOK || stripped.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET photo 1 = %d %q", stripped.status, stripped.header.Get("Content-Type"))
	}
	for _, s := range []string{"Exif", "PhoneCam", "2020:10:18"} {
		if bytes.Contains(stripped.body, []byte(s)) {
			t.Errorf("stripped photo 1 contains %q", s)
		}
	}
	info, err := photo.Inspect(stripped.body, photo.DefaultLimits())
	if err != nil {
		t.Fatalf("stripped photo 1: %v", err)
	}
	if info.GPS != nil || info.TakenAt != nil || info.Format != photo.FormatJPEG || info.Width != 64 || info.Height != 48 {
		t.Errorf("stripped photo 1 = %+v, want a plain 64x48 JPEG", info)
	}
	if bytes.Equal(stripped.body, jpg) {
		t.Error("the stripped photo is the upload itself")
	}
	if res := do(t, http.MethodGet, photos[1].Href, "", "", bearer(token)); res.status != http.StatusOK ||
		res.header.Get("Content-Type") != "image/png" {
		t.Errorf("GET photo 2 = %d %q, want image/png", res.status, res.header.Get("Content-Type"))
	}

	// The original, byte for byte, for moderators only.
	original := do(t, http.MethodGet, photos[0].OriginalHref, "", "", bearer(token))
	if original.status != http.StatusOK || original.header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(original.body, jpg) {
		t.Errorf("GET original photo 1 = %d %q, %d bytes; want the %d uploaded bytes",
			original.status, original.header.Get("Content-Type"), len(original.body), len(jpg))
	}
	for _, href := range []string{photos[0].Href, photos[0].OriginalHref} {
		res := do(t, http.MethodGet, href, "", "")
		if res.status != http.StatusUnauthorized || bytes.Contains(res.body, []byte("Exif")) {
			t.Errorf("GET %s without a token = %d (%d bytes), want 401", href, res.status, len(res.body))
		}
	}
}

func TestMultipartPhotoFarFromPoint(t *testing.T) {
	ts := newTestServer(t)
	far := phototest.JPEGWithEXIF(16, 16, phototest.EXIF{Lat: 39.85, Lon: 47.03, HasGPS: true}) // 50 km north
	h := mustCreate(t, submitForm(t, ts, browserForm(jpegFile("far.jpg", far)))).PhotoHint
	if h == nil || h.PointAgrees == nil || *h.PointAgrees || h.DistanceM == nil || math.Abs(*h.DistanceM-50_000) > 1000 {
		t.Fatalf("hint = %+v, want 50 km away, not agreeing", h)
	}
	if h.TakenAt != nil {
		t.Errorf("hint taken_at = %v for a photo without a time", h.TakenAt)
	}
}

func TestMultipartRejects(t *testing.T) {
	ts := newTestServer(t)
	small := phototest.JPEG(8, 8)
	sixPhotos := make([]formFile, 6)
	for i := range sixPhotos {
		sixPhotos[i] = jpegFile(fmt.Sprintf("p%d.jpg", i), small)
	}
	// Over the 10 MB limit by one byte, and last in the form, so the
	// server's early answer leaves almost nothing of the body unread.
	huge := append(phototest.JPEG(8, 8), make([]byte, 10<<20+1-len(small))...)
	tests := []struct {
		name   string
		form   reportForm
		status int
		field  string // for 422: a field named in errors
	}{
		{"text named .jpg", browserForm(jpegFile("evidence.jpg", []byte("these are my notes, not a photo\n"))), 415, ""},
		{"html as second photo", browserForm(jpegFile("a.jpg", small), jpegFile("b.jpg", []byte("<!doctype html><script>alert(1)</script>"))), 415, ""},
		{"svg", browserForm(jpegFile("a.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>`))), 415, ""},
		{"gif/html polyglot", browserForm(jpegFile("a.gif", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00/*<html><script>alert(1)</script>*/;"))), 415, ""},
		{"broken jpeg", browserForm(jpegFile("cut.jpg", small[:len(small)/2])), 422, "photo[0]"},
		{"six photos", browserForm(sixPhotos...), 422, "photo"},
		{"photo over 10 MB", browserForm(jpegFile("big.jpg", huge)), 413, ""},
		{"unknown field", browserForm().with("nickname", "anon"), 422, "nickname"},
		{"status field", browserForm().with("status", "verified"), 422, "status"},
		{"latitude twice", reportForm{fields: append(browserForm().fields, [2]string{"lat", "40"})}, 422, "lat"},
		{"latitude not a number", browserForm().with("lat", "39,40"), 422, "geometry.coordinates"},
		{"fatalities not a number", browserForm().with("fatalities", "many"), 422, "properties.fatalities"},
		{"missing description", browserForm().with("description", ""), 422, "properties.description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := submitForm(t, ts, tt.form)
			if res.status != tt.status {
				t.Fatalf("status = %d %s, want %d", res.status, res.body, tt.status)
			}
			if tt.field == "" {
				return
			}
			fields := errorFields(t, res)
			found := false
			for _, f := range fields {
				// Unknown form fields are named quoted ("nickname").
				found = found || f == tt.field || f == `"`+tt.field+`"`
			}
			if !found {
				t.Errorf("errors name %q, want %q: %s", fields, tt.field, res.body)
			}
		})
	}
	if n := countRows(t, ts, "reports"); n != 0 {
		t.Errorf("rejected forms stored %d reports", n)
	}
}

// A browser retrying a form encodes it again with a new boundary; with the
// same Idempotency-Key that is the same submission, not a conflict.
func TestMultipartIdempotentRetry(t *testing.T) {
	ts := newTestServer(t)
	jpg := phototest.JPEGWithEXIF(16, 16, phototest.EXIF{Lat: 39.40, Lon: 47.03, HasGPS: true})
	form := browserForm(jpegFile("a.jpg", jpg), jpegFile("b.jpg", phototest.JPEG(8, 8)))
	key := "Idempotency-Key: form-retry-1"
	var ids []int64
	for _, boundary := range []string{"first-boundary-0123456789", "retry-boundary-9876543210"} {
		body, contentType := form.encode(t, boundary)
		res := do(t, http.MethodPost, ts.URL+"/api/reports", contentType, body, key)
		ids = append(ids, mustCreate(t, res).ID)
		if len(ids) == 2 && res.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry not marked as replayed")
		}
	}
	if ids[0] != ids[1] {
		t.Errorf("retry got report %d, want %d", ids[1], ids[0])
	}
	if n, p := countRows(t, ts, "reports"), countRows(t, ts, "report_photos"); n != 1 || p != 2 {
		t.Errorf("stored %d reports, %d photos; want 1, 2", n, p)
	}
	// Another photo under the same key is another submission: a conflict.
	other := browserForm(jpegFile("a.jpg", jpg), jpegFile("b.jpg", phototest.JPEG(9, 9)))
	if res := submitForm(t, ts, other, key); res.status != http.StatusConflict {
		t.Errorf("same key, other photo = %d %s, want 409", res.status, res.body)
	}
}

// deref shows a pointer's value in messages.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// The moderation queue lists each report's photos, not only the report page.
func TestQueueListsPhotos(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	mustCreate(t, submitForm(t, ts, browserForm(jpegFile("a.jpg", phototest.JPEG(64, 48)))))
	queue := do(t, http.MethodGet, ts.URL+"/api/reports?status=pending", "", "", bearer(token))
	var fc struct {
		Features []struct {
			Properties struct{ Photos []map[string]any }
		}
	}
	json.Unmarshal(queue.body, &fc)
	if len(fc.Features) != 1 || len(fc.Features[0].Properties.Photos) != 1 {
		t.Errorf("queue = %.300s, want one report with one photo", queue.body)
	}
}
