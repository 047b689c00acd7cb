package geo

import (
	"strconv"
	"strings"
	"sync"
)

// acledCountry is an ISO 3166-1 country as ACLED names it.
type acledCountry struct {
	code    string // ISO 3166-1 alpha-2
	numeric int    // ISO 3166-1 numeric, ACLED's "iso"
	name    string // short English name, as ACLED's "country"
}

func (c acledCountry) numericString() string {
	if c.numeric == 0 {
		return ""
	}
	return strconv.Itoa(c.numeric)
}

// ACLEDCountry returns ACLED's iso (ISO 3166-1 numeric) and country name
// for an ISO 3166-1 alpha-2 code.
func ACLEDCountry(code string) (numeric int, name string, ok bool) {
	c, ok := countryTables().byCode[code]
	return c.numeric, c.name, ok
}

// StatedCountryCode returns the ISO 3166-1 alpha-2 code a source states:
// from iso (ISO 3166-1 numeric, "31", "031" or a spreadsheet's "31.0")
// when it names a country, else from the country name as ACLED spells it
// (case- and spacing-insensitive, with older spellings such as
// "Swaziland"). Empty when neither names a country.
func StatedCountryCode(iso, country string) string {
	t := countryTables()
	if n, ok := parseWholeNumber(iso); ok {
		if c, ok := t.byNumeric[n]; ok {
			return c.code
		}
	}
	return t.byName[countryNameKey(country)]
}

// countryNameKey folds case and spacing of a country name.
func countryNameKey(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

type countryIndex struct {
	byCode    map[string]acledCountry
	byNumeric map[int]acledCountry
	byName    map[string]string // name key -> alpha-2
}

// countryTables parses isoCountries and countryAliases once.
var countryTables = sync.OnceValue(func() countryIndex {
	t := countryIndex{byCode: map[string]acledCountry{}, byNumeric: map[int]acledCountry{}, byName: map[string]string{}}
	for e := range strings.SplitSeq(isoCountries, "|") {
		e = strings.TrimSpace(e)
		if len(e) < 6 {
			continue
		}
		n, _ := strconv.Atoi(e[2:5])
		c := acledCountry{code: e[:2], numeric: n, name: e[5:]}
		t.byCode[c.code] = c
		t.byNumeric[n] = c
		t.byName[countryNameKey(c.name)] = c.code
	}
	for e := range strings.SplitSeq(countryAliases, "|") {
		if code, name, ok := strings.Cut(strings.TrimSpace(e), ":"); ok {
			t.byName[countryNameKey(name)] = code
		}
	}
	return t
})

// countryAliases are other names of countries found in ACLED files over
// the years and in ISO 3166-1 ("alpha-2:name", "|"-separated). ACLED's
// own spelling is the name in isoCountries.
const countryAliases = `CD:Democratic Republic of the Congo|CD:DR Congo|CD:Congo, Democratic Republic of|
CG:Congo|CG:Congo-Brazzaville|CI:Côte d'Ivoire|CI:Cote d'Ivoire|CZ:Czechia|SZ:Swaziland|SZ:Eswatini|
RU:Russian Federation|PS:Palestinian Territory|PS:State of Palestine|CV:Cape Verde|MK:Macedonia|
SY:Syrian Arab Republic|IR:Iran, Islamic Republic of|KR:Republic of Korea|KP:Democratic People's Republic of Korea|
LA:Lao People's Democratic Republic|MD:Republic of Moldova|TZ:United Republic of Tanzania|VN:Viet Nam|
BO:Bolivia, Plurinational State of|VE:Venezuela, Bolivarian Republic of|TR:Türkiye|TL:East Timor|
MM:Burma|GB:UK|US:USA|US:United States of America|VA:Holy See|FM:Micronesia, Federated States of|
BN:Brunei Darussalam|GM:The Gambia|BS:The Bahamas|BL:Saint-Barthelemy|MF:Saint-Martin|CW:Curacao|
RE:Reunion|AX:Aland Islands|BQ:Bonaire, Sint Eustatius and Saba|ST:São Tomé and Príncipe`

// isoCountries lists ISO 3166-1 countries as alpha-2, three-digit numeric
// code and short name (the common English name ACLED uses), "|"-separated.
// Source: ISO 3166-1 (as shipped by Debian's iso-codes); facts, not code.
const isoCountries = `AD020Andorra|AE784United Arab Emirates|AF004Afghanistan|AG028Antigua and Barbuda|
AI660Anguilla|AL008Albania|AM051Armenia|AO024Angola|AQ010Antarctica|AR032Argentina|
AS016American Samoa|AT040Austria|AU036Australia|AW533Aruba|AX248Åland Islands|
AZ031Azerbaijan|BA070Bosnia and Herzegovina|BB052Barbados|BD050Bangladesh|BE056Belgium|
BF854Burkina Faso|BG100Bulgaria|BH048Bahrain|BI108Burundi|BJ204Benin|
BL652Saint Barthélemy|BM060Bermuda|BN096Brunei|BO068Bolivia|BQ535Caribbean Netherlands|
BR076Brazil|BS044Bahamas|BT064Bhutan|BV074Bouvet Island|BW072Botswana|BY112Belarus|
BZ084Belize|CA124Canada|CC166Cocos Islands|CD180Democratic Republic of Congo|
CF140Central African Republic|CG178Republic of Congo|CH756Switzerland|CI384Ivory Coast|
CK184Cook Islands|CL152Chile|CM120Cameroon|CN156China|CO170Colombia|CR188Costa Rica|
CU192Cuba|CV132Cabo Verde|CW531Curaçao|CX162Christmas Island|CY196Cyprus|
CZ203Czech Republic|DE276Germany|DJ262Djibouti|DK208Denmark|DM212Dominica|
DO214Dominican Republic|DZ012Algeria|EC218Ecuador|EE233Estonia|EG818Egypt|
EH732Western Sahara|ER232Eritrea|ES724Spain|ET231Ethiopia|FI246Finland|FJ242Fiji|
FK238Falkland Islands|FM583Micronesia|FO234Faroe Islands|FR250France|GA266Gabon|
GB826United Kingdom|GD308Grenada|GE268Georgia|GF254French Guiana|GG831Guernsey|GH288Ghana|
GI292Gibraltar|GL304Greenland|GM270Gambia|GN324Guinea|GP312Guadeloupe|
GQ226Equatorial Guinea|GR300Greece|GS239South Georgia and the South Sandwich Islands|
GT320Guatemala|GU316Guam|GW624Guinea-Bissau|GY328Guyana|HK344Hong Kong|
HM334Heard Island and McDonald Islands|HN340Honduras|HR191Croatia|HT332Haiti|HU348Hungary|
ID360Indonesia|IE372Ireland|IL376Israel|IM833Isle of Man|IN356India|
IO086British Indian Ocean Territory|IQ368Iraq|IR364Iran|IS352Iceland|IT380Italy|
JE832Jersey|JM388Jamaica|JO400Jordan|JP392Japan|KE404Kenya|KG417Kyrgyzstan|KH116Cambodia|
KI296Kiribati|KM174Comoros|KN659Saint Kitts and Nevis|KP408North Korea|KR410South Korea|
KW414Kuwait|KY136Cayman Islands|KZ398Kazakhstan|LA418Laos|LB422Lebanon|LC662Saint Lucia|
LI438Liechtenstein|LK144Sri Lanka|LR430Liberia|LS426Lesotho|LT440Lithuania|
LU442Luxembourg|LV428Latvia|LY434Libya|MA504Morocco|MC492Monaco|MD498Moldova|
ME499Montenegro|MF663Saint Martin|MG450Madagascar|MH584Marshall Islands|
MK807North Macedonia|ML466Mali|MM104Myanmar|MN496Mongolia|MO446Macao|
MP580Northern Mariana Islands|MQ474Martinique|MR478Mauritania|MS500Montserrat|MT470Malta|
MU480Mauritius|MV462Maldives|MW454Malawi|MX484Mexico|MY458Malaysia|MZ508Mozambique|
NA516Namibia|NC540New Caledonia|NE562Niger|NF574Norfolk Island|NG566Nigeria|
NI558Nicaragua|NL528Netherlands|NO578Norway|NP524Nepal|NR520Nauru|NU570Niue|
NZ554New Zealand|OM512Oman|PA591Panama|PE604Peru|PF258French Polynesia|
PG598Papua New Guinea|PH608Philippines|PK586Pakistan|PL616Poland|
PM666Saint Pierre and Miquelon|PN612Pitcairn|PR630Puerto Rico|PS275Palestine|
PT620Portugal|PW585Palau|PY600Paraguay|QA634Qatar|RE638Réunion|RO642Romania|RS688Serbia|
RU643Russia|RW646Rwanda|SA682Saudi Arabia|SB090Solomon Islands|SC690Seychelles|SD729Sudan|
SE752Sweden|SG702Singapore|SH654Saint Helena|SI705Slovenia|SJ744Svalbard and Jan Mayen|
SK703Slovakia|SL694Sierra Leone|SM674San Marino|SN686Senegal|SO706Somalia|SR740Suriname|
SS728South Sudan|ST678Sao Tome and Principe|SV222El Salvador|SX534Sint Maarten|SY760Syria|
SZ748eSwatini|TC796Turks and Caicos Islands|TD148Chad|TF260French Southern Territories|
TG768Togo|TH764Thailand|TJ762Tajikistan|TK772Tokelau|TL626Timor-Leste|TM795Turkmenistan|
TN788Tunisia|TO776Tonga|TR792Turkey|TT780Trinidad and Tobago|TV798Tuvalu|TW158Taiwan|
TZ834Tanzania|UA804Ukraine|UG800Uganda|UM581United States Minor Outlying Islands|
US840United States|UY858Uruguay|UZ860Uzbekistan|VA336Vatican City|
VC670Saint Vincent and the Grenadines|VE862Venezuela|VG092British Virgin Islands|
VI850United States Virgin Islands|VN704Vietnam|VU548Vanuatu|WF876Wallis and Futuna|
WS882Samoa|YE887Yemen|YT175Mayotte|ZA710South Africa|ZM894Zambia|ZW716Zimbabwe`
