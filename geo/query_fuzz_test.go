package geo

import (
	"errors"
	"math"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"
)

// fuzzParamErr fails unless err is a *ParamError for param (any param when
// param is empty).
func fuzzParamErr(t *testing.T, err error, param string) {
	t.Helper()
	var pe *ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *ParamError", err, err)
	}
	if param != "" && pe.Param != param {
		t.Fatalf("Param = %q, want %q", pe.Param, param)
	}
	if pe.Message == "" {
		t.Fatalf("ParamError for %q has no message", pe.Param)
	}
}

func checkFuzzBBox(t *testing.T, b BBox) {
	t.Helper()
	for _, f := range []float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			t.Fatalf("bbox %+v is not finite", b)
		}
	}
	if b.MinLon < -180 || b.MaxLon > 180 || b.MaxLon < -180 || b.MinLon > 180 ||
		b.MinLat < -90 || b.MaxLat > 90 || b.MinLat > b.MaxLat {
		t.Fatalf("bbox %+v out of range", b)
	}
	parts := b.Split()
	if len(parts) != 1 && len(parts) != 2 || (len(parts) == 2) != b.CrossesAntimeridian() {
		t.Fatalf("bbox %+v split into %+v", b, parts)
	}
	for _, p := range parts {
		if p.MinLon > p.MaxLon || p.MinLat != b.MinLat || p.MaxLat != b.MaxLat {
			t.Fatalf("bbox %+v split into bad part %+v", b, p)
		}
	}
}

func checkFuzzInterval(t *testing.T, ti TimeInterval) {
	t.Helper()
	if ti.Start == nil && ti.End == nil {
		t.Fatal("interval open at both ends")
	}
	for _, e := range []*time.Time{ti.Start, ti.End} {
		if e == nil {
			continue
		}
		if y := e.Year(); y < 1900 || y > 2200 || e.Location() != time.UTC {
			t.Fatalf("interval end %v out of range or not UTC", e)
		}
	}
	if ti.Start != nil && ti.End != nil && ti.Start.After(*ti.End) {
		t.Fatalf("interval start %v after end %v", ti.Start, ti.End)
	}
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{
		"1,2,3,4", "-180,-90,180,90", "170,-10,-170,10", "1,2,0,3,4,0", "1,2,3",
		"NaN,0,0,0", "1e999,0,0,0", "0x1p3,0,1,1", " -0 , 1e1,2., .5", "1,10,3,5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBBox(s)
		if err != nil {
			fuzzParamErr(t, err, "bbox")
			return
		}
		checkFuzzBBox(t, b)
	})
}

func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{
		"2020-10-18T00:00:00Z", "2020-10-18", "2020-10-01/2020-10-31", "../2020-10-18T00:00:00+04:00",
		"2020-10-18T00:00:00.5z/", "../..", "1900-01-01T00:30:00+01:00", "2200-12-31T23:59:59-23:59",
		"2020-10-18T04:00:00 04:00", "2020-02-30",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ti, err := ParseDatetime(s)
		if err != nil {
			fuzzParamErr(t, err, "datetime")
			return
		}
		checkFuzzInterval(t, ti)
	})
}

var fuzzDigits = regexp.MustCompile(`^[0-9]+$`)

func FuzzParseLimit(f *testing.F) {
	f.Add("", 100, 10000)
	f.Add("50", 100, 10000)
	f.Add("10001", 100, 10000)
	f.Add("0", 1, 1)
	f.Add("-1", 10, 20)
	f.Add("99999999999999999999", 10, 20)
	f.Add("1.0", 10, 20)
	f.Fuzz(func(t *testing.T, s string, def, limitMax int) {
		// Keep the caller's arguments sensible: 1 <= def <= limitMax.
		limitMax = 1 + int(uint(limitMax)%1_000_000)
		def = 1 + int(uint(def)%uint(limitMax))
		n, clamped, err := ParseLimit(s, def, limitMax)
		if err != nil {
			fuzzParamErr(t, err, "limit")
			return
		}
		if n < 1 || n > limitMax {
			t.Fatalf("ParseLimit(%q, %d, %d) = %d, out of range", s, def, limitMax, n)
		}
		if clamped && n != limitMax || s == "" && n != def || s != "" && !fuzzDigits.MatchString(s) {
			t.Fatalf("ParseLimit(%q, %d, %d) = %d, %v", s, def, limitMax, n, clamped)
		}
	})
}

func FuzzParseSortBy(f *testing.F) {
	for _, s := range []string{"occurred_at", "+occurred_at", " fatalities", "-fatalities", "a,b", "-", "--occurred_at"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseSortBy(s, incidentSortFields)
		if err != nil {
			fuzzParamErr(t, err, "sortby")
			return
		}
		if !slices.Contains(incidentSortFields, k.Field) {
			t.Fatalf("ParseSortBy(%q) = %+v, field not allowed", s, k)
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []Cursor{
		{ID: 1},
		{Sort: SortKey{Field: "occurred_at", Desc: true}, Time: time.Date(2024, 5, 6, 7, 8, 9, 123, time.UTC), ID: 42},
		{Sort: SortKey{Field: "fatalities"}, Number: 1500, ID: 8, Back: true},
	} {
		f.Add(c.Encode())
	}
	f.Add("")
	f.Add("AQ")
	f.Add("AQAAAg==")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			fuzzParamErr(t, err, "cursor")
			return
		}
		if c.ID < 1 || len(c.Sort.Field) > maxCursorField {
			t.Fatalf("DecodeCursor(%q) = %+v, out of range", s, c)
		}
		enc := c.Encode()
		if enc != s {
			t.Fatalf("DecodeCursor(%q) = %+v, which encodes as %q", s, c, enc)
		}
		c2, err := DecodeCursor(enc)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip of %+v gave %+v, %v", c, c2, err)
		}
	})
}

func FuzzParseIncidentQuery(f *testing.F) {
	cur := Cursor{Sort: SortKey{Field: "occurred_at", Desc: true}, Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ID: 7}
	for _, s := range []string{
		"",
		"bbox=44,38,49,42&datetime=2020-10-18&limit=50&f=csv",
		"bbox=170,-10,-170,10&bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FOGC%2F1.3%2FCRS84",
		"event_type=Battles,Riots&sub_event_type=Armed+clash&status=verified,retracted&country=az,ir",
		"actor=Military&q=drone+strike&near_border_km=25&near_place=42&within_km=5",
		"sortby=-fatalities&properties=title,fatalities&limit=20000",
		"sortby=+occurred_at&cursor=" + cur.Encode(),
		"cursor=" + cur.Encode(),
		"limit=1&limit=2",
		"foo=bar",
		"q=%00",
		"within_km=5",
		"datetime=../..",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseIncidentQuery(v)
		if err != nil {
			fuzzParamErr(t, err, "")
			return
		}
		if q.BBox != nil {
			checkFuzzBBox(t, *q.BBox)
		}
		if q.Time != nil {
			checkFuzzInterval(t, *q.Time)
		}
		if q.Limit < 1 || q.Limit > ItemsMaxLimit || q.LimitClamped && q.Limit != ItemsMaxLimit {
			t.Fatalf("limit %d (clamped %v) out of range", q.Limit, q.LimitClamped)
		}
		for _, e := range q.EventTypes {
			if !ValidEventType(e) {
				t.Fatalf("invalid event type %q accepted", e)
			}
		}
		for _, e := range q.SubEventTypes {
			if !slices.Contains(SubEventTypes(), e) {
				t.Fatalf("invalid sub-event type %q accepted", e)
			}
		}
		for _, s := range q.Statuses {
			if !slices.Contains(incidentStatuses, s) {
				t.Fatalf("invalid status %q accepted", s)
			}
		}
		for _, c := range q.Countries {
			if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
				t.Fatalf("invalid country %q accepted", c)
			}
		}
		for _, p := range q.Properties {
			if !slices.Contains(incidentProperties, p) {
				t.Fatalf("invalid property %q accepted", p)
			}
		}
		for _, km := range []*float64{q.NearBorderKm, q.WithinKm} {
			if km != nil && !(*km > 0 && *km <= 1000) {
				t.Fatalf("distance %v out of range", *km)
			}
		}
		if (q.NearPlace == nil) != (q.WithinKm == nil) || q.NearPlace != nil && *q.NearPlace < 1 {
			t.Fatalf("near_place %v, within_km %v", q.NearPlace, q.WithinKm)
		}
		if len([]rune(q.Actor)) > 200 || len([]rune(q.Text)) > 200 {
			t.Fatal("text too long accepted")
		}
		if !slices.Contains(incidentSortFields, q.Sort.Field) {
			t.Fatalf("sort %+v accepted", q.Sort)
		}
		if q.Cursor != nil && q.Cursor.Sort != q.Sort {
			t.Fatalf("cursor %+v does not match sort %+v", q.Cursor, q.Sort)
		}
		if q.Format != "geojson" && q.Format != "csv" && q.Format != "html" {
			t.Fatalf("format %q", q.Format)
		}
		// Parsing is deterministic.
		if q2, err := ParseIncidentQuery(v); err != nil || !reflect.DeepEqual(q, q2) {
			t.Fatalf("second parse gave %+v, %v; first %+v", q2, err, q)
		}
	})
}
