package geo

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Source kinds: what sort of evidence a source is.
const (
	SourceOfficialStatement = "official_statement"
	SourceMedia             = "media"
	SourceNGO               = "ngo"
	SourceSocialMedia       = "social_media"
	SourceEyewitnessReport  = "eyewitness_report"
	SourceDataset           = "dataset"
)

// sourceKinds lists every valid Source.Kind (besides empty: not known).
var sourceKinds = []string{SourceOfficialStatement, SourceMedia, SourceNGO, SourceSocialMedia, SourceEyewitnessReport, SourceDataset}

// Limits of a source.
const (
	MaxSources          = 100 // sources of one incident
	MaxSourcePublisher  = 300 // characters
	MaxSourceTitle      = 500 // characters
	minSourceYear       = 1900
	sourceTimeFutureMax = 24 * time.Hour // clock skew and time zones
)

// Source is one piece of evidence an incident rests on: a statement, an
// article, a post, a report or a data set. Every field is optional, but a
// source names at least a publisher or a URL. PublishedAt is only set when
// the source says when it was published: never invented. Archived copies
// are a moderator's: ArchiveURL and the SHA256 of the copy there.
type Source struct {
	URL         string `json:"url,omitempty"`          // http or https
	Publisher   string `json:"publisher,omitempty"`    // who published it, e.g. "Reuters", "Armenian Ministry of Defence"
	Title       string `json:"title,omitempty"`        // headline or title as published
	PublishedAt string `json:"published_at,omitempty"` // YYYY-MM-DD or RFC 3339 date-time, when known
	AccessedAt  string `json:"accessed_at,omitempty"`  // when it was read, YYYY-MM-DD or RFC 3339
	ArchiveURL  string `json:"archive_url,omitempty"`  // an archived copy (http or https)
	SHA256      string `json:"sha256,omitempty"`       // of the archived copy: 64 lower-case hex digits
	Kind        string `json:"kind,omitempty"`         // one of SourceKinds(), or empty when not known
}

// sourceJSON is Source as read: the first shape's name and date are
// accepted as publisher and published_at.
type sourceJSON struct {
	URL         string `json:"url"`
	Publisher   string `json:"publisher"`
	Name        string `json:"name"`
	Title       string `json:"title"`
	PublishedAt string `json:"published_at"`
	Date        string `json:"date"`
	AccessedAt  string `json:"accessed_at"`
	ArchiveURL  string `json:"archive_url"`
	SHA256      string `json:"sha256"`
	Kind        string `json:"kind"`
}

// UnmarshalJSON reads a source, also in its first shape {name, url, date}:
// name is the publisher and date the publication date. Giving both names
// of a field with different values is an error.
func (s *Source) UnmarshalJSON(b []byte) error {
	var in sourceJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	pick := func(field, alias, a, b string) (string, error) {
		switch {
		case a == "":
			return b, nil
		case b != "" && a != b:
			return "", fmt.Errorf("source gives both %s and %s (%s is its old name): give one", field, alias, alias)
		}
		return a, nil
	}
	publisher, err := pick("publisher", "name", in.Publisher, in.Name)
	if err != nil {
		return err
	}
	published, err := pick("published_at", "date", in.PublishedAt, in.Date)
	if err != nil {
		return err
	}
	*s = Source{URL: in.URL, Publisher: publisher, Title: in.Title, PublishedAt: published, AccessedAt: in.AccessedAt,
		ArchiveURL: in.ArchiveURL, SHA256: in.SHA256, Kind: in.Kind}
	return nil
}

var sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate adds what is wrong with s to v, naming fields under field
// (e.g. "sources[2]"). now bounds the dates.
func (s Source) Validate(v *ValidationError, field string, now time.Time) {
	if strings.TrimSpace(s.Publisher) == "" && s.URL == "" {
		v.Add(field, "a source needs a publisher or a url")
	}
	if s.URL != "" {
		if msg := checkURL(s.URL); msg != "" {
			v.Add(field+".url", "%s", msg)
		}
	}
	if s.ArchiveURL != "" {
		if msg := checkURL(s.ArchiveURL); msg != "" {
			v.Add(field+".archive_url", "%s", msg)
		}
	}
	validateText(v, field+".publisher", s.Publisher, 0, MaxSourcePublisher)
	validateText(v, field+".title", s.Title, 0, MaxSourceTitle)
	for _, f := range [...][2]string{{"published_at", s.PublishedAt}, {"accessed_at", s.AccessedAt}} {
		if f[1] != "" {
			if msg := checkSourceTime(f[1], now); msg != "" {
				v.Add(field+"."+f[0], "%s", msg)
			}
		}
	}
	if s.SHA256 != "" {
		switch {
		case !sha256Re.MatchString(s.SHA256):
			v.Add(field+".sha256", "want 64 lower-case hexadecimal digits (a SHA-256 digest), got %s", quoteShort(s.SHA256))
		case s.ArchiveURL == "":
			v.Add(field+".sha256", "is the digest of an archived copy: give its archive_url too")
		}
	}
	if s.Kind != "" && !slices.Contains(sourceKinds, s.Kind) {
		v.Add(field+".kind", "unknown kind %s: want one of %s", quoteShort(s.Kind), strings.Join(sourceKinds, ", "))
	}
}

// checkSourceTime returns why t is not a date (YYYY-MM-DD) or RFC 3339
// date-time between 1900 and now, or "".
func checkSourceTime(t string, now time.Time) string {
	var (
		at  time.Time
		err error
	)
	if len(t) == len(time.DateOnly) {
		at, err = time.Parse(time.DateOnly, t)
	} else {
		at, err = time.Parse(time.RFC3339, t)
	}
	if err != nil {
		return fmt.Sprintf("want a date YYYY-MM-DD or an RFC 3339 date-time, got %s", quoteShort(t))
	}
	if at.Year() < minSourceYear || at.After(now.Add(sourceTimeFutureMax)) {
		return "must lie between 1900 and now"
	}
	return ""
}

// ValidateSources checks a list of sources, naming them field[i].
func ValidateSources(v *ValidationError, field string, list []Source, now time.Time) {
	if len(list) > MaxSources {
		v.Add(field, "%d sources, at most %d allowed", len(list), MaxSources)
		return
	}
	for i, s := range list {
		s.Validate(v, field+"["+strconv.Itoa(i)+"]", now)
	}
}

// ReportSourcePublisher is the publisher of the source a verified report
// becomes ("incidentmap report 12"). An incident built from a report
// counts that report once as its own source, whether or not this source
// is still listed.
func ReportSourcePublisher(reportID int64) string {
	return "incidentmap report " + strconv.FormatInt(reportID, 10)
}

// urlHostRe reads the host of an http(s) URL (after lower-casing, less a
// leading "www."). migrations/00013_evidence.sql uses the same pattern.
var urlHostRe = regexp.MustCompile(`^https?://(?:[^@/?#]*@)?(?:www\.)?([^:/?#]+)`)

// publisherName is the publisher in the form publishers are compared in:
// lower-cased, its runs of white space made one space, trimmed (SQL
// im_publisher_name).
func (s Source) publisherName() string { return normalizePublisher(s.Publisher) }

// host is the host of the source's http(s) URL, lower-cased, less "www.";
// "" when none (SQL im_source_host).
func (s Source) host() string {
	if m := urlHostRe.FindStringSubmatch(strings.ToLower(s.URL)); m != nil {
		return m[1]
	}
	return ""
}

// PublisherKey is the form a source's publisher is compared in when
// counting independent sources: the publisher lower-cased with its runs of
// white space made one space and trimmed; a source without a publisher is
// its URL's host ("www." dropped); "" when it has neither. The SQL
// function im_publisher_key (migration 00013) computes the same.
func (s Source) PublisherKey() string {
	if k := s.publisherName(); k != "" {
		return k
	}
	return s.host()
}

// normalizePublisher lower-cases name and collapses its white space.
func normalizePublisher(name string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(name, unicode.IsSpace), " "))
}

// IndependentSources counts the distinct publishers among sources (two
// wire copies of one agency count once). A source without a publisher
// counts as its URL's host, unless a source with a publisher has that
// host: the same site, counted already. The report the incident was
// verified from (reportID, nil when none) counts as a source of its own,
// unless its source is listed already. The store keeps the same count in
// the generated column incidents.independent_sources.
func IndependentSources(sources []Source, reportID *int64) int {
	seen, publishedHosts := map[string]bool{}, map[string]bool{}
	for _, s := range sources {
		if name := s.publisherName(); name != "" {
			seen[name] = true
			if h := s.host(); h != "" {
				publishedHosts[h] = true
			}
		}
	}
	for _, s := range sources {
		if h := s.host(); s.publisherName() == "" && h != "" && !publishedHosts[h] {
			seen[h] = true
		}
	}
	if reportID != nil {
		seen[normalizePublisher(ReportSourcePublisher(*reportID))] = true
	}
	return len(seen)
}

// MaxMinSources bounds min_sources (no incident has more sources).
const MaxMinSources = MaxSources + 1

// ParseMinSources parses min_sources: a whole number from 0 to
// MaxMinSources. Errors are *ParamError for "min_sources".
func ParseMinSources(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || !isASCIIDigits(s) {
		return 0, Invalidf("min_sources", "want a whole number of at least 0, got %s", quoteShort(s))
	}
	if n > MaxMinSources {
		return 0, Invalidf("min_sources", "at most %d, got %d", MaxMinSources, n)
	}
	return n, nil
}

// SourceKinds returns a copy of sourceKinds (see there).
func SourceKinds() []string { return slices.Clone(sourceKinds) }
