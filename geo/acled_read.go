package geo

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Bounds of the rows an ACLEDReader holds back while the day/month order
// of the file's numeric dates is unknown.
const (
	maxHeldRows  = 20_000
	maxHeldBytes = 32 << 20
)

// ACLEDReader reads an ACLED CSV file of any era one record at a time:
// the current export, 2019-2023 exports (data_id, iso3, ...), pre-2019
// exports in capitals (GWNO, ALLY_ACTOR_1, pre-2019 event types), and
// files re-saved by spreadsheets or pandas (an index column, "1.0" for
// 1, "nan" for missing values). The header is matched by name
// (case-insensitive, trimmed, byte order mark ignored). Every column is
// kept: in the incident's fields, and in SourceRecord where the fields do
// not give back the cell (see canonicalCell). A cell starting with "'"
// before a formula character is read without the "'" that an export adds
// (see NeutraliseCell).
//
// Numeric dates (5/9/2020) are read in the order the file's other dates
// prove (a day above 12): rows whose date is ambiguous are held back,
// with every row after them so the order of rows is kept, until a date
// settles it or the bound (maxHeldRows, maxHeldBytes) or the end of the
// file is reached; then they are errors naming the ambiguity.
type ACLEDReader struct {
	csv     *csv.Reader
	header  []string            // normalised column names
	cols    [numACLEDFields]int // index of each field's column, -1 if absent
	skip    []bool              // columns not kept: derived columns of incidentmap's own export
	first   []bool              // columns read into the fields
	dataset string

	order     DateOrder
	maxRows   int // bounds of held rows (maxHeldRows, maxHeldBytes)
	maxBytes  int
	held      []heldRow
	heldBytes int
	lastLine  int
	eof       bool
}

// heldRow is a row read but not returned yet.
type heldRow struct {
	row     IncidentRow
	rec     []string // pending only: the record, to build again
	pending bool     // its date needs the file's order
	size    int
}

// The fields an ACLEDReader reads, indexing ACLEDReader.cols.
const (
	aEventID = iota
	aEventDate
	aYear
	aOccurredAt
	aTimePrecision
	aEventType
	aSubEventType
	aActor1
	aActor2
	aFatalities
	aTitle
	aNotes
	aLocation
	aAdmin1
	aAdmin2
	aAdmin3
	aCountry
	aISO
	aLatitude
	aLongitude
	aGeoPrecision
	aSource
	aSourcesJSON
	aStatus
	aDemo
	aInter1
	aInter2
	aInteraction
	numACLEDFields
)

var acledFieldColumns = [numACLEDFields]string{
	aEventID: "event_id_cnty", aEventDate: "event_date", aYear: "year", aOccurredAt: "occurred_at",
	aTimePrecision: "time_precision", aEventType: "event_type", aSubEventType: "sub_event_type",
	aActor1: "actor1", aActor2: "actor2", aFatalities: "fatalities", aTitle: "title", aNotes: "notes",
	aLocation: "location", aAdmin1: "admin1", aAdmin2: "admin2", aAdmin3: "admin3", aCountry: "country",
	aISO: "iso", aLatitude: "latitude", aLongitude: "longitude", aGeoPrecision: "geo_precision",
	aSource: "source", aSourcesJSON: "sources_json", aStatus: "status", aDemo: "demo",
	aInter1: "inter1", aInter2: "inter2", aInteraction: "interaction",
}

// NewACLEDReader reads the header of an ACLED CSV file from r. A header
// that lacks required columns (all of them are listed) or names a column
// twice is a *HeaderError. A file with incidentmap's own columns (status,
// title, ...; see IncidentmapColumns()) is incidentmap's export: its rows'
// SourceDataset is "incidentmap" and its derived columns are ignored;
// other files are "ACLED".
func NewACLEDReader(r io.Reader) (*ACLEDReader, error) {
	// A byte order mark goes before the CSV reader sees it: before a
	// quoted first name it would be a bare quote.
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &HeaderError{Missing: slices.Clone(acledRequiredColumns)}
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	ar := &ACLEDReader{csv: cr, header: make([]string, len(header)), skip: make([]bool, len(header)),
		first: make([]bool, len(header)), dataset: DatasetACLED,
		maxRows: maxHeldRows, maxBytes: maxHeldBytes}
	for i := range ar.cols {
		ar.cols[i] = -1
	}
	seen := map[string]bool{}
	herr := &HeaderError{}
	for i, raw := range header {
		// A column name is a key of the source record (jsonb): valid
		// UTF-8, no NUL.
		name := strings.ReplaceAll(strings.ToValidUTF8(normaliseColumn(raw), "\uFFFD"), "\x00", "")
		ar.header[i] = name
		if seen[name] {
			if name == "" {
				// Trailing empty columns of a spreadsheet: only the first
				// unnamed column (an index) is kept.
				ar.skip[i] = true
				continue
			}
			if !slices.Contains(herr.Duplicate, name) {
				herr.Duplicate = append(herr.Duplicate, name)
			}
		}
		seen[name] = true
		if f := slices.Index(acledFieldColumns[:], name); f >= 0 && ar.cols[f] < 0 {
			ar.cols[f] = i
		}
		ar.first[i] = slices.Contains(firstClassColumns, name)
		if slices.Contains(incidentmapColumns, name) || (name != "id" && slices.Contains(derivedColumns, name)) {
			ar.dataset = DatasetIncidentmap
		}
	}
	for _, name := range acledRequiredColumns {
		if !seen[name] {
			herr.Missing = append(herr.Missing, name)
		}
	}
	if len(herr.Missing) > 0 || len(herr.Duplicate) > 0 {
		return nil, herr
	}
	if ar.dataset == DatasetIncidentmap {
		for i, name := range ar.header {
			if name == "report_id" || slices.Contains(derivedColumns, name) {
				ar.skip[i] = true
			}
		}
	}
	return ar, nil
}

// ExternalIDColumn implements IncidentReader.
func (r *ACLEDReader) ExternalIDColumn() string { return "event_id_cnty" }

// DateOrder returns the day/month order of the file's numeric dates, as
// far as the rows read so far tell.
func (r *ACLEDReader) DateOrder() DateOrder { return r.order }

// Next implements IncidentReader. A record that CSV cannot parse (a stray
// quote) or that has a different number of fields than the header is an
// invalid row, and reading goes on with the next line.
func (r *ACLEDReader) Next() (IncidentRow, error) {
	for {
		if len(r.held) > 0 {
			h := r.held[0]
			over := len(r.held) > r.maxRows || r.heldBytes > r.maxBytes
			if !h.pending || r.order != DateOrderUnknown || r.eof || over {
				r.held[0] = heldRow{}
				r.held = r.held[1:]
				r.heldBytes -= h.size
				if h.pending {
					h.row = r.parse(h.rec, h.row.Line, true)
				}
				return h.row, nil
			}
		}
		if r.eof {
			return IncidentRow{}, io.EOF
		}
		row, rec, pending, err := r.read()
		if errors.Is(err, io.EOF) {
			r.eof = true
			continue
		}
		if err != nil {
			return IncidentRow{}, err
		}
		if len(r.held) == 0 && !pending {
			return row, nil
		}
		h := heldRow{row: row, pending: pending}
		if pending {
			h.rec = slices.Clone(rec)
		}
		for _, s := range rec {
			h.size += len(s) + 16
		}
		r.held = append(r.held, h)
		r.heldBytes += h.size
	}
}

// read reads and builds the next record. pending reports a row whose
// date needs the file's order; rec is then its record (reused by the
// next read).
func (r *ACLEDReader) read() (row IncidentRow, rec []string, pending bool, err error) {
	rec, err = r.csv.Read()
	if err != nil {
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			r.lastLine = perr.Line
			return IncidentRow{Line: perr.StartLine, Errors: []RowError{{Line: perr.StartLine, Kind: KindMalformedCSV,
				Reason: "malformed CSV: " + perr.Err.Error()}}}, nil, false, nil
		}
		return IncidentRow{}, nil, false, err
	}
	line, _ := r.csv.FieldPos(0)
	r.lastLine, _ = r.csv.FieldPos(len(rec) - 1)
	if len(rec) != len(r.header) {
		return IncidentRow{Line: line, Errors: []RowError{{Line: line, Kind: KindFieldCount,
			Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(r.header))}}}, nil, false, nil
	}
	b := r.builder(line, false)
	row = r.build(&b, rec)
	if b.pending {
		return row, rec, true, nil
	}
	if r.order == DateOrderUnknown && b.evidence != DateOrderUnknown {
		r.order = b.evidence
	}
	return row, nil, false, nil
}

// parse builds rec again once the file's order is known or can no longer
// be.
func (r *ACLEDReader) parse(rec []string, line int, final bool) IncidentRow {
	b := r.builder(line, final)
	return r.build(&b, rec)
}

func (r *ACLEDReader) builder(line int, final bool) rowBuilder {
	return rowBuilder{line: line, order: r.order, final: final, lookedTo: r.lastLine}
}

// build builds the incident of one record.
func (r *ACLEDReader) build(b *rowBuilder, rec []string) IncidentRow {
	get := func(f int) string {
		if i := r.cols[f]; i >= 0 && i < len(rec) {
			if v := UnneutraliseCell(rec[i]); !isNullCell(v) {
				return v
			}
		}
		return ""
	}
	f := incidentFields{
		externalID: get(aEventID), date: get(aEventDate), year: get(aYear), occurredAt: get(aOccurredAt),
		timePrecision: get(aTimePrecision), eventType: get(aEventType), subEventType: get(aSubEventType),
		actor1: get(aActor1), actor2: get(aActor2), fatalities: get(aFatalities), title: get(aTitle),
		notes: get(aNotes), location: get(aLocation), admin1: get(aAdmin1), admin2: get(aAdmin2),
		admin3: get(aAdmin3), country: get(aCountry), iso: get(aISO), lat: get(aLatitude),
		lon: get(aLongitude), geoPrecision: get(aGeoPrecision), source: get(aSource),
		sourcesJSON: get(aSourcesJSON), status: get(aStatus), demo: get(aDemo),
		inter: interCodes(get(aInter1), get(aInter2), get(aInteraction)),
	}
	inc := b.build(f, acledNames)
	inc.SourceDataset = r.dataset
	if len(b.errs) == 0 && !b.pending {
		r.keepSource(&inc, rec)
		for k, v := range inc.SourceRecord {
			// jsonb holds valid UTF-8 without NUL only.
			b.text(k, v, 0)
		}
		if len(b.errs) > 0 {
			slices.SortFunc(b.errs, func(a, c RowError) int { return strings.Compare(a.Column, c.Column) })
			inc.SourceRecord = nil
		}
	}
	return IncidentRow{Line: b.line, Incident: inc, Errors: b.errs}
}

// keepSource fills inc.SourceRecord: every column without a field of its
// own, then every field's column whose text differs from the writer's
// rendering of the field.
func (r *ACLEDReader) keepSource(inc *Incident, rec []string) {
	var m map[string]string
	put := func(k, v string) {
		if m == nil {
			m = make(map[string]string, 8)
		}
		m[k] = v
	}
	for i, name := range r.header {
		if !r.skip[i] && !r.first[i] {
			if v := UnneutraliseCell(rec[i]); v != "" {
				put(name, v)
			}
		}
	}
	inc.SourceRecord = m // the legacy type's rendering reads inter codes from it
	for i, name := range r.header {
		if r.first[i] && !r.skip[i] {
			if v := UnneutraliseCell(rec[i]); v != canonicalCell(inc, name) {
				put(name, v)
			}
		}
	}
	inc.SourceRecord = m
}
