package geo_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

var sourceNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// Each invalid source is refused with a message naming its field and
// saying what is wrong; valid ones pass.
func TestSourceValidate(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		name      string
		src       geo.Source
		field     string // "" when valid
		msgHas    string
		wantValid bool
	}{
		{name: "publisher only", src: geo.Source{Publisher: "Reuters"}, wantValid: true},
		{name: "url only", src: geo.Source{URL: "https://example.org/a"}, wantValid: true},
		{name: "everything", src: geo.Source{URL: "https://example.org/a", Publisher: "Azatutyun", Title: "Shelling",
			PublishedAt: "2020-10-18T06:00:00+04:00", AccessedAt: "2020-10-19", ArchiveURL: "https://web.archive.org/web/2020/x",
			SHA256: hash, Kind: geo.SourceMedia}, wantValid: true},
		{name: "nothing", src: geo.Source{Title: "x"}, field: "sources[0]", msgHas: "publisher or a url"},
		{name: "javascript url", src: geo.Source{URL: "javascript:alert(1)"}, field: "sources[0].url", msgHas: "not an absolute URL"},
		{name: "ftp url", src: geo.Source{URL: "ftp://example.org/a"}, field: "sources[0].url", msgHas: "only http and https"},
		{name: "long url", src: geo.Source{URL: "https://example.org/" + strings.Repeat("a", geo.MaxURLLen)}, field: "sources[0].url", msgHas: "too long"},
		{name: "data archive", src: geo.Source{Publisher: "x", ArchiveURL: "data:text/html,hi"}, field: "sources[0].archive_url", msgHas: "not an absolute URL"},
		{name: "bad kind", src: geo.Source{Publisher: "x", Kind: "rumour"}, field: "sources[0].kind", msgHas: "unknown kind \"rumour\": want one of official_statement"},
		{name: "short sha", src: geo.Source{Publisher: "x", ArchiveURL: "https://a.example/x", SHA256: "abc"}, field: "sources[0].sha256", msgHas: "64 lower-case hexadecimal"},
		{name: "upper sha", src: geo.Source{Publisher: "x", ArchiveURL: "https://a.example/x", SHA256: strings.ToUpper(hash)}, field: "sources[0].sha256", msgHas: "64 lower-case hexadecimal"},
		{name: "sha without archive", src: geo.Source{Publisher: "x", SHA256: hash}, field: "sources[0].sha256", msgHas: "archive_url"},
		{name: "bad date", src: geo.Source{Publisher: "x", PublishedAt: "18/10/2020"}, field: "sources[0].published_at", msgHas: "YYYY-MM-DD"},
		{name: "future date", src: geo.Source{Publisher: "x", PublishedAt: "2027-01-01"}, field: "sources[0].published_at", msgHas: "between 1900 and now"},
		{name: "bad accessed", src: geo.Source{Publisher: "x", AccessedAt: "yesterday"}, field: "sources[0].accessed_at", msgHas: "RFC 3339"},
		{name: "long publisher", src: geo.Source{Publisher: strings.Repeat("p", geo.MaxSourcePublisher+1)}, field: "sources[0].publisher", msgHas: "at most 300"},
		{name: "control title", src: geo.Source{Publisher: "x", Title: "a\x00b"}, field: "sources[0].title", msgHas: "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &geo.ValidationError{}
			geo.ValidateSources(v, "sources", []geo.Source{tt.src}, sourceNow)
			if tt.wantValid {
				if err := v.Err(); err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if len(v.Errors) != 1 {
				t.Fatalf("got errors %+v, want one for %s", v.Errors, tt.field)
			}
			if e := v.Errors[0]; e.Field != tt.field || !strings.Contains(e.Message, tt.msgHas) {
				t.Errorf("got %s: %q, want %s: …%s…", e.Field, e.Message, tt.field, tt.msgHas)
			}
		})
	}
	v := &geo.ValidationError{}
	geo.ValidateSources(v, "sources", make([]geo.Source, geo.MaxSources+1), sourceNow)
	if len(v.Errors) != 1 || v.Errors[0].Field != "sources" {
		t.Errorf("got %+v for %d sources, want one error on sources", v.Errors, geo.MaxSources+1)
	}
}

// The first shape {name, url, date} still reads, as publisher and
// published_at; giving both names of one field is refused.
func TestSourceUnmarshalOldShape(t *testing.T) {
	tests := []struct {
		in   string
		want geo.Source
		err  string
	}{
		{in: `{"name":"Reuters","url":"https://example.org/r","date":"2020-10-18"}`,
			want: geo.Source{Publisher: "Reuters", URL: "https://example.org/r", PublishedAt: "2020-10-18"}},
		{in: `{"publisher":"Reuters","published_at":"2020-10-18","kind":"media","sha256":"x","archive_url":"https://a","title":"t","accessed_at":"2020-10-19"}`,
			want: geo.Source{Publisher: "Reuters", PublishedAt: "2020-10-18", Kind: "media", SHA256: "x", ArchiveURL: "https://a", Title: "t", AccessedAt: "2020-10-19"}},
		{in: `{"name":"Reuters","publisher":"Reuters"}`, want: geo.Source{Publisher: "Reuters"}},
		{in: `{"name":"Reuters","publisher":"AP"}`, err: "both publisher and name"},
		{in: `{"date":"2020-10-18","published_at":"2020-10-19"}`, err: "both published_at and date"},
	}
	for _, tt := range tests {
		var got geo.Source
		err := json.Unmarshal([]byte(tt.in), &got)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got error %v, want …%s…", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	out, err := json.Marshal(geo.Source{Publisher: "Reuters", PublishedAt: "2020-10-18"})
	if err != nil || string(out) != `{"publisher":"Reuters","published_at":"2020-10-18"}` {
		t.Errorf("marshal: got %s, %v; want the new shape only", out, err)
	}
}

// Independent sources are distinct publishers: wire copies of one agency
// count once, whatever their case and spacing; a source without a
// publisher counts as its URL's host; the report an incident was verified
// from counts once, listed or not.
func TestIndependentSources(t *testing.T) {
	report := int64(12)
	tests := []struct {
		name     string
		sources  []geo.Source
		reportID *int64
		want     int
	}{
		{name: "none", want: 0},
		{name: "one", sources: []geo.Source{{Publisher: "Reuters"}}, want: 1},
		{name: "two wire copies", sources: []geo.Source{
			{Publisher: "Reuters", URL: "https://reuters.com/a"}, {Publisher: "Reuters", URL: "https://reuters.com/b"}}, want: 1},
		{name: "case and space variants", sources: []geo.Source{
			{Publisher: "Armenian Ministry of Defence"}, {Publisher: "  armenian  ministry\tof DEFENCE "},
			{Publisher: "Armenian\u00a0Ministry of Defence"}}, want: 1},
		{name: "two publishers", sources: []geo.Source{{Publisher: "Armenian Ministry of Defence"}, {Publisher: "Azatutyun"}}, want: 2},
		{name: "non-ASCII case", sources: []geo.Source{{Publisher: "АЗАТУТЮН"}, {Publisher: "Азатутюн"}}, want: 1},
		{name: "url host", sources: []geo.Source{{URL: "https://www.Example.org/a"}, {URL: "http://example.org/b?x=1"}}, want: 1},
		{name: "url hosts differ", sources: []geo.Source{{URL: "https://example.org/a"}, {URL: "https://example.com/a"}}, want: 2},
		{name: "publisher and host are different keys", sources: []geo.Source{{Publisher: "Reuters"}, {URL: "https://reuters.com/a"}}, want: 2},
		{name: "a link to a counted publisher's site", sources: []geo.Source{
			{Publisher: "Reuters", URL: "https://www.reuters.com/a"}, {URL: "https://reuters.com/a"}}, want: 1},
		{name: "a link to another site", sources: []geo.Source{
			{Publisher: "Reuters", URL: "https://www.reuters.com/a"}, {URL: "https://apnews.com/a"}}, want: 2},
		{name: "nothing to count", sources: []geo.Source{{Title: "untitled"}, {Publisher: "   "}}, want: 0},
		{name: "report alone", reportID: &report, want: 1},
		{name: "report listed counts once", sources: []geo.Source{{Publisher: geo.ReportSourcePublisher(12)}}, reportID: &report, want: 1},
		{name: "report and another", sources: []geo.Source{{Publisher: geo.ReportSourcePublisher(12)}, {URL: "https://t.me/x/1"}}, reportID: &report, want: 2},
		{name: "merged report counts", sources: []geo.Source{{Publisher: geo.ReportSourcePublisher(13)}, {Publisher: "Reuters"}}, reportID: &report, want: 3},
	}
	for _, tt := range tests {
		if got := geo.IndependentSources(tt.sources, tt.reportID); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

// min_sources is a whole number in [0, MaxMinSources].
func TestParseMinSources(t *testing.T) {
	for _, s := range []string{"-1", "x", "1.5", "+2", "102", "99999999999999999999"} {
		if _, err := geo.ParseMinSources(s); !errors.Is(err, geo.ErrInvalid) {
			t.Errorf("ParseMinSources(%q): got %v, want ErrInvalid", s, err)
		}
	}
	for s, want := range map[string]int{"0": 0, "2": 2, "101": 101} {
		if got, err := geo.ParseMinSources(s); err != nil || got != want {
			t.Errorf("ParseMinSources(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
}

// reported is a status of its own, shown by default; retracted is not.
func TestReportedStatus(t *testing.T) {
	q, err := geo.ParseIncidentQuery(map[string][]string{"status": {"Reported"}})
	if err != nil || len(q.Statuses) != 1 || q.Statuses[0] != geo.StatusReported {
		t.Fatalf("status=Reported: got %v, %v; want [reported]", q.Statuses, err)
	}
	want := []string{"verified", "disputed", "reported"}
	if strings.Join(geo.DefaultStatuses(), ",") != strings.Join(want, ",") {
		t.Errorf("DefaultStatuses = %v, want %v", geo.DefaultStatuses(), want)
	}
	s := geo.StatusReported
	if err := (&geo.IncidentPatch{Status: &s}).Validate(sourceNow, ""); err != nil {
		t.Errorf("patch to reported: got %v, want valid", err)
	}
	bad := "rumoured"
	err = (&geo.IncidentPatch{Status: &bad}).Validate(sourceNow, "")
	if err == nil || !strings.Contains(err.Error(), "want one of verified, disputed, retracted, reported") {
		t.Errorf("patch to rumoured: got %v, want the list of statuses", err)
	}
}
