package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/photo"
)

// Body limits of report submissions.
const (
	maxReportJSON      = 64 << 10          // a report without photos
	maxReportMultipart = 52 << 20          // five 10 MB photos plus fields
	maxIdempotencyKey  = 200               // characters
	maxFormFieldBytes  = maxReportJSON / 2 // any one text field of the form
)

// ReportStore stores submitted reports.
type ReportStore interface {
	geo.ReportSubmitter
	ReceiptStore
}

// reportShape is the only JSON a report may be.
var reportShape = jsonShape{
	"":         {"type", "geometry", "properties"},
	"geometry": {"type", "coordinates"},
	"properties": {"occurred_at", "event_type", "sub_event_type", "description", "location_name",
		"geo_precision", "fatalities", "source_urls", "contact"},
}

// reportFeature is a report as GeoJSON.
type reportFeature struct {
	Type     string `json:"type"`
	Geometry *struct {
		Type        string            `json:"type"`
		Coordinates []json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties *reportProperties `json:"properties"`
}

type reportProperties struct {
	OccurredAt   string   `json:"occurred_at"`
	EventType    string   `json:"event_type"`
	SubEventType string   `json:"sub_event_type"`
	Description  string   `json:"description"`
	LocationName string   `json:"location_name"`
	GeoPrecision *int     `json:"geo_precision"`
	Fatalities   *int     `json:"fatalities"`
	SourceURLs   []string `json:"source_urls"`
	Contact      string   `json:"contact"`
}

// toReport converts the decoded input, collecting field errors.
func (f reportFeature) toReport(v *geo.ValidationError) *geo.Report {
	r := &geo.Report{}
	if f.Type != "Feature" {
		v.Add("type", `must be "Feature"`)
	}
	switch {
	case f.Geometry == nil:
		v.Add("geometry", "required: a GeoJSON Point")
	case f.Geometry.Type != "Point":
		v.Add("geometry.type", `must be "Point"`)
	case len(f.Geometry.Coordinates) != 2:
		v.Add("geometry.coordinates", "want [longitude, latitude] (2D points only), got %d numbers", len(f.Geometry.Coordinates))
	default:
		for i, raw := range f.Geometry.Coordinates {
			// A bare JSON number only: strings like "47.03" are not numbers.
			text := string(raw)
			x, err := strconv.ParseFloat(text, 64)
			if err != nil || text == "" || !(text[0] == '-' || text[0] >= '0' && text[0] <= '9') {
				v.Add("geometry.coordinates", "%s is not a finite number", quoteForMessage(text))
				break
			}
			r.Point[i] = x
		}
	}
	if f.Properties == nil {
		v.Add("properties", "required")
		return r
	}
	p := f.Properties
	if p.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339, p.OccurredAt)
		if err != nil {
			v.Add("properties.occurred_at", "want an RFC 3339 time such as 2020-10-18T04:00:00+04:00")
		} else {
			r.OccurredAt = t
		}
	}
	r.EventType, r.SubEventType = p.EventType, p.SubEventType
	r.Description, r.LocationName, r.Contact = p.Description, p.LocationName, p.Contact
	if p.GeoPrecision != nil {
		r.GeoPrecision = geo.GeoPrecision(*p.GeoPrecision)
		if *p.GeoPrecision == 0 {
			r.GeoPrecision = -1 // explicit 0 is out of range, not "default"
		}
	}
	r.Fatalities = p.Fatalities
	r.SourceURLs = p.SourceURLs
	return r
}

// tooLarge is the 413 of a body over limit bytes.
func tooLarge(what string, limit int64) error {
	return refuse(errBodyTooLarge,
		fmt.Sprintf("%s may be at most %d KiB", what, limit>>10))
}

// submitReport handles POST /api/reports (JSON or multipart/form-data).
func (s *Server) submitReport(c echo.Context) (err error) {
	defer func() { s.metrics.reports.WithLabelValues(reportOutcome(c, err)).Inc() }()
	ctx, cancel := s.requestContext(c)
	defer cancel()
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return fieldError("Idempotency-Key", "at most %d printable ASCII characters", maxIdempotencyKey)
	}
	mediaType, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	var (
		report *geo.Report
		hash   []byte
	)
	switch {
	case err == nil && (mediaType == mediaJSON || mediaType == mediaGeoJSON):
		if err := checkCharset(params); err != nil {
			return err
		}
		if c.Request().ContentLength > maxReportJSON {
			// Answer from the header: the client need not send 10 MB to learn.
			return tooLarge("a JSON report", maxReportJSON)
		}
		report, hash, err = readJSONReport(c.Request().Body)
	case err == nil && mediaType == "multipart/form-data":
		report, hash, err = s.readMultipartReport(ctx, c.Request().Body, params["boundary"])
	default:
		return refuse(errMediaType,
			"send application/json (a GeoJSON Feature) or multipart/form-data")
	}
	if err != nil {
		return err
	}
	if err := report.Validate(time.Now()); err != nil {
		return err
	}
	sub := geo.Submission{Report: report, IdempotencyKey: key, RequestHash: hash}
	replayed, err := geo.SubmitReport(ctx, s.deps.Reports, sub, c.RealIP(), s.cfg.ReportRate)
	var limited *geo.RateLimitError
	if errors.As(err, &limited) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(limited.RetryAfter.Seconds()))))
		return refuse(geo.ErrRateLimited, limited.Error())
	}
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	location := fmt.Sprintf("/api/reports/%d", report.ID)
	c.Response().Header().Set(echo.HeaderLocation, location)
	token, err := s.deps.Reports.ReceiptToken(ctx, report.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{
		"id":         report.ID,
		"status_url": receiptLink(report.ID, token), // the receipt's "check status" link (receipt.go)
		"status":     report.Status,
		"photo_hint": report.PhotoHint,
		"message":    "Thank you. Your report is pending review by a moderator; it is not public until verified.",
	})
}

// reportOutcome classifies a submission for metrics.
func reportOutcome(c echo.Context, err error) string {
	var httpErr *echo.HTTPError
	switch {
	case err == nil && c.Response().Header().Get("Idempotent-Replayed") != "":
		return "replayed"
	case err == nil:
		return "accepted"
	case errors.As(err, &httpErr) && httpErr.Code == http.StatusTooManyRequests:
		return "rate_limited"
	case errors.Is(err, geo.ErrInvalid), errors.As(err, &httpErr) && httpErr.Code < 500:
		return "invalid"
	}
	return "failed"
}

func readJSONReport(body io.Reader) (*geo.Report, []byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxReportJSON+1))
	if err != nil {
		return nil, nil, bodyReadError(err)
	}
	if len(data) > maxReportJSON {
		return nil, nil, refuse(errBodyTooLarge, fmt.Sprintf("a JSON report is at most %d KB", maxReportJSON>>10))
	}
	var f reportFeature
	if err := decodeStrict(data, reportShape, &f); err != nil {
		return nil, nil, err
	}
	v := &geo.ValidationError{}
	r := f.toReport(v)
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(data)
	return r, sum[:], nil
}

// bodyReadError turns a body read failure into the right answer: 413 for
// a body over the server's limit.
func bodyReadError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return refuse(errBodyTooLarge, fmt.Sprintf("body over %d bytes", maxErr.Limit))
	}
	return refuse(errUnreadableBody, "could not read the request body")
}

// formFields are the text fields of the browser's report form; each maps
// to a JSON property (lon and lat to the geometry).
var formFields = []string{"lon", "lat", "occurred_at", "event_type", "sub_event_type", "description",
	"location_name", "geo_precision", "fatalities", "source_url", "contact"}

// readMultipartReport reads the browser form: text fields plus up to
// MaxPhotos files named "photo". Photos are checked from their bytes, their
// EXIF location and time become a hint, and a stripped copy is made. The
// hash covers the fields and files, not the boundary, so a browser's retry
// of the same form matches.
func (s *Server) readMultipartReport(ctx context.Context, body io.Reader, boundary string) (*geo.Report, []byte, error) {
	if boundary == "" {
		return nil, nil, fieldError("body", "multipart body without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	fields := map[string][]string{}
	var photos [][]byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, bodyReadError(err)
		}
		name := part.FormName()
		switch {
		case name == "photo":
			if len(photos) == geo.MaxPhotos {
				return nil, nil, fieldError("photo", "at most %d photos", geo.MaxPhotos)
			}
			data, err := io.ReadAll(io.LimitReader(part, photo.DefaultLimits().MaxBytes+1))
			if err != nil {
				return nil, nil, bodyReadError(err)
			}
			if int64(len(data)) > photo.DefaultLimits().MaxBytes {
				return nil, nil, refuse(errBodyTooLarge,
					fmt.Sprintf("photo %d is over %d MB", len(photos)+1, photo.DefaultLimits().MaxBytes>>20))
			}
			photos = append(photos, data)
		case contains(formFields, name):
			data, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
			if err != nil {
				return nil, nil, bodyReadError(err)
			}
			if len(data) > maxFormFieldBytes {
				return nil, nil, fieldError(name, "too long")
			}
			if name != "source_url" && len(fields[name]) > 0 {
				return nil, nil, fieldError(name, "given more than once")
			}
			fields[name] = append(fields[name], string(data))
		default:
			return nil, nil, fieldError(joinPath("", name), "unknown form field")
		}
	}
	r, err := reportFromForm(fields)
	if err != nil {
		return nil, nil, err
	}
	if err := s.attachPhotos(ctx, r, photos); err != nil {
		return nil, nil, err
	}
	return r, formHash(fields, photos), nil
}

func reportFromForm(fields map[string][]string) (*geo.Report, error) {
	one := func(name string) string {
		if v := fields[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	v := &geo.ValidationError{}
	f := reportFeature{Type: "Feature", Properties: &reportProperties{
		OccurredAt: one("occurred_at"), EventType: one("event_type"), SubEventType: one("sub_event_type"),
		Description: one("description"), LocationName: one("location_name"), Contact: one("contact"),
	}}
	f.Geometry = &struct {
		Type        string            `json:"type"`
		Coordinates []json.RawMessage `json:"coordinates"`
	}{Type: "Point", Coordinates: []json.RawMessage{json.RawMessage(strings.TrimSpace(one("lon"))), json.RawMessage(strings.TrimSpace(one("lat")))}}
	for _, u := range fields["source_url"] {
		if u = strings.TrimSpace(u); u != "" {
			f.Properties.SourceURLs = append(f.Properties.SourceURLs, u)
		}
	}
	for name, dst := range map[string]**int{"geo_precision": &f.Properties.GeoPrecision, "fatalities": &f.Properties.Fatalities} {
		if s := strings.TrimSpace(one(name)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				v.Add("properties."+name, "not a whole number")
				continue
			}
			*dst = &n
		}
	}
	r := f.toReport(v)
	return r, v.Err()
}

// attachPhotos inspects, strips and attaches photos, and derives the
// location/time hint from the first photo with EXIF GPS. Re-encoding a
// large photo takes seconds and hundreds of MB, so only a few run at once.
func (s *Server) attachPhotos(ctx context.Context, r *geo.Report, photos [][]byte) error {
	if len(photos) > 0 {
		select {
		case s.photoSlots <- struct{}{}:
			defer func() { <-s.photoSlots }()
		case <-ctx.Done():
			return fmt.Errorf("wait to process photos: %w", geo.ErrUnavailable)
		}
	}
	for i, data := range photos {
		info, err := photo.Inspect(data, photo.DefaultLimits())
		if err != nil {
			field := fmt.Sprintf("photo[%d]", i)
			if errors.Is(err, photo.ErrTooLarge) {
				return refuse(errBodyTooLarge, field+": "+err.Error())
			}
			if errors.Is(err, photo.ErrUnsupportedFormat) {
				// Not a photo at all (SVG, HTML, GIF): a media type we do
				// not take, unlike a broken JPEG (422).
				return refuse(errMediaType, field+": "+err.Error())
			}
			return fieldError(field, "%s", err.Error())
		}
		stripped, mediaType, err := photo.Strip(data, info)
		if err != nil {
			return fieldError(fmt.Sprintf("photo[%d]", i), "%s", err.Error())
		}
		width, height := info.DisplaySize() // the stripped copy is turned upright
		p := geo.ReportPhoto{Position: i + 1, MediaType: mediaType, Stripped: stripped, Original: data,
			OriginalType: string(info.Format), Width: width, Height: height, TakenAt: info.TakenAt}
		if info.GPS != nil {
			p.GPS = &orb.Point{info.GPS.Lon, info.GPS.Lat}
		}
		r.Photos = append(r.Photos, p)
		if r.PhotoHint == nil && (p.GPS != nil || p.TakenAt != nil) {
			r.PhotoHint = geo.NewPhotoHint(r.Point, p)
		}
	}
	return nil
}

// formHash hashes the form's content independent of its encoding.
func formHash(fields map[string][]string, photos [][]byte) []byte {
	h := sha256.New()
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, v := range fields[n] {
			fmt.Fprintf(h, "%s=%d:%s\n", n, len(v), v)
		}
	}
	for _, p := range photos {
		sum := sha256.Sum256(p)
		h.Write(sum[:])
	}
	return h.Sum(nil)
}
