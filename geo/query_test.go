package geo

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkParamErr fails unless err is a *ParamError for param whose message
// contains msg.
func checkParamErr(t *testing.T, err error, param, msg string) {
	t.Helper()
	var pe *ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *ParamError", err, err)
	}
	if pe.Param != param {
		t.Errorf("Param = %q, want %q", pe.Param, param)
	}
	if !strings.Contains(pe.Message, msg) {
		t.Errorf("Message = %q, want it to contain %q", pe.Message, msg)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false, want true", err)
	}
}

func TestParseBBox(t *testing.T) {
	tests := []struct {
		in      string
		want    BBox
		wantErr string
	}{
		{in: "1,2,3,4", want: BBox{1, 2, 3, 4}},
		{in: "-180,-90,180,90", want: BBox{-180, -90, 180, 90}},
		{in: "44.5,38.2,48.9,41.9", want: BBox{44.5, 38.2, 48.9, 41.9}},
		{in: "170,-10,-170,10", want: BBox{170, -10, -170, 10}},
		{in: "1,2,3,4,5,6", want: BBox{1, 2, 4, 5}},
		{in: " 1, 2 ,3 , 4 ", want: BBox{1, 2, 3, 4}},
		{in: "+1,-2e1,3.,.4", want: BBox{1, -20, 3, 0.4}},
		{in: "0,0,0,0", want: BBox{}},
		{in: "-0,-0,-0,-0", want: BBox{}},
		{in: "1,5,2,5", want: BBox{1, 5, 2, 5}},
		{in: "", wantErr: "expected 4 numbers, got 0"},
		{in: "1,2,3", wantErr: "expected 4 numbers, got 3"},
		{in: "1,2,3,4,5", wantErr: "expected 4 numbers, got 5"},
		{in: "1,2,3,4,5,6,7", wantErr: "expected 4 numbers, got 7"},
		{in: "1,2,3,", wantErr: `not a number: ""`},
		{in: "abc,2,3,4", wantErr: `not a number: "abc"`},
		{in: "0x1p2,2,3,4", wantErr: `not a number: "0x1p2"`},
		{in: "1_0,2,3,4", wantErr: `not a number: "1_0"`},
		{in: "1e,2,3,4", wantErr: `not a number: "1e"`},
		{in: "NaN,2,3,4", wantErr: "NaN/Inf not allowed"},
		{in: "1,2,-Inf,4", wantErr: "NaN/Inf not allowed"},
		{in: "1,2,3,+infinity", wantErr: "NaN/Inf not allowed"},
		{in: "1e999,2,3,4", wantErr: `not a finite number: "1e999"`},
		{in: "1,95,3,96", wantErr: "latitude 95 out of range [-90, 90]"},
		{in: "1,-90.5,3,4", wantErr: "latitude -90.5 out of range [-90, 90]"},
		{in: "190,2,3,4", wantErr: "longitude 190 out of range [-180, 180]"},
		{in: "1,2,-180.001,4", wantErr: "longitude -180.001 out of range [-180, 180]"},
		{in: "1,10,3,5", wantErr: "minimum latitude 10 is greater than maximum latitude 5"},
		{in: "1,2,nan,4,5,6", wantErr: "NaN/Inf not allowed"},
		{in: "1,2,3,4,95,6", wantErr: "latitude 95 out of range"},
	}
	for _, tt := range tests {
		got, err := ParseBBox(tt.in)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParseBBox(%q) = %+v, want error %q", tt.in, got, tt.wantErr)
				continue
			}
			t.Run(tt.in, func(t *testing.T) { checkParamErr(t, err, "bbox", tt.wantErr) })
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseBBox(%q) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestBBoxSplit(t *testing.T) {
	tests := []struct {
		in      BBox
		crosses bool
		want    []BBox
	}{
		{BBox{1, 2, 3, 4}, false, []BBox{{1, 2, 3, 4}}},
		{BBox{-180, -90, 180, 90}, false, []BBox{{-180, -90, 180, 90}}},
		{BBox{3, 2, 3, 4}, false, []BBox{{3, 2, 3, 4}}},
		{BBox{170, -10, -170, 10}, true, []BBox{{170, -10, 180, 10}, {-180, -10, -170, 10}}},
		{BBox{180, 0, -180, 1}, true, []BBox{{180, 0, 180, 1}, {-180, 0, -180, 1}}},
	}
	for _, tt := range tests {
		if got := tt.in.CrossesAntimeridian(); got != tt.crosses {
			t.Errorf("%+v.CrossesAntimeridian() = %v, want %v", tt.in, got, tt.crosses)
		}
		if got := tt.in.Split(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v.Split() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseDatetime(t *testing.T) {
	at := func(s string) *time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		tm = tm.UTC()
		return &tm
	}
	const dayEnd = "T23:59:59.999999999Z"
	tests := []struct {
		in      string
		want    TimeInterval
		wantErr string
	}{
		{in: "2020-10-18T00:00:00Z", want: TimeInterval{at("2020-10-18T00:00:00Z"), at("2020-10-18T00:00:00Z")}},
		{in: "2020-10-18t12:30:00z", want: TimeInterval{at("2020-10-18T12:30:00Z"), at("2020-10-18T12:30:00Z")}},
		{in: "2020-10-18T04:00:00+04:00", want: TimeInterval{at("2020-10-18T00:00:00Z"), at("2020-10-18T00:00:00Z")}},
		{in: "2020-10-18T04:00:00 04:00", want: TimeInterval{at("2020-10-18T00:00:00Z"), at("2020-10-18T00:00:00Z")}},
		{in: "2020-10-18T00:00:00.123456789-01:30", want: TimeInterval{at("2020-10-18T01:30:00.123456789Z"), at("2020-10-18T01:30:00.123456789Z")}},
		{in: "2020-10-18T23:59:00+23:59", want: TimeInterval{at("2020-10-18T00:00:00Z"), at("2020-10-18T00:00:00Z")}},
		{in: "2020-10-18", want: TimeInterval{at("2020-10-18T00:00:00Z"), at("2020-10-18" + dayEnd)}},
		{in: "2020-02-29", want: TimeInterval{at("2020-02-29T00:00:00Z"), at("2020-02-29" + dayEnd)}},
		{in: "2020-10-01/2020-10-31", want: TimeInterval{at("2020-10-01T00:00:00Z"), at("2020-10-31" + dayEnd)}},
		{in: "2020-10-01T00:00:00Z/2020-10-02T00:00:00Z", want: TimeInterval{at("2020-10-01T00:00:00Z"), at("2020-10-02T00:00:00Z")}},
		{in: "2020-10-01T00:00:00Z/2020-10-01T00:00:00Z", want: TimeInterval{at("2020-10-01T00:00:00Z"), at("2020-10-01T00:00:00Z")}},
		{in: "2020-10-01T00:00:00Z/..", want: TimeInterval{Start: at("2020-10-01T00:00:00Z")}},
		{in: "2020-10-01T00:00:00Z/", want: TimeInterval{Start: at("2020-10-01T00:00:00Z")}},
		{in: "../2020-10-01", want: TimeInterval{End: at("2020-10-01" + dayEnd)}},
		{in: "/2020-10-01T00:00:00Z", want: TimeInterval{End: at("2020-10-01T00:00:00Z")}},
		{in: "1900-01-01T00:00:00Z/2200-12-31", want: TimeInterval{at("1900-01-01T00:00:00Z"), at("2200-12-31" + dayEnd)}},
		{in: "", wantErr: "empty value"},
		{in: "..", wantErr: "not an RFC 3339 date-time or date"},
		{in: "../..", wantErr: "at least one bounded end"},
		{in: "/", wantErr: "at least one bounded end"},
		{in: "a/b/c", wantErr: `expected an instant or an interval "start/end"`},
		{in: "2020-10-18T00:00:00", wantErr: "not an RFC 3339 date-time or date"},
		{in: "2020-10-18 00:00:00Z", wantErr: "not an RFC 3339 date-time or date"},
		{in: "20201018", wantErr: "not an RFC 3339 date-time or date"},
		{in: "2020-10-18T00:00:00,5Z", wantErr: "not an RFC 3339 date-time or date"},
		{in: "2020-10-18T00:00:00.1234567891Z", wantErr: "not an RFC 3339 date-time or date"},
		{in: "2020-10-18T00:00Z", wantErr: "not an RFC 3339 date-time or date"},
		{in: "yesterday", wantErr: `not an RFC 3339 date-time or date: "yesterday"`},
		{in: "2020-02-30", wantErr: "invalid date"},
		{in: "2020-13-01T00:00:00Z", wantErr: "invalid date-time"},
		{in: "2020-10-18T24:00:00Z", wantErr: "invalid date-time"},
		{in: "2020-10-18T23:59:60Z", wantErr: "invalid date-time"},
		{in: "2020-10-18T00:00:00+24:00", wantErr: "invalid date-time"},
		{in: "2020-10-18T00:00:00-00:60", wantErr: "invalid date-time"},
		{in: "1899-12-31", wantErr: "year 1899 out of range [1900, 2200]"},
		{in: "1900-01-01T00:30:00+01:00", wantErr: "year 1899 out of range"},
		{in: "2201-01-01T00:00:00Z", wantErr: "year 2201 out of range"},
		{in: "0000-01-01/..", wantErr: "year 0 out of range"},
		{in: "2020-10-02/2020-10-01", wantErr: "start 2020-10-02T00:00:00Z is after end 2020-10-01T23:59:59.999999999Z"},
		{in: "2020-10-01T00:00:01Z/2020-10-01T00:00:00Z", wantErr: "is after end"},
	}
	for _, tt := range tests {
		got, err := ParseDatetime(tt.in)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParseDatetime(%q) = %v, want error %q", tt.in, fmtInterval(got), tt.wantErr)
				continue
			}
			t.Run(tt.in, func(t *testing.T) { checkParamErr(t, err, "datetime", tt.wantErr) })
			continue
		}
		if err != nil || !sameInterval(got, tt.want) {
			t.Errorf("ParseDatetime(%q) = %v, %v; want %v, nil", tt.in, fmtInterval(got), err, fmtInterval(tt.want))
		}
		for _, e := range []*time.Time{got.Start, got.End} {
			if e != nil && e.Location() != time.UTC {
				t.Errorf("ParseDatetime(%q): end %v not in UTC", tt.in, e)
			}
		}
	}
}

func sameInterval(a, b TimeInterval) bool {
	same := func(x, y *time.Time) bool {
		return x == nil && y == nil || x != nil && y != nil && x.Equal(*y)
	}
	return same(a.Start, b.Start) && same(a.End, b.End)
}

func fmtInterval(ti TimeInterval) string {
	f := func(t *time.Time) string {
		if t == nil {
			return ".."
		}
		return t.Format(time.RFC3339Nano)
	}
	return f(ti.Start) + "/" + f(ti.End)
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in          string
		want        int
		wantClamped bool
		wantErr     string
	}{
		{in: "", want: 100},
		{in: "1", want: 1},
		{in: "50", want: 50},
		{in: "007", want: 7},
		{in: "10000", want: 10000},
		{in: "10001", want: 10000, wantClamped: true},
		{in: "9223372036854775807", want: 10000, wantClamped: true},
		{in: "0", wantErr: `must be a positive integer, got "0"`},
		{in: "-5", wantErr: `must be a positive integer, got "-5"`},
		{in: "+5", wantErr: `not an integer: "+5"`},
		{in: "1.5", wantErr: `not an integer: "1.5"`},
		{in: "1e3", wantErr: `not an integer: "1e3"`},
		{in: " 5", wantErr: `not an integer: " 5"`},
		{in: "ten", wantErr: `not an integer: "ten"`},
		{in: "-", wantErr: `not an integer: "-"`},
		{in: "99999999999999999999999", wantErr: "number too large"},
	}
	for _, tt := range tests {
		got, clamped, err := ParseLimit(tt.in, 100, 10000)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParseLimit(%q) = %d, %v, want error %q", tt.in, got, clamped, tt.wantErr)
				continue
			}
			t.Run(tt.in, func(t *testing.T) { checkParamErr(t, err, "limit", tt.wantErr) })
			continue
		}
		if err != nil || got != tt.want || clamped != tt.wantClamped {
			t.Errorf("ParseLimit(%q) = %d, %v, %v; want %d, %v, nil", tt.in, got, clamped, err, tt.want, tt.wantClamped)
		}
	}
}

func TestParseSortBy(t *testing.T) {
	tests := []struct {
		in      string
		want    SortKey
		wantErr string
	}{
		{in: "occurred_at", want: SortKey{Field: "occurred_at"}},
		{in: "+occurred_at", want: SortKey{Field: "occurred_at"}},
		{in: " occurred_at", want: SortKey{Field: "occurred_at"}},
		{in: "-occurred_at", want: SortKey{Field: "occurred_at", Desc: true}},
		{in: "-fatalities", want: SortKey{Field: "fatalities", Desc: true}},
		{in: "fatalities", want: SortKey{Field: "fatalities"}},
		{in: "", wantErr: "empty value"},
		{in: "-", wantErr: "missing sort field"},
		{in: "+", wantErr: "missing sort field"},
		{in: "occurred_at,-fatalities", wantErr: "only one sort key is supported"},
		{in: "occurred_at,", wantErr: "only one sort key is supported"},
		{in: "--occurred_at", wantErr: `unknown sort field "-occurred_at"`},
		{in: "+-occurred_at", wantErr: `unknown sort field "-occurred_at"`},
		{in: "Occurred_At", wantErr: `unknown sort field "Occurred_At" (allowed: occurred_at, fatalities)`},
		{in: "id", wantErr: `unknown sort field "id"`},
		{in: "occurred_at ", wantErr: `unknown sort field "occurred_at "`},
		{in: "occurred_at:A", wantErr: "unknown sort field"},
	}
	for _, tt := range tests {
		got, err := ParseSortBy(tt.in, incidentSortFields)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParseSortBy(%q) = %+v, want error %q", tt.in, got, tt.wantErr)
				continue
			}
			t.Run(tt.in, func(t *testing.T) { checkParamErr(t, err, "sortby", tt.wantErr) })
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSortBy(%q) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseProperties(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "title", want: []string{"title"}},
		{in: "title,occurred_at,fatalities", want: []string{"title", "occurred_at", "fatalities"}},
		{in: "fatalities,title,fatalities,title", want: []string{"fatalities", "title"}},
		{in: "title, notes", want: []string{"title", "notes"}},
		{in: "", wantErr: "empty value"},
		{in: "title,", wantErr: "empty property name"},
		{in: ",title", wantErr: "empty property name"},
		{in: "title,,notes", wantErr: "empty property name"},
		{in: "geometry", wantErr: `unknown property "geometry"`},
		{in: "Title", wantErr: `unknown property "Title"`},
		{in: "title,id", wantErr: `unknown property "id"`},
	}
	for _, tt := range tests {
		got, err := ParseProperties(tt.in, incidentProperties)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("ParseProperties(%q) = %q, want error %q", tt.in, got, tt.wantErr)
				continue
			}
			t.Run(tt.in, func(t *testing.T) { checkParamErr(t, err, "properties", tt.wantErr) })
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseProperties(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestIncidentPropertiesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range incidentProperties {
		if seen[p] {
			t.Errorf("IncidentProperties lists %q twice", p)
		}
		seen[p] = true
	}
	for _, p := range incidentOnRequestProperties {
		if seen[p] {
			t.Errorf("%q is both a default and an on-request property", p)
		}
	}
	if got, want := len(incidentProperties), 35; got != want {
		t.Errorf("len(incidentProperties) = %d, want %d", got, want)
	}
}

func qptr[T any](v T) *T { return &v }

func TestParseIncidentQuery(t *testing.T) {
	defaults := IncidentQuery{Sort: SortKey{Field: "occurred_at", Desc: true}, Limit: 100, Format: "geojson"}
	with := func(f func(q *IncidentQuery)) IncidentQuery {
		q := defaults
		f(&q)
		return q
	}
	day := func(s string) TimeInterval {
		ti, err := ParseDatetime(s)
		if err != nil {
			t.Fatal(err)
		}
		return ti
	}
	fatalCursor := Cursor{Sort: SortKey{Field: "fatalities", Desc: true}, Number: 12, ID: 99}
	timeCursor := Cursor{Sort: SortKey{Field: "occurred_at", Desc: true}, Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ID: 7}
	tests := []struct {
		name      string
		in        string
		want      IncidentQuery
		wantParam string
		wantErr   string
	}{
		{name: "empty", in: "", want: defaults},
		{name: "empty values are absent", in: "bbox=&datetime=&event_type=&limit=&f=&q=&near_place=", want: defaults},
		{name: "bbox", in: "bbox=44,38,49,42&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84",
			want: with(func(q *IncidentQuery) { q.BBox = &BBox{44, 38, 49, 42} })},
		{name: "datetime", in: "datetime=2020-10-18",
			want: with(func(q *IncidentQuery) { q.Time = qptr(day("2020-10-18")) })},
		{name: "limit clamped", in: "limit=20000",
			want: with(func(q *IncidentQuery) { q.Limit, q.LimitClamped = 10000, true })},
		{name: "event types", in: "event_type=" + url.QueryEscape("Battles,explosions/remote violence, Battles"),
			want: with(func(q *IncidentQuery) { q.EventTypes = []string{"Battles", "Explosions/Remote violence"} })},
		{name: "sub event types", in: "event_type=Battles,Riots&sub_event_type=" + url.QueryEscape("Armed clash,mob violence"),
			want: with(func(q *IncidentQuery) {
				q.EventTypes = []string{"Battles", "Riots"}
				q.SubEventTypes = []string{"Armed clash", "Mob violence"}
			})},
		{name: "sub event types alone", in: "sub_event_type=" + url.QueryEscape("Air/drone strike"),
			want: with(func(q *IncidentQuery) { q.SubEventTypes = []string{"Air/drone strike"} })},
		{name: "status", in: "status=Retracted,verified",
			want: with(func(q *IncidentQuery) { q.Statuses = []string{"retracted", "verified"} })},
		{name: "country", in: "country=az,IR,az",
			want: with(func(q *IncidentQuery) { q.Countries = []string{"AZ", "IR"} })},
		{name: "text", in: "actor=++Military+Forces+&q=drone",
			want: with(func(q *IncidentQuery) { q.Actor, q.Text = "Military Forces", "drone" })},
		{name: "near border", in: "near_border_km=25.5",
			want: with(func(q *IncidentQuery) { q.NearBorderKm = qptr(25.5) })},
		{name: "near place default radius", in: "near_place=42",
			want: with(func(q *IncidentQuery) { q.NearPlace, q.WithinKm = qptr(int64(42)), qptr(10.0) })},
		{name: "near place radius", in: "near_place=42&within_km=1000",
			want: with(func(q *IncidentQuery) { q.NearPlace, q.WithinKm = qptr(int64(42)), qptr(1000.0) })},
		{name: "sortby plus", in: "sortby=+fatalities",
			want: with(func(q *IncidentQuery) { q.Sort = SortKey{Field: "fatalities"} })},
		{name: "properties", in: "properties=title,fatalities",
			want: with(func(q *IncidentQuery) { q.Properties = []string{"title", "fatalities"} })},
		{name: "source record on request", in: "properties=title,source_record",
			want: with(func(q *IncidentQuery) { q.Properties = []string{"title", "source_record"} })},
		{name: "geo check", in: "geo_check=Country_Mismatch,no_country,country_mismatch",
			want: with(func(q *IncidentQuery) { q.GeoChecks = []string{"country_mismatch", "no_country"} })},
		{name: "csv derived", in: "f=csv&derived=true",
			want: with(func(q *IncidentQuery) { q.Format, q.Derived = "csv", true })},
		{name: "derived false", in: "derived=false", want: defaults},
		{name: "format csv", in: "f=CSV", want: with(func(q *IncidentQuery) { q.Format = "csv" })},
		{name: "format json", in: "f=json", want: defaults},
		{name: "format html", in: "f=html", want: with(func(q *IncidentQuery) { q.Format = "html" })},
		{name: "cursor default sort", in: "cursor=" + timeCursor.Encode(),
			want: with(func(q *IncidentQuery) { q.Cursor = &timeCursor })},
		{name: "cursor fatalities", in: "sortby=-fatalities&cursor=" + fatalCursor.Encode(),
			want: with(func(q *IncidentQuery) { q.Sort, q.Cursor = fatalCursor.Sort, &fatalCursor })},

		{name: "unknown", in: "bbox=1,2,3,4&foo=1", wantParam: "foo", wantErr: "unknown parameter"},
		{name: "unknown wins by name order", in: "zzz=1&aaa=2", wantParam: "aaa", wantErr: "unknown parameter"},
		{name: "case matters", in: "BBOX=1,2,3,4", wantParam: "BBOX", wantErr: "unknown parameter"},
		{name: "unknown name sanitised", in: "a%00b=1", wantParam: "a\uFFFDb", wantErr: "unknown parameter"},
		{name: "repeated", in: "limit=1&limit=2", wantParam: "limit", wantErr: "given more than once"},
		{name: "repeated empty", in: "q=&q=", wantParam: "q", wantErr: "given more than once"},
		{name: "bad utf8", in: "q=%ff", wantParam: "q", wantErr: "not valid UTF-8"},
		{name: "nul", in: "actor=a%00b", wantParam: "actor", wantErr: "control characters"},
		{name: "tab", in: "q=a%09b", wantParam: "q", wantErr: "control characters"},
		{name: "c1 control", in: "q=a%C2%85b", wantParam: "q", wantErr: "control characters"},
		{name: "too long raw", in: "q=" + strings.Repeat("x", 1001), wantParam: "q", wantErr: "too long (max 1000 characters)"},
		{name: "too long text", in: "actor=" + strings.Repeat("é", 201), wantParam: "actor", wantErr: "too long (max 200 characters)"},
		{name: "bad bbox", in: "bbox=1,2,3", wantParam: "bbox", wantErr: "expected 4 numbers, got 3"},
		{name: "bad crs", in: "bbox=1,2,3,4&bbox-crs=EPSG:4326", wantParam: "bbox-crs", wantErr: "unsupported CRS"},
		{name: "bad datetime", in: "datetime=soon", wantParam: "datetime", wantErr: "not an RFC 3339"},
		{name: "bad limit", in: "limit=0", wantParam: "limit", wantErr: "positive integer"},
		{name: "bad event type", in: "event_type=Battle", wantParam: "event_type", wantErr: `unknown event type "Battle"`},
		{name: "empty list item", in: "event_type=Battles,", wantParam: "event_type", wantErr: "empty item in list"},
		{name: "bad sub event type", in: "sub_event_type=Drone", wantParam: "sub_event_type", wantErr: `unknown sub-event type "Drone"`},
		{name: "sub event type of other type", in: "event_type=Riots&sub_event_type=Grenade", wantParam: "sub_event_type",
			wantErr: `"Grenade" is not a sub-event type of the requested event types`},
		{name: "bad geo check", in: "geo_check=mismatch", wantParam: "geo_check", wantErr: `unknown geo check "mismatch"`},
		{name: "bad derived", in: "derived=yes", wantParam: "derived", wantErr: `want true or false, got "yes"`},
		{name: "bad status", in: "status=deleted", wantParam: "status", wantErr: `unknown status "deleted"`},
		{name: "bad country", in: "country=AZE", wantParam: "country", wantErr: `unknown country code "AZE"`},
		{name: "non-ascii country", in: "country=%C3%A9s", wantParam: "country", wantErr: "unknown country code"},
		{name: "digit country", in: "country=A1", wantParam: "country", wantErr: "unknown country code"},
		{name: "near border zero", in: "near_border_km=0", wantParam: "near_border_km", wantErr: "greater than 0 and at most 1000, got 0"},
		{name: "near border large", in: "near_border_km=1000.5", wantParam: "near_border_km", wantErr: "got 1000.5"},
		{name: "near border nan", in: "near_border_km=NaN", wantParam: "near_border_km", wantErr: "NaN/Inf not allowed"},
		{name: "near border overflow", in: "near_border_km=1e999", wantParam: "near_border_km", wantErr: "not a finite number"},
		{name: "near place zero", in: "near_place=0", wantParam: "near_place", wantErr: "positive integer place id"},
		{name: "near place negative", in: "near_place=-3", wantParam: "near_place", wantErr: "positive integer place id"},
		{name: "near place overflow", in: "near_place=9223372036854775808", wantParam: "near_place", wantErr: "positive integer place id"},
		{name: "within without place", in: "within_km=5", wantParam: "within_km", wantErr: "requires near_place"},
		{name: "within negative", in: "near_place=1&within_km=-5", wantParam: "within_km", wantErr: "greater than 0"},
		{name: "bad sortby", in: "sortby=occurred_at,fatalities", wantParam: "sortby", wantErr: "only one sort key is supported"},
		{name: "bad properties", in: "properties=geometry", wantParam: "properties", wantErr: "unknown property"},
		{name: "bad format", in: "f=xml", wantParam: "f", wantErr: `unsupported format "xml"`},
		{name: "bad cursor", in: "cursor=abc", wantParam: "cursor", wantErr: "malformed cursor"},
		{name: "cursor other sort", in: "cursor=" + fatalCursor.Encode(), wantParam: "cursor", wantErr: "cursor does not match sortby"},
		{name: "cursor other direction", in: "sortby=occurred_at&cursor=" + timeCursor.Encode(), wantParam: "cursor", wantErr: "cursor does not match sortby"},
		{name: "cursor without time", in: "cursor=" + (Cursor{Sort: SortKey{Field: "occurred_at", Desc: true}, ID: 1}).Encode(),
			wantParam: "cursor", wantErr: "malformed cursor"},
		{name: "fatalities cursor with time", in: "sortby=-fatalities&cursor=" + (Cursor{Sort: fatalCursor.Sort, Time: timeCursor.Time, ID: 1}).Encode(),
			wantParam: "cursor", wantErr: "malformed cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseIncidentQuery(v)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseIncidentQuery(%q) = %+v, want error %q", tt.in, got, tt.wantErr)
				}
				checkParamErr(t, err, tt.wantParam, tt.wantErr)
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseIncidentQuery(%q)\n got %+v, %v\nwant %+v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseLayerQuery(t *testing.T) {
	idCursor := Cursor{ID: 5, Back: true}
	tests := []struct {
		name      string
		in        string
		hasTime   bool
		want      LayerQuery
		wantParam string
		wantErr   string
	}{
		{name: "empty", in: "", want: LayerQuery{Limit: 100, Format: "geojson"}},
		{name: "all", in: "bbox=170,0,-170,10&limit=5&f=html&cursor=" + idCursor.Encode(),
			want: LayerQuery{BBox: &BBox{170, 0, -170, 10}, Limit: 5, Format: "html", Cursor: &idCursor}},
		{name: "datetime with time", in: "datetime=2020-01-01T00:00:00Z/..", hasTime: true,
			want: LayerQuery{Time: &TimeInterval{Start: qptr(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}, Limit: 100, Format: "geojson"}},
		{name: "empty datetime without time", in: "datetime=", want: LayerQuery{Limit: 100, Format: "geojson"}},
		{name: "datetime without time", in: "datetime=2020-01-01", wantParam: "datetime", wantErr: "this collection has no time property"},
		{name: "incident param", in: "event_type=Battles", wantParam: "event_type", wantErr: "unknown parameter"},
		{name: "properties", in: "properties=name", wantParam: "properties", wantErr: "unknown parameter"},
		{name: "sorted cursor", in: "cursor=" + (Cursor{Sort: SortKey{Field: "occurred_at"}, Time: time.Unix(1e9, 0), ID: 1}).Encode(),
			wantParam: "cursor", wantErr: "cursor does not belong to this collection"},
		{name: "numbered cursor", in: "cursor=" + (Cursor{Number: 3, ID: 1}).Encode(),
			wantParam: "cursor", wantErr: "cursor does not belong to this collection"},
		{name: "repeated", in: "f=json&f=csv", wantParam: "f", wantErr: "given more than once"},
		{name: "bad limit", in: "limit=x", wantParam: "limit", wantErr: "not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseLayerQuery(v, tt.hasTime)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseLayerQuery(%q) = %+v, want error %q", tt.in, got, tt.wantErr)
				}
				checkParamErr(t, err, tt.wantParam, tt.wantErr)
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLayerQuery(%q)\n got %+v, %v\nwant %+v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}
