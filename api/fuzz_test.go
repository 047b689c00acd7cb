package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/incidentmap/incidentmap/geo"
)

// FuzzReportJSON: the strict report decoder never panics, refuses what
// encoding/json would alter, and whatever it accepts holds only valid,
// NUL-free text that survives a JSON round trip unchanged.
func FuzzReportJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[47.03,39.4]},"properties":{"occurred_at":"2020-10-18T04:30:00+04:00","event_type":"Explosions/Remote violence","description":"Mortar fire","contact":"x"}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[47.03,39.4]},"properties":{"description":"\ud83d\udca5 \ud800"}}`,
		`{"type":"Feature","type":"Feature"}`, `[[[[[[[[[[]]]]]]]]]]`, `{"type":`, `NaN`, "\xef\xbb\xbf{}",
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1e999,0]},"properties":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, _, err := readJSONReport(bytes.NewReader(body))
		if err != nil {
			var malformed *MalformedBodyError
			var invalid *geo.ValidationError
			if !errors.As(err, &malformed) && !errors.As(err, &invalid) && !strings.Contains(err.Error(), "413") {
				t.Fatalf("error of an unexpected kind: %T %v", err, err)
			}
			return
		}
		for _, s := range []string{r.Description, r.LocationName, r.Contact, r.EventType, r.SubEventType} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("accepted text %q is not valid NUL-free UTF-8", s)
			}
			if strings.ContainsRune(s, utf8.RuneError) && !bytes.Contains(body, []byte("\uFFFD")) && !bytes.Contains(body, []byte(`\ufffd`)) && !bytes.Contains(body, []byte(`\uFFFD`)) {
				t.Fatalf("text %q gained U+FFFD the body did not hold", s)
			}
		}
	})
}

// FuzzGeoJSONGeometry: the report geometry decoder never panics and only
// lets through a Point with finite lon/lat in range.
func FuzzGeoJSONGeometry(f *testing.F) {
	for _, s := range []string{`{"type":"Point","coordinates":[47.03,39.4]}`, `{"type":"Point","coordinates":[47.03]}`,
		`{"type":"Point","coordinates":[-180,90,5]}`, `{"type":"LineString","coordinates":[[0,0],[1,1]]}`,
		`{"type":"Point","coordinates":["47","39"]}`, `{"type":"Point","coordinates":[1e308,-1e-308]}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, geometry []byte) {
		if !json.Valid(geometry) {
			return
		}
		body := `{"type":"Feature","geometry":` + string(geometry) + `,"properties":{"occurred_at":"2020-10-18T04:30:00Z","event_type":"Battles","description":"x"}}`
		r, _, err := readJSONReport(strings.NewReader(body))
		if err != nil || r.Validate(time.Now()) != nil {
			return
		}
		lon, lat := r.Point.Lon(), r.Point.Lat()
		if !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) {
			t.Fatalf("accepted point %v out of range from %s", r.Point, geometry)
		}
	})
}

// FuzzBearerToken: the Authorization parser never panics and yields only
// bounded token68 strings.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer abc-_.~+/==", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer  a b", "Bearer \x00", "BEARER " + strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := bearerToken(header)
		if !ok {
			return
		}
		if token == "" || len(token) > maxTokenLen || strings.ContainsAny(token, " \t\r\n\x00\"") {
			t.Fatalf("bearerToken(%q) = %q", header, token)
		}
	})
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{"Bearer abcDEF123", "abcDEF123", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer abc==", "abc==", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"Bearer a b", "", false},
		{"Bearer ===", "", false},
		{"Bearer a=b", "", false},
		{"Bearer " + strings.Repeat("a", 201), "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
